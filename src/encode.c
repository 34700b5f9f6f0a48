/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Encodes records as JSON lines (the contract in docs/events.md) and as the
 * aligned text view. Both read the same record; neither allocates beyond the
 * output buffer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "action.h"
#include "addr.h"
#include "clock.h"
#include "encode.h"
#include "json_writer.h"
#include "names.h"

static const char *record_type_name(enum pw_record_type type)
{
	switch (type) {
	case PW_REC_STATE:
		return "state";
	case PW_REC_BIND:
		return "bind";
	case PW_REC_LOSS:
		return "loss";
	case PW_REC_STATS:
		return "stats";
	case PW_REC_SNAPSHOT:
		return "snapshot";
	case PW_REC_ALERT:
		return "alert";
	}
	return NULL;
}

/* A record carries a socket event exactly when its type says so, and the
 * event must be of the kind the record type promises. */
static bool record_is_consistent(const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;

	if (!record_type_name(rec->type))
		return false;
	switch (rec->type) {
	case PW_REC_STATE:
		return ev && ev->type == PW_EVENT_STATE && pw_family_name(ev->family);
	case PW_REC_BIND:
		return ev && ev->type == PW_EVENT_BIND && pw_family_name(ev->family);
	case PW_REC_SNAPSHOT:
	case PW_REC_ALERT:
		return ev && pw_family_name(ev->family);
	default:
		return true;
	}
}

/* A socket found open at start-up, or the alert it raised. */
static bool record_is_snapshot(const struct pw_record *rec)
{
	return rec->type == PW_REC_SNAPSHOT || (rec->type == PW_REC_ALERT && rec->alert.existing);
}

static const char *record_action(const struct pw_record *rec)
{
	if (record_is_snapshot(rec))
		return pw_action_name(PW_ACTION_EXISTING);
	return pw_action_name(pw_action_of(rec->ev));
}

/* The state an event leaves the socket in is a close: the connection's life
 * and byte counts belong on it. */
static bool event_is_close(const struct pw_event *ev)
{
	return ev->type == PW_EVENT_STATE && ev->new_state == PW_TCP_CLOSE &&
	       ev->old_state != PW_TCP_LISTEN;
}

static void json_endpoint(struct pw_json *j, const char *key, const struct pw_event *ev,
			  const uint8_t addr[16], uint16_t port, const char *service, bool present)
{
	char ip[PW_ADDR_STRLEN];
	bool is_local = !strcmp(key, "local");

	pw_json_key(j, key);
	pw_json_object_begin(j);
	if (present && pw_addr_format(ev->family, addr, ip, sizeof(ip)) == 0) {
		pw_json_kv_string(j, "ip", ip);
		pw_json_kv_uint(j, "port", port);
		/* Port 0: not assigned yet (a connect before the kernel picks
		 * the ephemeral port), so no range and no service. */
		pw_json_kv_string(j, "category", port ? pw_port_category(port) : NULL);
		pw_json_kv_string(j, "service", port ? service : NULL);
		if (is_local)
			pw_json_kv_string(j, "scope", pw_addr_scope(ev->family, addr));
	} else {
		pw_json_kv_null(j, "ip");
		pw_json_kv_null(j, "port");
		pw_json_kv_null(j, "category");
		pw_json_kv_null(j, "service");
		if (is_local)
			pw_json_kv_null(j, "scope");
	}
	pw_json_object_end(j);
}

static void json_process(struct pw_json *j, const struct pw_record *rec)
{
	const struct pw_task *t = &rec->ev->owner;

	pw_json_key(j, "process");
	pw_json_object_begin(j);
	if (t->pid) {
		pw_json_kv_uint(j, "pid", t->pid);
		pw_json_kv_uint(j, "tid", t->tid);
		pw_json_kv_uint(j, "ppid", t->ppid);
		pw_json_kv_uint(j, "uid", t->uid);
		pw_json_kv_uint(j, "gid", t->gid);
		pw_json_key(j, "comm");
		pw_json_string_n(j, t->comm, sizeof(t->comm));
	} else {
		pw_json_kv_null(j, "pid");
		pw_json_kv_null(j, "tid");
		pw_json_kv_null(j, "ppid");
		pw_json_kv_null(j, "uid");
		pw_json_kv_null(j, "gid");
		pw_json_kv_null(j, "comm");
	}
	pw_json_kv_string(j, "user", rec->proc.user);
	pw_json_kv_string(j, "exe", rec->proc.exe);
	pw_json_kv_string(j, "cmdline", rec->proc.cmdline);
	pw_json_kv_string(j, "cgroup", rec->proc.cgroup);
	pw_json_kv_string(j, "container_id", rec->proc.container_id);
	if (t->cgroup_id)
		pw_json_kv_uint(j, "cgroup_id", t->cgroup_id);
	else
		pw_json_kv_null(j, "cgroup_id");
	pw_json_object_end(j);
}

