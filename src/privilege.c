/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Drops capabilities (and optionally root) after the programs are attached:
 * a bug in event handling must not be a way to root. No libcap: the raw
 * capset(2) interface is small and stable. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "privilege.h"

uint64_t pw_kept_capabilities(void)
{
	return (1ull << CAP_SYS_PTRACE) | (1ull << CAP_DAC_READ_SEARCH);
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t err_len, const char *fmt,
						       ...)
{
	int code = -errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return code ? code : -EPERM;
}

static int set_capabilities(uint64_t keep)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	return (int)syscall(SYS_capset, &header, data);
}

int pw_works_with_capabilities(uint64_t keep, int (*check)(void *ctx), void *ctx)
{
	int status;
	pid_t child;

	fflush(NULL); /* nothing buffered is written twice */
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0)
		_exit(set_capabilities(keep) == 0 && check(ctx) == 0 ? 0 : 1);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int pw_drop_privileges(const char *user_name, uint64_t keep, char *err, size_t err_len)
{
	int cap;

	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * goes next. */
	for (cap = 0; cap <= 63; cap++) {
		if (keep & (1ull << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return fail(err, err_len, "cannot drop capability %d from the bounding set: %s",
				    cap, strerror(errno));
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return fail(err, err_len, "cannot clear ambient capabilities: %s", strerror(errno));

	if (user_name) {
		struct passwd pw, *found = NULL;
		char buf[4096];
		int rc = getpwnam_r(user_name, &pw, buf, sizeof(buf), &found);

		if (rc || !found) {
			errno = rc ? rc : ENOENT;
			return fail(err, err_len, "--user: no user named '%s'", user_name);
		}
		/* Keep the permitted set across setuid, then trim it below. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
			return fail(err, err_len, "cannot keep capabilities across setuid: %s",
				    strerror(errno));
		if (setgroups(0, NULL) || setgid(pw.pw_gid) || setuid(pw.pw_uid))
			return fail(err, err_len, "--user %s: cannot switch to uid %u gid %u: %s",
				    user_name, pw.pw_uid, pw.pw_gid, strerror(errno));
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	if (set_capabilities(keep))
		return fail(err, err_len, "cannot drop capabilities: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return fail(err, err_len, "cannot set no_new_privs: %s", strerror(errno));
	return 0;
}
