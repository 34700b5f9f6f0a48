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
#include "decimal.h"
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

/* JSON lines ------------------------------------------------------------
 *
 * A line is some sixty members in a fixed order, so it is written as a
 * template: every run of constant text (`,"key":`, braces) is one copy of a
 * literal, values go in between. The variable strings of the line are
 * gathered and measured first, the worst case of the whole line is reserved
 * once, and the writing below checks no room. */

/* A string of the line and its length; s NULL is written as null. plain:
 * printable ASCII without '"' or '\\', copied as it is: one of this
 * program's own words (names.c, action.c, addr.c; test_names checks every
 * one), or a string measured so (pw_json_shape). */
struct text {
	const char *s;
	size_t n;
	bool plain;
};

enum line_text {
	T_HOST, T_TYPE, T_LOSS_REASON, T_RULE, T_ALERT_REASON, T_ACTION,
	T_USER, T_EXE, T_CMDLINE, T_CGROUP, T_CONTAINER,
	T_ATTRIBUTION, T_TRANSPORT, T_FAMILY,
	T_LOCAL_CATEGORY, T_LOCAL_SERVICE, T_LOCAL_SCOPE, T_REMOTE_CATEGORY, T_REMOTE_SERVICE,
	T_DIRECTION, T_HOOK, T_STATE, T_OLD_STATE, T_NEW_STATE, T_ERROR,
	T_COUNT
};

/* Everything of a line that is not a text: the longest line (an alert with
 * tcp close fields) has under 800 bytes of keys and punctuation, at most 17
 * numbers of 20 digits, two addresses of PW_ADDR_STRLEN, the time and an
 * escaped comm; 2 KiB bounds them all with room to spare. */
#define LINE_FIXED_MAX 2048

struct line {
	struct text t[T_COUNT];
	char local_ip[PW_ADDR_STRLEN], remote_ip[PW_ADDR_STRLEN];
	size_t local_ip_len, remote_ip_len;
	size_t text_bytes; /* of every text set (one set twice counts twice) */
	bool local_present, remote_present;
	char time[PW_RFC3339_LEN];
};

static void set_text(struct line *l, enum line_text i, const char *s)
{
	l->t[i].s = s;
	l->t[i].n = s ? strlen(s) : 0;
	l->text_bytes += l->t[i].n;
}

static void set_name(struct line *l, enum line_text i, const char *s)
{
	set_text(l, i, s);
	l->t[i].plain = true;
}

/* A string measured beforehand (see pw_json_shape): a plain one is copied
 * as it is, like a name. */
static void set_shaped(struct line *l, enum line_text i, const char *s, struct pw_json_shape shape)
{
	if (!s || !shape.measured) {
		set_text(l, i, s);
		return;
	}
	l->t[i].s = s;
	l->t[i].n = shape.len;
	l->t[i].plain = shape.plain;
	l->text_bytes += shape.len;
}

/* Worst case of the line's texts, escaped and quoted ("null" is 4): the
 * escaped worst case grows linearly, so the sum of the lengths will do. */
static size_t line_text_room(const struct line *l)
{
	return PW_JSON_ESCAPED_MAX(l->text_bytes) + 4 * T_COUNT;
}

/* Copy a literal: its length is known at compile time, so the copy is a
 * couple of moves. */
#define LIT(p, s) ((p) = put_bytes((p), (s), sizeof(s) - 1))