static void json_tcp(struct pw_json *j, const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;

	pw_json_key(j, "tcp");
	pw_json_object_begin(j);
	if (record_is_snapshot(rec)) {
		pw_json_kv_string(j, "state", pw_tcp_state_name(ev->new_state));
	} else {
		pw_json_kv_string(j, "old_state", pw_tcp_state_name(ev->old_state));
		pw_json_kv_string(j, "new_state", pw_tcp_state_name(ev->new_state));
		pw_json_kv_uint(j, "prev_state_ns", ev->prev_state_ns);
		if (event_is_close(ev)) {
			pw_json_kv_uint(j, "duration_ns", ev->duration_ns);
			pw_json_kv_uint(j, "bytes_sent", ev->bytes_sent);
			pw_json_kv_uint(j, "bytes_received", ev->bytes_received);
		}
	}
	pw_json_object_end(j);
}

static void json_bind(struct pw_json *j, const struct pw_event *ev)
{
	pw_json_key(j, "bind");
	pw_json_object_begin(j);
	pw_json_kv_int(j, "errno", ev->bind_errno);
	pw_json_kv_string(j, "error", ev->bind_errno ? pw_errno_name(ev->bind_errno) : NULL);
	pw_json_kv_uint(j, "requested_port", ev->requested_port);
	pw_json_kv_bool(j, "reuseaddr", ev->bind_flags & PW_BIND_REUSEADDR);
	pw_json_kv_bool(j, "reuseport", ev->bind_flags & PW_BIND_REUSEPORT);
	pw_json_kv_bool(j, "freebind", ev->bind_flags & PW_BIND_FREEBIND);
	pw_json_kv_bool(j, "transparent", ev->bind_flags & PW_BIND_TRANSPARENT);
	pw_json_object_end(j);
}

/* The fields every socket event (state, bind, snapshot, alert) carries. */
static void json_socket_fields(struct pw_json *j, const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;
	bool has_remote = ev->dport != 0 || !pw_addr_is_unspecified(ev->family, ev->daddr);

	pw_json_kv_string(j, "action", record_action(rec));
	json_process(j, rec);
	pw_json_kv_string(j, "attribution", pw_attribution_name(ev->attribution));
	pw_json_kv_string(j, "transport", pw_transport_name(ev->protocol));
	pw_json_kv_string(j, "family", pw_family_name(ev->family));
	json_endpoint(j, "local", ev, ev->saddr, ev->sport, rec->local_service, true);
	json_endpoint(j, "remote", ev, ev->daddr, ev->dport, rec->remote_service, has_remote);
	pw_json_kv_string(j, "direction", pw_direction_name(ev->direction));
	pw_json_kv_uint(j, "netns", ev->netns);
	if (ev->sock_cookie)
		pw_json_kv_uint(j, "sock_cookie", ev->sock_cookie);
	else
		pw_json_kv_null(j, "sock_cookie");
	pw_json_kv_string(j, "hook", record_is_snapshot(rec) ? "sock_diag" : pw_hook_name(ev->hook));
	if (ev->type == PW_EVENT_STATE && ev->protocol == IPPROTO_TCP)
		json_tcp(j, rec);
	if (ev->type == PW_EVENT_BIND)
		json_bind(j, ev);
}

int pw_encode_json(struct pw_buf *out, const struct pw_record *rec)
{
	size_t start = out->len;
	char time[PW_RFC3339_LEN];
	struct pw_json j;
	int err;

	if (!record_is_consistent(rec))
		return -EINVAL;
	if (pw_format_rfc3339(rec->time_ns, time, sizeof(time)))
		return -EINVAL;

	pw_json_init(&j, out);
	pw_json_object_begin(&j);
	pw_json_kv_uint(&j, "schema_version", PW_SCHEMA_VERSION);
	pw_json_kv_uint(&j, "seq", rec->seq);
	pw_json_kv_string(&j, "time", time);
	pw_json_kv_string(&j, "host", rec->host);
	pw_json_kv_string(&j, "type", record_type_name(rec->type));
	switch (rec->type) {
	case PW_REC_LOSS:
		pw_json_kv_uint(&j, "lost", rec->loss.lost);
		pw_json_kv_string(&j, "reason", rec->loss.reason);
		break;
	case PW_REC_STATS:
		pw_json_kv_uint(&j, "events", rec->stats.events);
		pw_json_kv_uint(&j, "lost", rec->stats.lost);
		pw_json_kv_uint(&j, "filtered", rec->stats.filtered);
		break;
	case PW_REC_ALERT:
		pw_json_kv_string(&j, "rule", rec->alert.rule);
		pw_json_kv_string(&j, "reason", rec->alert.reason);
		json_socket_fields(&j, rec);
		break;
	default:
		json_socket_fields(&j, rec);
		break;
	}
	pw_json_object_end(&j);
	err = pw_json_status(&j);
	if (!err)
		err = pw_buf_putc(out, '\n');
	if (err && !out->failed) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return err;
}

