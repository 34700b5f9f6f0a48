/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Encodes records in Elastic Common Schema field names, so an Elastic (or
 * any ECS-aware) pipeline can use them without an ingest mapping. */
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include "addr.h"
#include "clock.h"
#include "encode_siem.h"
#include "names.h"
#include "siem_fields.h"

/* How each action reads in ECS's event categorisation (category "network"):
 * event.type is a list of at most two of ECS's allowed values. */
struct ecs_action {
	const char *type[2];
	const char *outcome; /* "success", "failure", "unknown" */
};

static const struct ecs_action ecs_actions[] = {
	[PW_ACTION_LISTEN] = { { "start", NULL }, "success" },
	[PW_ACTION_LISTEN_CLOSE] = { { "end", NULL }, "success" },
	[PW_ACTION_CONNECT] = { { "connection", "start" }, "unknown" },
	[PW_ACTION_CONNECTED] = { { "connection", NULL }, "success" },
	[PW_ACTION_CONNECT_FAILED] = { { "connection", "end" }, "failure" },
	[PW_ACTION_ACCEPTED] = { { "connection", "start" }, "success" },
	[PW_ACTION_CLOSE] = { { "connection", "end" }, "success" },
	[PW_ACTION_TRANSITION] = { { "connection", "info" }, "unknown" },
	[PW_ACTION_BIND] = { { "info", NULL }, "success" },
	[PW_ACTION_BIND_FAILED] = { { "info", NULL }, "failure" },
	[PW_ACTION_EXISTING] = { { "info", NULL }, "unknown" },
	[PW_ACTION_UNKNOWN] = { { "info", NULL }, "unknown" },
};

static void string_list(struct pw_json *j, const char *key, const char *a, const char *b)
{
	pw_json_key(j, key);
	pw_json_array_begin(j);
	pw_json_string(j, a);
	if (b)
		pw_json_string(j, b);
	pw_json_array_end(j);
}

static void ecs_event(struct pw_json *j, const struct pw_record *rec)
{
	char dataset[32];
	enum pw_action action;
	const struct ecs_action *map;

	snprintf(dataset, sizeof(dataset), "portwarden.%s", pw_siem_type_name(rec->type));
	pw_json_key(j, "event");
	pw_json_object_begin(j);
	switch (rec->type) {
	case PW_REC_LOSS:
		/* Loss is a fault in the pipeline, not something a host did. */
		pw_json_kv_string(j, "kind", "pipeline_error");
		string_list(j, "type", "info", NULL);
		pw_json_kv_string(j, "action", "loss");
		pw_json_kv_string(j, "reason", rec->loss.reason);
		break;
	case PW_REC_STATS:
		pw_json_kv_string(j, "kind", "metric");
		string_list(j, "type", "info", NULL);
		pw_json_kv_string(j, "action", "stats");
		break;
	default:
		action = pw_siem_action(rec);
		map = &ecs_actions[action <= PW_ACTION_UNKNOWN ? action : PW_ACTION_UNKNOWN];
		if (rec->type == PW_REC_ALERT)
			pw_json_kv_string(j, "kind", "alert");
		else if (rec->type == PW_REC_SNAPSHOT)
			pw_json_kv_string(j, "kind", "state");
		else
			pw_json_kv_string(j, "kind", "event");
		string_list(j, "category", "network", NULL);
		string_list(j, "type", map->type[0], map->type[1]);
		pw_json_kv_string(j, "action", pw_action_name(action));
		pw_json_kv_string(j, "outcome", map->outcome);
		if (rec->type == PW_REC_ALERT)
			pw_json_kv_string(j, "reason", rec->alert.reason);
		if (pw_siem_is_close(rec->ev) && rec->type != PW_REC_SNAPSHOT)
			pw_json_kv_uint(j, "duration", rec->ev->duration_ns);
		break;
	}
	pw_json_kv_string(j, "dataset", dataset);
	pw_json_kv_string(j, "module", "portwarden");
	pw_json_kv_uint(j, "sequence", rec->seq);
	pw_json_object_end(j);
}

static void ecs_process(struct pw_json *j, const struct pw_record *rec)
{
	const struct pw_task *t = &rec->ev->owner;
	char uid[16];

	if (!t->pid)
		return; /* no owner (e.g. TIME_WAIT): ECS has no null process */
	snprintf(uid, sizeof(uid), "%u", t->uid);
	pw_json_key(j, "process");
	pw_json_object_begin(j);
	pw_json_kv_uint(j, "pid", t->pid);
	pw_json_kv_uint(j, "ppid", t->ppid);
	pw_json_key(j, "parent");
	pw_json_object_begin(j);
	pw_json_kv_uint(j, "pid", t->ppid);
	pw_json_object_end(j);
	pw_json_key(j, "thread");
	pw_json_object_begin(j);
	pw_json_kv_uint(j, "id", t->tid);
	pw_json_object_end(j);
	pw_json_key(j, "name");
	pw_json_string_n(j, t->comm, sizeof(t->comm));
	if (rec->proc.exe)
		pw_json_kv_string(j, "executable", rec->proc.exe);
	if (rec->proc.cmdline)
		pw_json_kv_string(j, "command_line", rec->proc.cmdline);
	pw_json_key(j, "user");
	pw_json_object_begin(j);
	pw_json_kv_string(j, "id", uid);
	if (rec->proc.user)
		pw_json_kv_string(j, "name", rec->proc.user);
	pw_json_object_end(j);
	pw_json_object_end(j);
}

