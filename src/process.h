/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reads what the kernel record cannot carry about a process (executable,
 * command line, cgroup) from /proc/PID, and checks that /proc/PID is still
 * the process the event named and not a later one that reused its pid. */
#ifndef PW_PROCESS_H
#define PW_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_PROC_CMDLINE_MAX 16384 /* longer command lines are cut */

/* Strings read from /proc/PID, each NULL when it could not be read (a zombie
 * has no exe, a kernel thread no cmdline). All live in one allocation. */
struct pw_proc_info {
	char *exe;     /* readlink of exe, " (deleted)" kept as the kernel shows it */
	char *cmdline; /* arguments joined by single spaces */
	char *cgroup;  /* cgroup v2 path ("0::" line), else the v1 path naming the process */
	char *storage;
};

/* Reads /proc/PID below proc_root (normally "/proc") into out, which the
 * caller releases with pw_proc_info_free. start_ns is the boot-based start
 * time from the event; 0 means unknown and skips the check. It may be the
 * start of thread tid rather than of the process (a kernel record filled
 * from a thread's task_struct): then /proc/PID/task/TID/stat must match.
 * Returns 0; -ENOENT when /proc/PID is gone or a zombie (whose exe and
 * cmdline are gone and whose cgroup reads as the root); -ESRCH when /proc/PID
 * belongs to another process (start time differs by more than one clock
 * tick); another negative errno on failure. out is zeroed on any error. */
int pw_proc_read(const char *proc_root, uint32_t pid, uint32_t tid, uint64_t start_ns,
		 long clock_ticks, struct pw_proc_info *out);
void pw_proc_info_free(struct pw_proc_info *info);

/* The pieces, exposed for tests. */

/* Field 3 (state: 'R', 'S', ..., 'Z' for a zombie) and field 22 (starttime,
 * clock ticks since boot) of a /proc/PID/stat line, whose comm (field 2) may
 * hold spaces and ')'. Returns 0 or -EINVAL. */
int pw_proc_parse_stat(const char *stat, char *state, uint64_t *start_ticks);
/* True when start_ticks (from stat) and start_ns (from the kernel's
 * task->start_boottime) name the same moment, within one tick. */
bool pw_proc_same_start(uint64_t start_ns, uint64_t start_ticks, long clock_ticks);
/* In place: NULs between arguments become single spaces, trailing NULs go.
 * Returns the new length. */
size_t pw_proc_join_cmdline(char *buf, size_t len);
/* The cgroup path from /proc/PID/cgroup text, copied into out (NUL
 * terminated). Returns the length, or -ENOENT when there is none. */
long pw_proc_pick_cgroup(const char *text, char *out, size_t out_len);

#endif /* PW_PROCESS_H */