/* Text view ------------------------------------------------------------- */

#define COLOR_RESET "\033[0m"
#define COLOR_DIM "\033[2m"
#define COLOR_RED "\033[31m"
#define COLOR_GREEN "\033[32m"
#define COLOR_YELLOW "\033[33m"
#define COLOR_CYAN "\033[36m"
#define COLOR_BOLD_RED "\033[1;31m"

/* Width of the columns, chosen for common values (comm is at most 15). */
#define TEXT_HEADER_FMT "%-12s %-14s %7s %-15s %-5s %-30s %-30s %s"
#define TEXT_ENDPOINT_LEN 96

static const char *action_color(const struct pw_record *rec)
{
	if (rec->type == PW_REC_ALERT || rec->type == PW_REC_LOSS)
		return COLOR_BOLD_RED;
	switch (pw_action_of(rec->ev)) {
	case PW_ACTION_LISTEN:
	case PW_ACTION_BIND:
		return COLOR_YELLOW;
	case PW_ACTION_CONNECT:
	case PW_ACTION_CONNECTED:
	case PW_ACTION_ACCEPTED:
		return COLOR_GREEN;
	case PW_ACTION_CONNECT_FAILED:
	case PW_ACTION_BIND_FAILED:
		return COLOR_RED;
	case PW_ACTION_CLOSE:
	case PW_ACTION_LISTEN_CLOSE:
	case PW_ACTION_TRANSITION:
		return COLOR_DIM;
	default:
		return "";
	}
}

/* In place, for text that reaches a terminal: C0 controls, DEL and the C1
 * controls as UTF-8 encodes them (C2 80..C2 9F; U+009B is CSI) become '?',
 * so no name can move the cursor or fake a line (C1 found by fuzz_json_escape). */
static void text_sanitize(char *s)
{
	unsigned char *c;

	for (c = (unsigned char *)s; *c; c++) {
		if (*c < 0x20 || *c == 0x7f) {
			*c = '?';
		} else if (*c == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f) {
			c[0] = '?';
			c[1] = '?';
			c++;
		}
	}
}

/* "127.0.0.1:8080 (http-alt)" or "[::1]:22 (ssh)"; "-" when absent. */
static void text_endpoint(char *out, size_t len, uint16_t family, const uint8_t addr[16],
			  uint16_t port, const char *service, bool present)
{
	char ip[PW_ADDR_STRLEN];

	if (!present || pw_addr_format(family, addr, ip, sizeof(ip))) {
		snprintf(out, len, "-");
		return;
	}
	snprintf(out, len, family == AF_INET6 ? "[%s]:%u%s%s%s" : "%s:%u%s%s%s", ip, port,
		 service ? " (" : "", service ? service : "", service ? ")" : "");
	text_sanitize(out);
}

/* The comm, with anything unprintable shown as '?' so a hostile process
 * name cannot move the cursor or fake a line. */
