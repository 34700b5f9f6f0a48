/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Load/attach step: probes which hooks this kernel allows, loads the BPF
 * programs with the user's filters and attaches them. */
#ifndef PW_LOADER_H
#define PW_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include "options.h"
#include "portwarden.h"

#define PW_MAX_LINKS 12

struct portwarden_bpf;
struct bpf_link;

struct pw_loader {
	struct portwarden_bpf *skel;
	struct bpf_link *links[PW_MAX_LINKS];
	int n_links;
	int cgroup_fd;
	enum pw_state_hook state_hook; /* the active one, never AUTO once started */
	enum pw_bind_hook bind_hook;
	bool cookies_at_create; /* cgroup sock_create program attached */
	bool binds_outside_syscall; /* cgroup post_bind programs attached (io_uring binds) */
};

/* Probe, load and attach. Returns 0, or a negative errno with a one-line
 * message in err saying what is wrong and what to do. */
int pw_loader_start(struct pw_loader *loader, const struct pw_options *opts, char *err,
		    size_t err_len);
/* Detach every program: no new events after this returns, while the ring
 * and the counters stay readable, so shutdown can drain and account. */
void pw_loader_detach(struct pw_loader *loader);
void pw_loader_stop(struct pw_loader *loader);
int pw_loader_ringbuf_fd(const struct pw_loader *loader);
/* One counter (enum pw_counter), summed over CPUs and counter sets: a
 * syscall per set. */
int pw_loader_counter(const struct pw_loader *loader, uint32_t counter, uint64_t *value);
/* Every counter into out[PW_COUNTER_MAX]. */
int pw_loader_counters(const struct pw_loader *loader, uint64_t *out);
/* Runs of the programs that the kernel skipped because the same program was
 * already running on that CPU (a softirq state change interrupting ours):
 * not counted by any program. Those of the main state program that its
 * backup made good are in PW_COUNTER_RECOVERED; read the counters first, so
 * that every recovery read has its skip read too. Kernels before 5.12 do not
 * count skips (always 0). Returns 0 or -errno. */
int pw_loader_skipped(const struct pw_loader *loader, uint64_t *skipped);

#endif /* PW_LOADER_H */