static inline char *put_bytes(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* A count or id where 0 means "not known": written as null. */
static inline char *put_uint_or_null(char *p, uint64_t v)
{
	return v ? pw_put_decimal(p, v) : put_bytes(p, "null", 4);
}

static inline char *put_bool(char *p, bool v)
{
	return v ? put_bytes(p, "true", 4) : put_bytes(p, "false", 5);
}

static inline char *put_string_n(char *p, const char *s, size_t n)
{
	*p++ = '"';
	p = pw_json_escape_to(p, s, n);
	*p++ = '"';
	return p;
}

static inline char *put_text(char *p, struct text t)
{
	if (!t.s)
		return put_bytes(p, "null", 4);
	if (t.plain) {
		*p++ = '"';
		p = put_bytes(p, t.s, t.n);
		*p++ = '"';
		return p;
	}
	return put_string_n(p, t.s, t.n);
}

/* An address as text into out (PW_ADDR_STRLEN), its length in *len;
 * through the cache when there is one. Returns pw_addr_format's. */
static int format_addr(struct pw_json_cache *cache, uint16_t family, const uint8_t *addr,
		       char *out, size_t *len)
{
	size_t n = family == AF_INET ? 4 : PW_ADDR_LEN;
	struct pw_json_cached_addr *slot;
	int err;

	if (!cache) {
		err = pw_addr_format(family, addr, out, PW_ADDR_STRLEN);
		*len = err ? 0 : strlen(out);
		return err;
	}
	slot = &cache->addrs[addr[n - 1] % PW_JSON_CACHE_ADDRS];
	if (slot->family != family || memcmp(slot->addr, addr, n) != 0) {
		slot->family = 0;
		err = pw_addr_format(family, addr, slot->text, sizeof(slot->text));
		if (err)
			return err;
		slot->family = family;
		memcpy(slot->addr, addr, n);
		slot->len = (uint8_t)strlen(slot->text);
	}
	/* A copy: the other endpoint may take the same slot. */
	memcpy(out, slot->text, slot->len + 1u);
	*len = slot->len;
	return 0;
}

/* Gather the texts of a socket event's members (and format its addresses). */
static void gather_socket(struct line *l, const struct pw_record *rec, struct pw_json_cache *cache)
{
	const struct pw_event *ev = rec->ev;
	bool snapshot = record_is_snapshot(rec);

	set_name(l, T_ACTION, record_action(rec));
	set_text(l, T_USER, rec->proc.user);
	set_shaped(l, T_EXE, rec->proc.exe, rec->proc.exe_shape);
	set_shaped(l, T_CMDLINE, rec->proc.cmdline, rec->proc.cmdline_shape);
	set_shaped(l, T_CGROUP, rec->proc.cgroup, rec->proc.cgroup_shape);
	set_shaped(l, T_CONTAINER, rec->proc.container_id, rec->proc.container_id_shape);
	set_name(l, T_ATTRIBUTION, pw_attribution_name(ev->attribution));
	set_name(l, T_TRANSPORT, pw_transport_name(ev->protocol));
	set_name(l, T_FAMILY, pw_family_name(ev->family));
	l->local_present = format_addr(cache, ev->family, ev->saddr, l->local_ip,
				       &l->local_ip_len) == 0;
	if (l->local_present) {
		/* Port 0: not assigned yet (a connect before the kernel picks
		 * the ephemeral port), so no range and no service. */
		set_name(l, T_LOCAL_CATEGORY, ev->sport ? pw_port_category(ev->sport) : NULL);
		set_text(l, T_LOCAL_SERVICE, ev->sport ? rec->local_service : NULL);
		set_name(l, T_LOCAL_SCOPE, pw_addr_scope(ev->family, ev->saddr));
	}
	l->remote_present = (ev->dport != 0 || !pw_addr_is_unspecified(ev->family, ev->daddr)) &&
			    format_addr(cache, ev->family, ev->daddr, l->remote_ip,
					&l->remote_ip_len) == 0;
	if (l->remote_present) {
		set_name(l, T_REMOTE_CATEGORY, ev->dport ? pw_port_category(ev->dport) : NULL);
		set_text(l, T_REMOTE_SERVICE, ev->dport ? rec->remote_service : NULL);
	}
	set_name(l, T_DIRECTION, pw_direction_name(ev->direction));
	set_name(l, T_HOOK, snapshot ? "sock_diag" : pw_hook_name(ev->hook));
	if (ev->type == PW_EVENT_STATE && ev->protocol == IPPROTO_TCP) {
		if (snapshot) {
			set_name(l, T_STATE, pw_tcp_state_name(ev->new_state));
		} else {
			set_name(l, T_OLD_STATE, pw_tcp_state_name(ev->old_state));
			set_name(l, T_NEW_STATE, pw_tcp_state_name(ev->new_state));
		}
	}
	if (ev->type == PW_EVENT_BIND)
		set_name(l, T_ERROR, ev->bind_errno ? pw_errno_name(ev->bind_errno) : NULL);
}

/* The opening of the process object up to its comm: the part a task's ids
 * decide, the same for every event of one thread. */
static char *put_task_ids(char *p, const struct pw_task *t)
{
	LIT(p, ",\"process\":{\"pid\":");
	p = pw_put_decimal(p, t->pid);
	LIT(p, ",\"tid\":");
	p = pw_put_decimal(p, t->tid);
	LIT(p, ",\"ppid\":");
	p = pw_put_decimal(p, t->ppid);
	LIT(p, ",\"uid\":");
	p = pw_put_decimal(p, t->uid);
	LIT(p, ",\"gid\":");
	p = pw_put_decimal(p, t->gid);
	LIT(p, ",\"comm\":");
	return put_string_n(p, t->comm, strnlen(t->comm, sizeof(t->comm)));
}

static bool cached_owner_is(const struct pw_json_cached_owner *c, const struct pw_task *t)
{
	return c->len && c->pid == t->pid && c->tid == t->tid && c->ppid == t->ppid &&
	       c->uid == t->uid && c->gid == t->gid &&
	       memcmp(c->comm, t->comm, sizeof(c->comm)) == 0;
}

/* put_task_ids through the cache when there is one. */
static char *json_task_ids(char *p, const struct pw_task *t, struct pw_json_cache *cache)
{
	struct pw_json_cached_owner *c;
	char *start = p;

	if (!cache)
		return put_task_ids(p, t);
	c = &cache->owners[t->pid % PW_JSON_CACHE_OWNERS];
	if (cached_owner_is(c, t))
		return put_bytes(p, c->text, c->len);
	p = put_task_ids(p, t);
	c->len = 0;
	if ((size_t)(p - start) <= sizeof(c->text)) {
		c->pid = t->pid;
		c->tid = t->tid;
		c->ppid = t->ppid;
		c->uid = t->uid;
		c->gid = t->gid;
		memcpy(c->comm, t->comm, sizeof(c->comm));
		memcpy(c->text, start, (size_t)(p - start));
		c->len = (uint16_t)(p - start);
	}
	return p;
}

static char *json_process(char *p, const struct line *l, const struct pw_task *t,
			  struct pw_json_cache *cache)
{
	if (t->pid) {
		p = json_task_ids(p, t, cache);
	} else {
		LIT(p, ",\"process\":{\"pid\":null,\"tid\":null,\"ppid\":null,\"uid\":null,"
		       "\"gid\":null,\"comm\":null");
	}
	LIT(p, ",\"user\":");
	p = put_text(p, l->t[T_USER]);
	LIT(p, ",\"exe\":");
	p = put_text(p, l->t[T_EXE]);
	LIT(p, ",\"cmdline\":");
	p = put_text(p, l->t[T_CMDLINE]);
	LIT(p, ",\"cgroup\":");
	p = put_text(p, l->t[T_CGROUP]);
	LIT(p, ",\"container_id\":");
	p = put_text(p, l->t[T_CONTAINER]);
	LIT(p, ",\"cgroup_id\":");
	p = put_uint_or_null(p, t->cgroup_id);
	*p++ = '}';
	return p;
}

/* The members of an endpoint object after its "ip" (given as ip, NULL when
 * absent). */
static char *json_endpoint(char *p, const char *ip, size_t ip_len, uint16_t port,
			   struct text category, struct text service)
{
	if (!ip) {
		LIT(p, "null,\"port\":null,\"category\":null,\"service\":null");
		return p;
	}
	/* Digits, hex, '.' and ':' (pw_addr_format): nothing to escape. */
	p = put_text(p, (struct text){ .s = ip, .n = ip_len, .plain = true });
	LIT(p, ",\"port\":");
	p = pw_put_decimal(p, port);
	LIT(p, ",\"category\":");
	p = put_text(p, category);
	LIT(p, ",\"service\":");
	return put_text(p, service);
}

static char *json_tcp(char *p, const struct line *l, const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;

	if (record_is_snapshot(rec)) {
		LIT(p, ",\"tcp\":{\"state\":");
		p = put_text(p, l->t[T_STATE]);
		*p++ = '}';
		return p;
	}
	LIT(p, ",\"tcp\":{\"old_state\":");
	p = put_text(p, l->t[T_OLD_STATE]);
	LIT(p, ",\"new_state\":");
	p = put_text(p, l->t[T_NEW_STATE]);
	LIT(p, ",\"prev_state_ns\":");
	p = pw_put_decimal(p, ev->prev_state_ns);
	if (event_is_close(ev)) {
		LIT(p, ",\"duration_ns\":");
		p = pw_put_decimal(p, ev->duration_ns);
		LIT(p, ",\"bytes_sent\":");
		p = pw_put_decimal(p, ev->bytes_sent);
		LIT(p, ",\"bytes_received\":");
		p = pw_put_decimal(p, ev->bytes_received);
	}
	*p++ = '}';
	return p;
}

static char *json_bind(char *p, const struct line *l, const struct pw_event *ev)
{
	LIT(p, ",\"bind\":{\"errno\":");
	p = pw_put_decimal_signed(p, ev->bind_errno);
	LIT(p, ",\"error\":");
	p = put_text(p, l->t[T_ERROR]);
	LIT(p, ",\"requested_port\":");
	p = pw_put_decimal(p, ev->requested_port);
	LIT(p, ",\"reuseaddr\":");
	p = put_bool(p, ev->bind_flags & PW_BIND_REUSEADDR);
	LIT(p, ",\"reuseport\":");
	p = put_bool(p, ev->bind_flags & PW_BIND_REUSEPORT);
	LIT(p, ",\"freebind\":");
	p = put_bool(p, ev->bind_flags & PW_BIND_FREEBIND);
	LIT(p, ",\"transparent\":");
	p = put_bool(p, ev->bind_flags & PW_BIND_TRANSPARENT);
	*p++ = '}';
	return p;
}

/* The members every socket event (state, bind, snapshot, alert) carries. */
static char *json_socket_fields(char *p, const struct line *l, const struct pw_record *rec,
				struct pw_json_cache *cache)
{
	const struct pw_event *ev = rec->ev;

	LIT(p, ",\"action\":");
	p = put_text(p, l->t[T_ACTION]);
	p = json_process(p, l, &ev->owner, cache);
	LIT(p, ",\"attribution\":");
	p = put_text(p, l->t[T_ATTRIBUTION]);
	LIT(p, ",\"transport\":");
	p = put_text(p, l->t[T_TRANSPORT]);
	LIT(p, ",\"family\":");
	p = put_text(p, l->t[T_FAMILY]);
	LIT(p, ",\"local\":{\"ip\":");
	p = json_endpoint(p, l->local_present ? l->local_ip : NULL, l->local_ip_len, ev->sport,
			  l->t[T_LOCAL_CATEGORY], l->t[T_LOCAL_SERVICE]);
	LIT(p, ",\"scope\":");
	p = put_text(p, l->t[T_LOCAL_SCOPE]);
	LIT(p, "},\"remote\":{\"ip\":");
	p = json_endpoint(p, l->remote_present ? l->remote_ip : NULL, l->remote_ip_len, ev->dport,
			  l->t[T_REMOTE_CATEGORY], l->t[T_REMOTE_SERVICE]);
	LIT(p, "},\"direction\":");
	p = put_text(p, l->t[T_DIRECTION]);
	LIT(p, ",\"netns\":");
	p = pw_put_decimal(p, ev->netns);
	LIT(p, ",\"sock_cookie\":");
	p = put_uint_or_null(p, ev->sock_cookie);
	LIT(p, ",\"hook\":");
	p = put_text(p, l->t[T_HOOK]);
	if (ev->type == PW_EVENT_STATE && ev->protocol == IPPROTO_TCP)
		p = json_tcp(p, l, rec);
	if (ev->type == PW_EVENT_BIND)
		p = json_bind(p, l, ev);
	return p;
}

int pw_encode_json(struct pw_buf *out, const struct pw_record *rec)
{
	return pw_encode_json_cached(NULL, out, rec);
}

int pw_encode_json_cached(struct pw_json_cache *cache, struct pw_buf *out,
			  const struct pw_record *rec)
{
	struct line l = { 0 };
	bool socket_event;
	char *start, *p;
	int err;

	if (!record_is_consistent(rec))
		return -EINVAL;
	err = cache ? pw_format_rfc3339_cached(&cache->time, rec->time_ns, l.time, sizeof(l.time))
		    : pw_format_rfc3339(rec->time_ns, l.time, sizeof(l.time));
	if (err)
		return -EINVAL;
	set_text(&l, T_HOST, rec->host);
	set_name(&l, T_TYPE, record_type_name(rec->type));
	socket_event = rec->type != PW_REC_LOSS && rec->type != PW_REC_STATS;
	if (rec->type == PW_REC_LOSS)
		set_text(&l, T_LOSS_REASON, rec->loss.reason);
	if (rec->type == PW_REC_ALERT) {
		set_text(&l, T_RULE, rec->alert.rule);
		set_text(&l, T_ALERT_REASON, rec->alert.reason);
	}
	if (socket_event)
		gather_socket(&l, rec, cache);

	start = pw_buf_reserve(out, LINE_FIXED_MAX + line_text_room(&l));
	if (!start)
		return -ENOMEM;
	p = start;
	LIT(p, "{\"schema_version\":");
	p = pw_put_decimal(p, PW_SCHEMA_VERSION);
	LIT(p, ",\"seq\":");
	p = pw_put_decimal(p, rec->seq);
	LIT(p, ",\"time\":\"");
	p = put_bytes(p, l.time, PW_RFC3339_LEN - 1);
	LIT(p, "\",\"host\":");
	p = put_text(p, l.t[T_HOST]);
	LIT(p, ",\"type\":");
	p = put_text(p, l.t[T_TYPE]);
	switch (rec->type) {
	case PW_REC_LOSS:
		LIT(p, ",\"lost\":");
		p = pw_put_decimal(p, rec->loss.lost);
		LIT(p, ",\"reason\":");
		p = put_text(p, l.t[T_LOSS_REASON]);
		break;
	case PW_REC_STATS:
		LIT(p, ",\"events\":");
		p = pw_put_decimal(p, rec->stats.events);
		LIT(p, ",\"lost\":");
		p = pw_put_decimal(p, rec->stats.lost);
		LIT(p, ",\"filtered\":");
		p = pw_put_decimal(p, rec->stats.filtered);
		break;
	case PW_REC_ALERT:
		LIT(p, ",\"rule\":");
		p = put_text(p, l.t[T_RULE]);
		LIT(p, ",\"reason\":");
		p = put_text(p, l.t[T_ALERT_REASON]);
		p = json_socket_fields(p, &l, rec, cache);
		break;
	default:
		p = json_socket_fields(p, &l, rec, cache);
		break;
	}
	LIT(p, "}\n");
	out->len += (size_t)(p - start);
	out->data[out->len] = '\0';
	return 0;
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
