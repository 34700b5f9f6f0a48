/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Encodes records as OCSF events: socket events as Network Activity
 * (class_uid 4001), loss and stats as Base Event (class_uid 0). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "addr.h"
#include "encode_siem.h"
#include "names.h"
#include "siem_fields.h"

#define OCSF_NETWORK_ACTIVITY 4001
#define OCSF_CATEGORY_NETWORK 4
#define OCSF_BASE_EVENT 0
#define OCSF_OTHER 99

enum ocsf_status { OCSF_STATUS_UNKNOWN = 0, OCSF_STATUS_SUCCESS = 1, OCSF_STATUS_FAILURE = 2 };

/* OCSF Network Activity activity_id values (1 Open, 2 Close, 3 Reset,
 * 4 Fail, 5 Refuse, 6 Traffic, 7 Listen, 99 Other). What the kernel tells
 * us about a failed connect (SYN_SENT -> CLOSE) does not separate a refusal
 * (RST) from a timeout: Refuse is the common case and the one mapped. */
struct ocsf_action {
	int activity_id;
	const char *activity_name;
	enum ocsf_status status;
};

static const struct ocsf_action ocsf_actions[] = {
	[PW_ACTION_LISTEN] = { 7, "Listen", OCSF_STATUS_SUCCESS },
	[PW_ACTION_LISTEN_CLOSE] = { 2, "Close", OCSF_STATUS_SUCCESS },
	[PW_ACTION_CONNECT] = { 1, "Open", OCSF_STATUS_UNKNOWN },
	[PW_ACTION_CONNECTED] = { 1, "Open", OCSF_STATUS_SUCCESS },
	[PW_ACTION_CONNECT_FAILED] = { 5, "Refuse", OCSF_STATUS_FAILURE },
	[PW_ACTION_ACCEPTED] = { 1, "Open", OCSF_STATUS_SUCCESS },
	[PW_ACTION_CLOSE] = { 2, "Close", OCSF_STATUS_SUCCESS },
	[PW_ACTION_TRANSITION] = { OCSF_OTHER, "Transition", OCSF_STATUS_UNKNOWN },
	[PW_ACTION_BIND] = { OCSF_OTHER, "Bind", OCSF_STATUS_SUCCESS },
	[PW_ACTION_BIND_FAILED] = { OCSF_OTHER, "Bind", OCSF_STATUS_FAILURE },
	[PW_ACTION_EXISTING] = { OCSF_OTHER, "Existing", OCSF_STATUS_UNKNOWN },
	[PW_ACTION_UNKNOWN] = { OCSF_OTHER, "Unknown", OCSF_STATUS_UNKNOWN },
};

static const char *const status_names[] = {
	[OCSF_STATUS_UNKNOWN] = "Unknown",
	[OCSF_STATUS_SUCCESS] = "Success",
	[OCSF_STATUS_FAILURE] = "Failure",
};

struct ocsf_class {
	int class_uid, category_uid, activity_id, severity_id;
	const char *class_name, *category_name, *activity_name, *severity;
	enum ocsf_status status;
};

static void ocsf_classify(const struct pw_record *rec, struct ocsf_class *c)
{
	const struct ocsf_action *map;
	enum pw_action action;

	if (rec->type == PW_REC_LOSS || rec->type == PW_REC_STATS) {
		*c = (struct ocsf_class){
			.class_uid = OCSF_BASE_EVENT,
			.category_uid = 0,
			.activity_id = OCSF_OTHER,
			.class_name = "Base Event",
			.category_name = "Uncategorized",
			.activity_name = rec->type == PW_REC_LOSS ? "Loss" : "Stats",
			/* Lost events are a gap in what the SIEM can see. */
			.severity_id = rec->type == PW_REC_LOSS ? 3 : 1,
			.severity = rec->type == PW_REC_LOSS ? "Medium" : "Informational",
			.status = rec->type == PW_REC_LOSS ? OCSF_STATUS_FAILURE : OCSF_STATUS_SUCCESS,
		};
		return;
	}
	action = pw_siem_action(rec);
	map = &ocsf_actions[action <= PW_ACTION_UNKNOWN ? action : PW_ACTION_UNKNOWN];
	*c = (struct ocsf_class){
		.class_uid = OCSF_NETWORK_ACTIVITY,
		.category_uid = OCSF_CATEGORY_NETWORK,
		.activity_id = map->activity_id,
		.class_name = "Network Activity",
		.category_name = "Network Activity",
		.activity_name = map->activity_name,
		.severity_id = rec->type == PW_REC_ALERT ? 3 : 1,
		.severity = rec->type == PW_REC_ALERT ? "Medium" : "Informational",
		.status = map->status,
	};
}

