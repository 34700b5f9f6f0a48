/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A bounded cache of process identities keyed by (pid, start time), so a
 * reused pid never inherits another process's identity, and a hit costs
 * neither a /proc read nor an allocation. */
#ifndef PW_PROCESS_CACHE_H
#define PW_PROCESS_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "container.h"
#include "json_writer.h"
#include "portwarden.h"

/* Each string NULL when unknown; each measured for JSON once, when the
 * entry is filled, not per event. */
struct pw_process_identity {
	const char *exe;
	const char *cmdline;
	const char *cgroup;
	const char *container_id;
	struct pw_json_shape exe_shape, cmdline_shape, cgroup_shape, container_id_shape;
};

struct pw_process_cache_config {
	const char *proc_root; /* "/proc", or a fixture tree */
	size_t capacity;       /* processes remembered; 0 for 4096 */
	uint64_t miss_ttl_ns;  /* how long an unreadable process stays unread; 0 for 1 s */
	long clock_ticks;      /* USER_HZ of /proc/PID/stat; 0 for sysconf(_SC_CLK_TCK) */
};

struct pw_process_cache_stats {
	uint64_t hits;      /* answered from the cache (also a remembered miss) */
	uint64_t proc_reads; /* /proc/PID read attempts */
	uint64_t evictions; /* least recently used entries dropped for room */
};

struct pw_process_cache;

/* Returns 0 or a negative errno. */
int pw_process_cache_new(struct pw_process_cache **out, const struct pw_process_cache_config *cfg);
void pw_process_cache_free(struct pw_process_cache *c);

/* Identity of the process that owner (from a kernel record) names by pid
 * and start_ns, the boot-based start time of the process or of its thread
 * tid (0: unknown; /proc is then trusted unchecked, for the miss TTL only).
 * now_ns is any monotonic clock (the event's timestamp): a process whose
 * /proc entry is gone or belongs to another process is remembered as
 * unknown until now_ns passes the miss TTL. When the main thread's comm
 * changes (execve), /proc is read again, at most once per miss TTL.
 * Never NULL; the strings stay valid until the next lookup. */
const struct pw_process_identity *pw_process_lookup(struct pw_process_cache *c,
						    const struct pw_task *owner, uint64_t now_ns);

void pw_process_cache_stats(const struct pw_process_cache *c, struct pw_process_cache_stats *out);

#endif /* PW_PROCESS_CACHE_H */
