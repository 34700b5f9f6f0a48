/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Encoding for SIEMs that expect their own schema: Elastic Common Schema and
 * OCSF Network Activity. Field by field mapping in docs/formats.md. */
#ifndef PW_ENCODE_SIEM_H
#define PW_ENCODE_SIEM_H

#include "buf.h"
#include "record.h"

#define PW_ECS_VERSION "8.11.0"
#define PW_OCSF_VERSION "1.3.0"

/* Append one ECS JSON object and '\n'. Same returns as pw_encode_json:
 * 0, -ENOMEM, or -EINVAL for a record that cannot be encoded; on error
 * nothing is appended (unless the buffer had already failed). */
int pw_encode_ecs(struct pw_buf *out, const struct pw_record *rec);
/* Append one OCSF event and '\n': Network Activity (class_uid 4001) for
 * socket events, Base Event (class_uid 0) for loss and stats. Same returns. */
int pw_encode_ocsf(struct pw_buf *out, const struct pw_record *rec);

/* Which end of a socket event is the source and which the destination, as
 * both SIEM schemas see it: outbound local->remote, inbound remote->local,
 * a listening or bound socket is the destination others will reach. */
enum pw_endpoint_role { PW_ROLE_NONE, PW_ROLE_SOURCE, PW_ROLE_DESTINATION };
struct pw_endpoint_roles {
	enum pw_endpoint_role local;
	enum pw_endpoint_role remote; /* PW_ROLE_NONE when there is no remote end */
};
struct pw_endpoint_roles pw_endpoint_roles_of(const struct pw_record *rec);

#endif /* PW_ENCODE_SIEM_H */
