/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Fuzz target: the policy parser (docs/policy.md). A policy file is
 * admin-written, but a parser that can be crashed by a typo is a parser
 * that a bad deploy turns into a dead tracer: any text must come back as a
 * policy or as one error line, never a crash or a leak. An accepted policy
 * is then asked about a few socket events, which must not crash either. */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "fuzz_common.h"
#include "policy.h"

static void check_event(const struct pw_policy *policy, uint8_t type, uint8_t old_state,
			uint8_t new_state, uint8_t protocol, uint16_t family, uint16_t sport,
			uint16_t dport, const char *user, const char *exe, const char *container)
{
	struct pw_policy_verdict verdict;
	struct pw_record rec, alert;
	struct pw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.old_state = old_state;
	ev.new_state = new_state;
	ev.protocol = protocol;
	ev.family = family;
	ev.sport = sport;
	ev.dport = dport;
	ev.requested_port = sport;
	ev.owner.pid = 100;
	ev.owner.uid = 33;
	strcpy(ev.owner.comm, "postgres");
	ev.saddr[0] = family == AF_INET ? 127 : 0;
	ev.saddr[family == AF_INET ? 3 : 15] = 1;
	memset(&rec, 0, sizeof(rec));
	rec.type = (enum pw_record_type)type;
	rec.ev = &ev;
	rec.proc.user = user;
	rec.proc.exe = exe;
	rec.proc.container_id = container;
	if (pw_policy_check(policy, &rec, &verdict)) {
		FUZZ_CHECK(memchr(verdict.rule, '\0', sizeof(verdict.rule)) != NULL);
		FUZZ_CHECK(memchr(verdict.reason, '\0', sizeof(verdict.reason)) != NULL);
		FUZZ_CHECK(verdict.rule[0] != '\0');
		pw_policy_alert_record(&rec, &verdict, &alert);
		FUZZ_CHECK(alert.type == PW_REC_ALERT);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct pw_policy *policy = (struct pw_policy *)1;
	char err[256], *text;
	size_t len;
	int rc;

	text = fuzz_rest(&in, &len);
	memset(err, 'X', sizeof(err));
	rc = pw_policy_parse("fuzz.policy", text, &policy, err, sizeof(err));
	if (rc) {
		FUZZ_CHECK(rc < 0);
		FUZZ_CHECK(policy == NULL);
		/* One line that names the file. */
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_CHECK(strchr(err, '\n') == NULL);
		FUZZ_CHECK(strncmp(err, "fuzz.policy", 11) == 0);
		free(text);
		return 0;
	}
	FUZZ_CHECK(policy != NULL);
	FUZZ_CHECK(strcmp(pw_policy_name(policy), "fuzz.policy") == 0);
	pw_policy_rule_count(policy);
	pw_policy_has_connect_rules(policy);
	check_event(policy, PW_EVENT_STATE, PW_TCP_CLOSE, PW_TCP_LISTEN, IPPROTO_TCP, AF_INET, 22,
		    0, "root", "/usr/sbin/sshd", NULL);
	check_event(policy, PW_EVENT_STATE, PW_TCP_CLOSE, PW_TCP_LISTEN, IPPROTO_TCP, AF_INET6,
		    8080, 0, NULL, NULL,
		    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	check_event(policy, PW_EVENT_BIND, 0, 0, IPPROTO_UDP, AF_INET, 53, 0, "bind",
		    "/usr/sbin/named", NULL);
	check_event(policy, PW_EVENT_STATE, PW_TCP_CLOSE, PW_TCP_SYN_SENT, IPPROTO_TCP, AF_INET,
		    40000, 443, "www-data", "/usr/bin/curl", NULL);
	check_event(policy, PW_EVENT_STATE, PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, IPPROTO_TCP,
		    AF_INET, 40000, 443, NULL, NULL, NULL);
	pw_policy_free(policy);
	free(text);
	return 0;
}
