/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the ECS and OCSF encoders share: checking a record, its action and
 * type words, and the portwarden-specific fields neither schema has. */
#ifndef PW_SIEM_FIELDS_H
#define PW_SIEM_FIELDS_H

#include <stdbool.h>
#include "action.h"
#include "json_writer.h"
#include "record.h"

/* "state", "bind", "loss", "stats", "snapshot", "alert"; NULL if unknown. */
const char *pw_siem_type_name(enum pw_record_type type);
/* True when rec can be encoded: a known type, and for socket records an
 * event of the matching kind and a known address family. */
bool pw_siem_record_ok(const struct pw_record *rec);
/* The action of a socket record (PW_ACTION_EXISTING for snapshots). */
enum pw_action pw_siem_action(const struct pw_record *rec);
/* The socket has a remote end (a port or a specified address). */
bool pw_siem_has_remote(const struct pw_event *ev);
/* The byte counts and duration of a close belong on it (not listen_close). */
bool pw_siem_is_close(const struct pw_event *ev);
/* Write key: {...} with the fields of the portwarden JSON contract that
 * neither schema has a place for (schema_version, seq, type, action,
 * attribution, sock_cookie, netns, hook, cgroup, service names, tcp.*,
 * bind.*, loss, stats, alert). */
void pw_siem_extras(struct pw_json *j, const char *key, const struct pw_record *rec);

#endif /* PW_SIEM_FIELDS_H */
