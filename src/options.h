/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Command-line options: one struct, filled and validated by one parser. */
#ifndef PW_OPTIONS_H
#define PW_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PW_MAX_FILTER 64
#define PW_MAX_OUTPUT_SPECS 8
#define PW_DEFAULT_RINGBUF_BYTES (8u << 20)
#define PW_DEFAULT_FLUSH_MS 10
#define PW_DEFAULT_STATS_INTERVAL_S 60
#define PW_DEFAULT_SOCKET_CHECK_S 10

enum pw_format { PW_FORMAT_TEXT, PW_FORMAT_JSON };
enum pw_color { PW_COLOR_AUTO, PW_COLOR_ALWAYS, PW_COLOR_NEVER };
enum pw_state_hook { PW_STATE_HOOK_AUTO, PW_STATE_HOOK_TP_BTF, PW_STATE_HOOK_TRACEPOINT };
enum pw_bind_hook { PW_BIND_HOOK_AUTO, PW_BIND_HOOK_FEXIT, PW_BIND_HOOK_SYSCALL };

/* Kernel features the hidden --pretend-missing switch can take away, so the
 * tests see each fallback and each refusal on a kernel that has them all. */
enum pw_feature {
	PW_FEATURE_BTF = 1 << 0,         /* /sys/kernel/btf/vmlinux */
	PW_FEATURE_TP_BTF = 1 << 1,      /* BTF-typed tracepoint programs */
	PW_FEATURE_TRACEPOINT = 1 << 2,  /* the sock:inet_sock_set_state tracepoint */
	PW_FEATURE_FEXIT = 1 << 3,       /* fexit on inet_bind / inet6_bind */
	PW_FEATURE_POST_BIND = 1 << 4,   /* cgroup post_bind4/6 */
	PW_FEATURE_SOCK_CREATE = 1 << 5, /* cgroup sock_create (cookies at creation) */
};

struct pw_port_range {
	uint16_t first, last; /* inclusive */
};

struct pw_options {
	enum pw_format format;
	const char *outputs[PW_MAX_OUTPUT_SPECS]; /* --output SPECs (output_spec.h), checked */
	size_t n_outputs;
	enum pw_color color;
	uint32_t pids[PW_MAX_FILTER];
	size_t n_pids;
	struct pw_port_range ports[PW_MAX_FILTER];
	size_t n_ports;
	uint32_t uids[PW_MAX_FILTER];
	size_t n_uids;
	uint8_t protocol; /* 0 for any, else IPPROTO_TCP or IPPROTO_UDP */
	const char *cgroup_path; /* only owners in this cgroup v2 directory */
	const char *run_as_user; /* switch to this user once attached */
	const char *policy_path; /* allowlist to check socket events against (docs/policy.md) */
	bool alerts_only;        /* with a policy: write only alert records */
	bool no_snapshot;        /* skip the start-up snapshot of open sockets */
	uint16_t family;  /* 0 for both, else AF_INET or AF_INET6 */
	uint8_t classes;  /* enum pw_class bits */
	enum pw_state_hook state_hook;
	enum pw_bind_hook bind_hook;
	uint32_t ringbuf_bytes;
	uint32_t flush_ms; /* longest a quiet event waits in the ring */
	uint32_t stats_interval_s; /* a stats record this often (0: only at exit) */
	uint32_t socket_check_s;   /* the socket ledger's check this often (0: no ledger) */
	uint32_t pretend_missing;  /* enum pw_feature bits: act as if the kernel lacked them */
	/* Hidden, for the tests: every Nth state change, the main tp_btf program
	 * acts as if the kernel had skipped it (the backup must report it), or
	 * reports it without a trace for the backup (which reports it again,
	 * and the copy must be dropped). 0: off. */
	uint32_t pretend_skipped_every;
	uint32_t pretend_twice_every;
	/* Hidden, for the tests: every Nth state change read from the ring is
	 * dropped unseen, as if the kernel had not delivered it, for the
	 * socket ledger to find. 0: off. */
	uint32_t pretend_undelivered_every;
	int verbose;
	bool help;
	bool version;
};

/* Fill opts from argv. Returns 0, or -EINVAL with a one-line message in err
 * naming the option and the bad value. */
int pw_options_parse(struct pw_options *opts, int argc, char **argv, char *err, size_t err_len);
void pw_options_usage(FILE *out);
const char *pw_state_hook_name(enum pw_state_hook hook);
const char *pw_bind_hook_name(enum pw_bind_hook hook);

#endif /* PW_OPTIONS_H */
