/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where cgroup v2 lives on this machine, and cgroup ids. */
#ifndef PW_CGROUP_H
#define PW_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/* Mount point of cgroup v2 ("/sys/fs/cgroup", or "/sys/fs/cgroup/unified"
 * on hybrid systems) into out. Returns 0, -ENOENT when none is mounted, or
 * -ENAMETOOLONG. */
int pw_cgroup2_mount(char *out, size_t len);
/* The id of a cgroup v2 directory (its inode number, as
 * bpf_get_current_cgroup_id() reports it). Returns 0, -ENOTDIR or -errno. */
int pw_cgroup_id_of(const char *path, uint64_t *id);

#endif /* PW_CGROUP_H */
