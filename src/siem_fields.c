/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Record checks, endpoint roles and the portwarden.* extras shared by the
 * ECS and OCSF encoders. */
#include <netinet/in.h>
#include "addr.h"
#include "encode.h"
#include "encode_siem.h"
#include "names.h"
#include "siem_fields.h"

const char *pw_siem_type_name(enum pw_record_type type)
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

bool pw_siem_record_ok(const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;

	if (!pw_siem_type_name(rec->type))
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

enum pw_action pw_siem_action(const struct pw_record *rec)
{
	if (rec->type == PW_REC_SNAPSHOT || (rec->type == PW_REC_ALERT && rec->alert.existing))
		return PW_ACTION_EXISTING;
	return pw_action_of(rec->ev);
}

bool pw_siem_has_remote(const struct pw_event *ev)
{
	return ev->dport != 0 || !pw_addr_is_unspecified(ev->family, ev->daddr);
}

bool pw_siem_is_close(const struct pw_event *ev)
{
	return ev->type == PW_EVENT_STATE && ev->new_state == PW_TCP_CLOSE &&
	       ev->old_state != PW_TCP_LISTEN;
}

struct pw_endpoint_roles pw_endpoint_roles_of(const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;
	struct pw_endpoint_roles roles = { PW_ROLE_SOURCE, PW_ROLE_NONE };
	enum pw_action action;
	bool has_remote;

	if (!ev)
		return (struct pw_endpoint_roles){ PW_ROLE_NONE, PW_ROLE_NONE };
	has_remote = pw_siem_has_remote(ev);
	action = pw_siem_action(rec);
	/* A listening or bound socket waits to be reached: it is the
	 * destination of whatever comes, as is the local end of an accepted
	 * connection. */
	if (ev->direction == PW_DIR_INBOUND || ev->direction == PW_DIR_LISTEN ||
	    action == PW_ACTION_LISTEN || action == PW_ACTION_LISTEN_CLOSE ||
	    action == PW_ACTION_BIND || action == PW_ACTION_BIND_FAILED) {
		roles.local = PW_ROLE_DESTINATION;
		roles.remote = has_remote ? PW_ROLE_SOURCE : PW_ROLE_NONE;
		return roles;
	}
	/* Outbound, or no direction known: the local end started it. */
	roles.remote = has_remote ? PW_ROLE_DESTINATION : PW_ROLE_NONE;
	return roles;
}

static void extras_endpoint(struct pw_json *j, const char *key, uint16_t port, const char *service)
{
	pw_json_key(j, key);
	pw_json_object_begin(j);
	pw_json_kv_string(j, "category", port ? pw_port_category(port) : NULL);
	pw_json_kv_string(j, "service", port ? service : NULL);
	pw_json_object_end(j);
}

static void extras_socket(struct pw_json *j, const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;

	pw_json_kv_string(j, "action", pw_action_name(pw_siem_action(rec)));
	pw_json_kv_string(j, "attribution", pw_attribution_name(ev->attribution));
	pw_json_kv_string(j, "direction", pw_direction_name(ev->direction));
	if (ev->sock_cookie)
		pw_json_kv_uint(j, "sock_cookie", ev->sock_cookie);
	else
		pw_json_kv_null(j, "sock_cookie");
	pw_json_kv_uint(j, "netns", ev->netns);
	pw_json_kv_string(j, "hook", pw_hook_name(ev->hook));
	pw_json_kv_string(j, "cgroup", rec->proc.cgroup);
	if (ev->owner.cgroup_id)
		pw_json_kv_uint(j, "cgroup_id", ev->owner.cgroup_id);
	extras_endpoint(j, "local", ev->sport, rec->local_service);
	if (pw_siem_has_remote(ev))
		extras_endpoint(j, "remote", ev->dport, rec->remote_service);
	if (ev->type == PW_EVENT_STATE && ev->protocol == IPPROTO_TCP) {
		pw_json_key(j, "tcp");
		pw_json_object_begin(j);
		if (rec->type == PW_REC_SNAPSHOT) {
			pw_json_kv_string(j, "state", pw_tcp_state_name(ev->new_state));
		} else {
			pw_json_kv_string(j, "old_state", pw_tcp_state_name(ev->old_state));
			pw_json_kv_string(j, "new_state", pw_tcp_state_name(ev->new_state));
			pw_json_kv_uint(j, "prev_state_ns", ev->prev_state_ns);
			if (pw_siem_is_close(ev)) {
				pw_json_kv_uint(j, "duration_ns", ev->duration_ns);
				pw_json_kv_uint(j, "bytes_sent", ev->bytes_sent);
				pw_json_kv_uint(j, "bytes_received", ev->bytes_received);
			}
		}
		pw_json_object_end(j);
	}
	if (ev->type == PW_EVENT_BIND) {
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
}

void pw_siem_extras(struct pw_json *j, const char *key, const struct pw_record *rec)
{
	pw_json_key(j, key);
	pw_json_object_begin(j);
	pw_json_kv_uint(j, "schema_version", PW_SCHEMA_VERSION);
	pw_json_kv_uint(j, "seq", rec->seq);
	pw_json_kv_string(j, "type", pw_siem_type_name(rec->type));
	switch (rec->type) {
	case PW_REC_LOSS:
		pw_json_kv_uint(j, "lost", rec->loss.lost);
		pw_json_kv_string(j, "reason", rec->loss.reason);
		break;
	case PW_REC_STATS:
		pw_json_kv_uint(j, "events", rec->stats.events);
		pw_json_kv_uint(j, "lost", rec->stats.lost);
		pw_json_kv_uint(j, "filtered", rec->stats.filtered);
		break;
	case PW_REC_ALERT:
		pw_json_kv_string(j, "rule", rec->alert.rule);
		pw_json_kv_string(j, "reason", rec->alert.reason);
		extras_socket(j, rec);
		break;
	default:
		extras_socket(j, rec);
		break;
	}
	pw_json_object_end(j);
}
