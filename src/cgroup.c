/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cgroup v2 mount discovery and cgroup ids. */
#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "cgroup.h"

int pw_cgroup2_mount(char *out, size_t len)
{
	FILE *mounts = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	int err = -ENOENT;

	if (!mounts)
		return -errno;
	while ((m = getmntent(mounts))) {
		if (strcmp(m->mnt_type, "cgroup2"))
			continue;
		err = snprintf(out, len, "%s", m->mnt_dir) < (int)len ? 0 : -ENAMETOOLONG;
		break;
	}
	endmntent(mounts);
	return err;
}

int pw_cgroup_id_of(const char *path, uint64_t *id)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}