static void text_comm(char *out, const char comm[PW_COMM_LEN])
{
	size_t i;

	for (i = 0; i < PW_COMM_LEN - 1 && comm[i]; i++) {
		unsigned char c = (unsigned char)comm[i];

		out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[i] = '\0';
}

/* Append one space-separated detail item (cut at 255 bytes). */
static int text_item(struct pw_buf *out, size_t start, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int text_item(struct pw_buf *out, size_t start, const char *fmt, ...)
{
	char item[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(item, sizeof(item), fmt, ap);
	va_end(ap);
	/* Names in an item (user, alert reason) come from outside: no control
	 * character reaches the terminal. */
	text_sanitize(item);
	if (out->len > start && pw_buf_putc(out, ' '))
		return -ENOMEM;
	return pw_buf_puts(out, item);
}

static int text_details(struct pw_buf *out, const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;
	size_t start = out->len;
	int err = 0;

	if (ev->type == PW_EVENT_STATE && !record_is_snapshot(rec))
		err = text_item(out, start, "%s>%s", pw_tcp_state_name(ev->old_state),
				pw_tcp_state_name(ev->new_state));
	else if (record_is_snapshot(rec) && ev->protocol == IPPROTO_TCP)
		err = text_item(out, start, "%s", pw_tcp_state_name(ev->new_state));
	if (!err && ev->type == PW_EVENT_BIND && ev->bind_errno) {
		const char *name = pw_errno_name(ev->bind_errno);

		err = text_item(out, start, "error=%s", name ? name : "?");
	}
	if (!err && ev->type == PW_EVENT_BIND && ev->requested_port != ev->sport)
		err = text_item(out, start, "requested=%u", ev->requested_port);
	if (!err && event_is_close(ev) && ev->duration_ns)
		err = text_item(out, start, "%.3fs sent=%llu recv=%llu",
				(double)ev->duration_ns / 1e9, (unsigned long long)ev->bytes_sent,
				(unsigned long long)ev->bytes_received);
	if (!err && ev->sport)
		err = text_item(out, start, "%s", pw_port_category(ev->sport));
	if (!err && rec->proc.user)
		err = text_item(out, start, "user=%s", rec->proc.user);
	if (!err && rec->proc.container_id)
		err = text_item(out, start, "container=%.12s", rec->proc.container_id);
	if (!err && rec->type == PW_REC_ALERT)
		err = text_item(out, start, "ALERT %s: %s", rec->alert.rule ? rec->alert.rule : "-",
				rec->alert.reason ? rec->alert.reason : "");
	return err;
}

static int text_socket_line(struct pw_buf *out, const struct pw_record *rec, const char *clock,
			    bool color)
{
	const struct pw_event *ev = rec->ev;
	char local[TEXT_ENDPOINT_LEN], remote[TEXT_ENDPOINT_LEN], comm[PW_COMM_LEN];
	bool has_remote = ev->dport != 0 || !pw_addr_is_unspecified(ev->family, ev->daddr);
	const char *action = rec->type == PW_REC_ALERT ? "ALERT" : record_action(rec);
	const char *on = color ? action_color(rec) : "";
	const char *off = color && *on ? COLOR_RESET : "";
	int err;

	text_endpoint(local, sizeof(local), ev->family, ev->saddr, ev->sport, rec->local_service, true);
	text_endpoint(remote, sizeof(remote), ev->family, ev->daddr, ev->dport, rec->remote_service,
		      has_remote);
	text_comm(comm, ev->owner.comm);
	err = pw_buf_printf(out, "%-12s %s%-14s%s %7u %-15s %-5s %-30s %-30s ", clock, on, action, off,
			    ev->owner.pid, comm[0] ? comm : "-", pw_transport_name(ev->protocol),
			    local, remote);
	if (!err)
		err = text_details(out, rec);
	return err;
}

int pw_encode_text(struct pw_buf *out, const struct pw_record *rec, bool color)
{
	size_t start = out->len;
	char clock[PW_CLOCK_LEN];
	int err;

	if (!record_is_consistent(rec))
		return -EINVAL;
	if (pw_format_clock(rec->time_ns, clock, sizeof(clock)))
		return -EINVAL;
	switch (rec->type) {
	case PW_REC_LOSS:
		err = pw_buf_printf(out, "%-12s %s%-14s%s %llu events lost (%s)", clock,
				    color ? COLOR_BOLD_RED : "", "LOSS", color ? COLOR_RESET : "",
				    (unsigned long long)rec->loss.lost,
				    rec->loss.reason ? rec->loss.reason : "unknown");
		break;
	case PW_REC_STATS:
		err = pw_buf_printf(out, "%-12s %-14s %llu events, %llu lost, %llu filtered", clock,
				    "STATS", (unsigned long long)rec->stats.events,
				    (unsigned long long)rec->stats.lost,
				    (unsigned long long)rec->stats.filtered);
		break;
	default:
		err = text_socket_line(out, rec, clock, color);
		break;
	}
	if (!err)
		err = pw_buf_putc(out, '\n');
	if (err && !out->failed) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return err;
}

void pw_encode_text_header(struct pw_buf *out, bool color)
{
	if (color)
		pw_buf_puts(out, "\033[1m");
	pw_buf_printf(out, TEXT_HEADER_FMT, "TIME", "ACTION", "PID", "COMM", "PROTO", "LOCAL",
		      "REMOTE", "DETAIL");
	if (color)
		pw_buf_puts(out, COLOR_RESET);
	pw_buf_putc(out, '\n');
}