static void ocsf_endpoint(struct pw_json *j, const char *key, const struct pw_event *ev,
			  const uint8_t addr[16], uint16_t port, const char *service)
{
	char ip[PW_ADDR_STRLEN];

	pw_json_key(j, key);
	pw_json_object_begin(j);
	if (pw_addr_format(ev->family, addr, ip, sizeof(ip)) == 0)
		pw_json_kv_string(j, "ip", ip);
	if (port)
		pw_json_kv_uint(j, "port", port);
	if (port && service)
		pw_json_kv_string(j, "svc_name", service);
	pw_json_object_end(j);
}

static void ocsf_connection(struct pw_json *j, const struct pw_event *ev)
{
	char uid[24];

	pw_json_key(j, "connection_info");
	pw_json_object_begin(j);
	pw_json_kv_string(j, "protocol_name", pw_transport_name(ev->protocol));
	pw_json_kv_uint(j, "protocol_num", ev->protocol);
	if (ev->family == AF_INET) {
		pw_json_kv_uint(j, "protocol_ver_id", 4);
		pw_json_kv_string(j, "protocol_ver", "Internet Protocol version 4 (IPv4)");
	} else {
		pw_json_kv_uint(j, "protocol_ver_id", 6);
		pw_json_kv_string(j, "protocol_ver", "Internet Protocol version 6 (IPv6)");
	}
	switch (ev->direction) {
	case PW_DIR_INBOUND:
		pw_json_kv_uint(j, "direction_id", 1);
		pw_json_kv_string(j, "direction", "Inbound");
		break;
	case PW_DIR_OUTBOUND:
		pw_json_kv_uint(j, "direction_id", 2);
		pw_json_kv_string(j, "direction", "Outbound");
		break;
	default:
		pw_json_kv_uint(j, "direction_id", 0);
		pw_json_kv_string(j, "direction", "Unknown");
		break;
	}
	if (ev->sock_cookie) {
		/* The socket cookie names one socket for its whole life. */
		snprintf(uid, sizeof(uid), "%llu", (unsigned long long)ev->sock_cookie);
		pw_json_kv_string(j, "uid", uid);
	}
	pw_json_object_end(j);
}

static void ocsf_actor(struct pw_json *j, const struct pw_record *rec)
{
	const struct pw_task *t = &rec->ev->owner;
	const char *base;
	char uid[16];

	if (!t->pid)
		return;
	snprintf(uid, sizeof(uid), "%u", t->uid);
	pw_json_key(j, "actor");
	pw_json_object_begin(j);
	pw_json_key(j, "process");
	pw_json_object_begin(j);
	pw_json_kv_uint(j, "pid", t->pid);
	pw_json_kv_uint(j, "tid", t->tid);
	pw_json_key(j, "name");
	pw_json_string_n(j, t->comm, sizeof(t->comm));
	if (rec->proc.cmdline)
		pw_json_kv_string(j, "cmd_line", rec->proc.cmdline);
	if (rec->proc.exe) {
		base = strrchr(rec->proc.exe, '/');
		pw_json_key(j, "file");
		pw_json_object_begin(j);
		pw_json_kv_string(j, "path", rec->proc.exe);
		pw_json_kv_string(j, "name", base ? base + 1 : rec->proc.exe);
		pw_json_kv_uint(j, "type_id", 1); /* Regular File */
		pw_json_kv_string(j, "type", "Regular File");
		pw_json_object_end(j);
	}
	pw_json_key(j, "user");
	pw_json_object_begin(j);
	pw_json_kv_string(j, "uid", uid);
	if (rec->proc.user)
		pw_json_kv_string(j, "name", rec->proc.user);
	pw_json_object_end(j);
	pw_json_key(j, "parent_process");
	pw_json_object_begin(j);
	pw_json_kv_uint(j, "pid", t->ppid);
	pw_json_object_end(j);
	if (rec->proc.container_id) {
		pw_json_key(j, "container");
		pw_json_object_begin(j);
		pw_json_kv_string(j, "uid", rec->proc.container_id);
		pw_json_object_end(j);
	}
	pw_json_object_end(j);
	pw_json_object_end(j);
}

