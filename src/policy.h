/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Policy step: an allowlist of the ports that may be opened (listen, bind)
 * or connected to, and the decision whether a socket event is an alert.
 * The file format is described in docs/policy.md. */
#ifndef PW_POLICY_H
#define PW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "record.h"

struct pw_policy;

#define PW_POLICY_RULE_LEN 256
#define PW_POLICY_REASON_LEN 1024

/* Why a record is an alert; the caller owns the storage. */
struct pw_policy_verdict {
	char rule[PW_POLICY_RULE_LEN];     /* "name" of the deny rule, "FILE:LINE" of an
					    * unnamed one, or "default" when no rule matched */
	char reason[PW_POLICY_REASON_LEN]; /* one sentence, for people and for the SIEM */
};

/* Read and parse the policy at path. Returns 0 with *out set, or a negative
 * errno with *out NULL and one line in err: "PATH:LINE:COL: expected ...,
 * found '...'" for a mistake in the file, "cannot read PATH: ..." when it
 * cannot be read. */
int pw_policy_load(const char *path, struct pw_policy **out, char *err, size_t err_len);
/* The same from text in memory; name stands for the path in messages. */
int pw_policy_parse(const char *name, const char *text, struct pw_policy **out, char *err,
		    size_t err_len);
void pw_policy_free(struct pw_policy *policy);

/* Whether rec must raise an alert: a TCP listen, a bound UDP port (state,
 * bind and snapshot records), or, when the policy has connect rules, an
 * outgoing TCP connect, that no allow rule permits or that a deny rule
 * names. Every other record returns false. On true, verdict says why.
 * rec->proc and rec->local_service/remote_service should be annotated
 * first: exe=, user= and container= conditions match on them. */
bool pw_policy_check(const struct pw_policy *policy, const struct pw_record *rec,
		     struct pw_policy_verdict *verdict);

/* The alert record for rec and its verdict: a copy of rec of type
 * PW_REC_ALERT pointing at verdict's strings. */
void pw_policy_alert_record(const struct pw_record *rec, const struct pw_policy_verdict *verdict,
			    struct pw_record *alert);

/* Number of rules; whether any rule is about outgoing connections. */
size_t pw_policy_rule_count(const struct pw_policy *policy);
bool pw_policy_has_connect_rules(const struct pw_policy *policy);
/* The path or name the policy was loaded from. */
const char *pw_policy_name(const struct pw_policy *policy);

#endif /* PW_POLICY_H */
