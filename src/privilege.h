/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Least privilege: once the BPF programs are attached, the tracer keeps only
 * what reading events and /proc needs. */
#ifndef PW_PRIVILEGE_H
#define PW_PRIVILEGE_H

#include <stddef.h>
#include <stdint.h>

/* The capabilities the running tracer keeps (bit numbers of linux/capability.h):
 * CAP_SYS_PTRACE to read /proc/PID/exe of other users' processes, and
 * CAP_DAC_READ_SEARCH to read /proc files of processes it does not own. */
uint64_t pw_kept_capabilities(void);

/* Does check(ctx) still return 0 with only the capabilities in keep? Asked in
 * a forked child, so the caller keeps its own: 1 yes, 0 no, or a negative
 * errno if the child could not be made. Call it before any thread starts. */
int pw_works_with_capabilities(uint64_t keep, int (*check)(void *ctx), void *ctx);

/* Switch to user_name (if not NULL), drop every capability but those in keep
 * from the effective, permitted, inheritable, ambient and bounding sets, and
 * forbid regaining any (no_new_privs). Returns 0 or a negative errno with a
 * message in err. */
int pw_drop_privileges(const char *user_name, uint64_t keep, char *err, size_t err_len);

#endif /* PW_PRIVILEGE_H */