/* traffic.bytes_out counts source -> destination, bytes_in the reverse. */
static void ocsf_traffic(struct pw_json *j, const struct pw_event *ev, enum pw_endpoint_role local)
{
	uint64_t out = local == PW_ROLE_SOURCE ? ev->bytes_sent : ev->bytes_received;
	uint64_t in = local == PW_ROLE_SOURCE ? ev->bytes_received : ev->bytes_sent;

	pw_json_key(j, "traffic");
	pw_json_object_begin(j);
	pw_json_kv_uint(j, "bytes_out", out);
	pw_json_kv_uint(j, "bytes_in", in);
	pw_json_kv_uint(j, "bytes", in + out);
	pw_json_object_end(j);
}

static void ocsf_socket(struct pw_json *j, const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;
	struct pw_endpoint_roles roles = pw_endpoint_roles_of(rec);
	bool close = pw_siem_is_close(ev) && rec->type != PW_REC_SNAPSHOT;

	ocsf_endpoint(j, roles.local == PW_ROLE_SOURCE ? "src_endpoint" : "dst_endpoint", ev,
		      ev->saddr, ev->sport, rec->local_service);
	if (roles.remote != PW_ROLE_NONE)
		ocsf_endpoint(j, roles.remote == PW_ROLE_SOURCE ? "src_endpoint" : "dst_endpoint",
			      ev, ev->daddr, ev->dport, rec->remote_service);
	ocsf_connection(j, ev);
	ocsf_actor(j, rec);
	if (close) {
		ocsf_traffic(j, ev, roles.local);
		pw_json_kv_uint(j, "duration", ev->duration_ns / 1000000);
	}
	if (ev->type == PW_EVENT_BIND && ev->bind_errno) {
		pw_json_kv_string(j, "status_code", pw_errno_name(ev->bind_errno));
		pw_json_kv_string(j, "status_detail", strerror(ev->bind_errno));
	}
}

int pw_encode_ocsf(struct pw_buf *out, const struct pw_record *rec)
{
	size_t start = out->len;
	struct ocsf_class c;
	char type_name[64];
	struct pw_json j;
	int err;

	if (!pw_siem_record_ok(rec))
		return -EINVAL;
	ocsf_classify(rec, &c);
	snprintf(type_name, sizeof(type_name), "%s: %s", c.class_name,
		 c.activity_id == OCSF_OTHER ? "Other" : c.activity_name);

	pw_json_init(&j, out);
	pw_json_object_begin(&j);
	pw_json_kv_uint(&j, "class_uid", (uint64_t)c.class_uid);
	pw_json_kv_string(&j, "class_name", c.class_name);
	pw_json_kv_uint(&j, "category_uid", (uint64_t)c.category_uid);
	pw_json_kv_string(&j, "category_name", c.category_name);
	pw_json_kv_uint(&j, "activity_id", (uint64_t)c.activity_id);
	pw_json_kv_string(&j, "activity_name", c.activity_name);
	pw_json_kv_uint(&j, "type_uid", (uint64_t)c.class_uid * 100 + (uint64_t)c.activity_id);
	pw_json_kv_string(&j, "type_name", type_name);
	pw_json_kv_uint(&j, "time", rec->time_ns / 1000000);
	pw_json_kv_uint(&j, "severity_id", (uint64_t)c.severity_id);
	pw_json_kv_string(&j, "severity", c.severity);
	pw_json_kv_uint(&j, "status_id", c.status);
	pw_json_kv_string(&j, "status", status_names[c.status]);
	pw_json_key(&j, "metadata");
	pw_json_object_begin(&j);
	pw_json_kv_string(&j, "version", PW_OCSF_VERSION);
	pw_json_key(&j, "product");
	pw_json_object_begin(&j);
	pw_json_kv_string(&j, "name", "portwarden");
	pw_json_kv_string(&j, "vendor_name", "portwarden");
	pw_json_object_end(&j);
	pw_json_kv_string(&j, "log_name", pw_siem_type_name(rec->type));
	pw_json_kv_uint(&j, "sequence", rec->seq);
	pw_json_object_end(&j);
	pw_json_key(&j, "device");
	pw_json_object_begin(&j);
	pw_json_kv_string(&j, "hostname", rec->host);
	pw_json_kv_uint(&j, "type_id", 0);
	pw_json_kv_string(&j, "type", "Unknown");
	pw_json_object_end(&j);
	if (rec->type == PW_REC_LOSS) {
		char msg[96];

		snprintf(msg, sizeof(msg), "%llu events lost (%s)",
			 (unsigned long long)rec->loss.lost, rec->loss.reason ? rec->loss.reason : "unknown");
		pw_json_kv_string(&j, "message", msg);
	} else if (rec->ev && rec->type != PW_REC_STATS) {
		ocsf_socket(&j, rec);
	}
	pw_siem_extras(&j, "unmapped", rec);
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