/* source.* or destination.*; bytes are what this end sent. */
static void ecs_endpoint(struct pw_json *j, const char *key, const struct pw_event *ev,
			 const uint8_t addr[16], uint16_t port, bool has_bytes, uint64_t bytes)
{
	char ip[PW_ADDR_STRLEN];

	pw_json_key(j, key);
	pw_json_object_begin(j);
	if (pw_addr_format(ev->family, addr, ip, sizeof(ip)) == 0)
		pw_json_kv_string(j, "ip", ip);
	if (port) /* 0: the kernel has not picked the port yet */
		pw_json_kv_uint(j, "port", port);
	if (has_bytes)
		pw_json_kv_uint(j, "bytes", bytes);
	pw_json_object_end(j);
}

static void ecs_endpoints(struct pw_json *j, const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;
	struct pw_endpoint_roles roles = pw_endpoint_roles_of(rec);
	bool bytes = pw_siem_is_close(ev) && rec->type != PW_REC_SNAPSHOT;
	const char *local_key = roles.local == PW_ROLE_SOURCE ? "source" : "destination";
	const char *remote_key = roles.remote == PW_ROLE_SOURCE ? "source" : "destination";

	ecs_endpoint(j, local_key, ev, ev->saddr, ev->sport, bytes, ev->bytes_sent);
	if (roles.remote != PW_ROLE_NONE)
		ecs_endpoint(j, remote_key, ev, ev->daddr, ev->dport, bytes, ev->bytes_received);
}

static void ecs_network(struct pw_json *j, const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;
	char iana[8];

	snprintf(iana, sizeof(iana), "%u", ev->protocol);
	pw_json_key(j, "network");
	pw_json_object_begin(j);
	pw_json_kv_string(j, "transport", pw_transport_name(ev->protocol));
	pw_json_kv_string(j, "type", pw_family_name(ev->family));
	pw_json_kv_string(j, "iana_number", iana);
	/* ECS asks host-based sources for the host's point of view. */
	if (ev->direction == PW_DIR_INBOUND)
		pw_json_kv_string(j, "direction", "ingress");
	else if (ev->direction == PW_DIR_OUTBOUND)
		pw_json_kv_string(j, "direction", "egress");
	if (pw_siem_is_close(ev) && rec->type != PW_REC_SNAPSHOT)
		pw_json_kv_uint(j, "bytes", ev->bytes_sent + ev->bytes_received);
	pw_json_object_end(j);
}

static void ecs_socket(struct pw_json *j, const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;

	ecs_process(j, rec);
	if (rec->proc.container_id) {
		pw_json_key(j, "container");
		pw_json_object_begin(j);
		pw_json_kv_string(j, "id", rec->proc.container_id);
		pw_json_object_end(j);
	}
	ecs_endpoints(j, rec);
	ecs_network(j, rec);
	if (ev->type == PW_EVENT_BIND && ev->bind_errno) {
		pw_json_key(j, "error");
		pw_json_object_begin(j);
		pw_json_kv_string(j, "code", pw_errno_name(ev->bind_errno));
		pw_json_object_end(j);
	}
	if (rec->type == PW_REC_ALERT) {
		pw_json_key(j, "rule");
		pw_json_object_begin(j);
		pw_json_kv_string(j, "name", rec->alert.rule);
		pw_json_object_end(j);
	}
}

int pw_encode_ecs(struct pw_buf *out, const struct pw_record *rec)
{
	size_t start = out->len;
	char time[PW_RFC3339_LEN];
	struct pw_json j;
	int err;

	if (!pw_siem_record_ok(rec))
		return -EINVAL;
	if (pw_format_rfc3339(rec->time_ns, time, sizeof(time)))
		return -EINVAL;

	pw_json_init(&j, out);
	pw_json_object_begin(&j);
	pw_json_kv_string(&j, "@timestamp", time);
	pw_json_key(&j, "ecs");
	pw_json_object_begin(&j);
	pw_json_kv_string(&j, "version", PW_ECS_VERSION);
	pw_json_object_end(&j);
	ecs_event(&j, rec);
	pw_json_key(&j, "host");
	pw_json_object_begin(&j);
	pw_json_kv_string(&j, "name", rec->host);
	pw_json_object_end(&j);
	if (rec->ev && rec->type != PW_REC_LOSS && rec->type != PW_REC_STATS)
		ecs_socket(&j, rec);
	pw_siem_extras(&j, "portwarden", rec);
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
