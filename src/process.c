/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* /proc/PID readers. Every file is opened relative to one directory fd: a
 * /proc/PID directory stays bound to the process it was opened for, so once
 * its stat shows the right start time the other files cannot come from a
 * process that reused the pid in between (those reads fail instead). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "process.h"

#define STAT_MAX 1024   /* comm is at most 64 bytes; the rest is numbers */
#define CGROUP_MAX 8192 /* every hierarchy's line on a cgroup v1 system */
#define NSEC_PER_SEC 1000000000ull

int pw_proc_parse_stat(const char *stat, char *state, uint64_t *start_ticks)
{
	const char *p = strrchr(stat, ')');
	unsigned long long value;
	char *end;
	int field;

	/* comm may contain ") ", so fields are counted from its last ')':
	 * state is field 3, starttime field 22. */
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -EINVAL;
	p += 2;
	*state = *p;
	for (field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	errno = 0;
	value = strtoull(p, &end, 10);
	if (errno || end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EINVAL;
	*start_ticks = value;
	return 0;
}

bool pw_proc_same_start(uint64_t start_ns, uint64_t start_ticks, long clock_ticks)
{
	uint64_t ns_per_tick, expected;

	/* Above 1e9 a tick is shorter than the nanosecond the division below
	 * needs (found by fuzz_proc: division by zero). */
	if (clock_ticks <= 0 || (uint64_t)clock_ticks > NSEC_PER_SEC)
		return false;
	/* The kernel prints nsec_to_clock_t(start_boottime): rounded down. */
	ns_per_tick = NSEC_PER_SEC / (uint64_t)clock_ticks;
	expected = start_ns / ns_per_tick;
	return start_ticks + 1 >= expected && start_ticks <= expected + 1;
}

size_t pw_proc_join_cmdline(char *buf, size_t len)
{
	size_t i;

	while (len && buf[len - 1] == '\0')
		len--;
	for (i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	return len;
}

long pw_proc_pick_cgroup(const char *text, char *out, size_t out_len)
{
	const char *line, *next, *path, *best = NULL, *v2 = NULL, *named = NULL;
	size_t best_len = 0, v2_len = 0, named_len = 0, len;

	/* Lines are "hierarchy-id:controllers:path". cgroup v2 has one line,
	 * "0::/path". On hybrid systems prefer it unless it is the bare root
	 * while a v1 hierarchy (systemd's named one first) places the process. */
	for (line = text; *line; line = next) {
		const char *colon1, *colon2;

		next = strchr(line, '\n');
		len = next ? (size_t)(next - line) : strlen(line);
		next = next ? next + 1 : line + len;
		colon1 = memchr(line, ':', len);
		if (!colon1)
			continue;
		colon2 = memchr(colon1 + 1, ':', len - (size_t)(colon1 + 1 - line));
		if (!colon2)
			continue;
		path = colon2 + 1;
		len -= (size_t)(path - line);
		if (!len)
			continue;
		if (colon1 - line == 1 && line[0] == '0' && colon2 == colon1 + 1) {
			v2 = path;
			v2_len = len;
		} else if (!named && (size_t)(colon2 - colon1 - 1) == strlen("name=systemd") &&
			   memcmp(colon1 + 1, "name=systemd", strlen("name=systemd")) == 0) {
			named = path;
			named_len = len;
		} else if (!best) {
			best = path;
			best_len = len;
		}
	}
	if (named) {
		best = named;
		best_len = named_len;
	}
	if (v2) {
		bool v2_is_root = v2_len == 1 && v2[0] == '/';
		bool v1_places = best && !(best_len == 1 && best[0] == '/');

		if (!v2_is_root || !v1_places) {
			best = v2;
			best_len = v2_len;
		}
	}
	if (!best)
		return -ENOENT;
	if (!out_len)
		return -EINVAL;
	if (best_len >= out_len)
		best_len = out_len - 1;
	memcpy(out, best, best_len);
	out[best_len] = '\0';
	return (long)best_len;
}

/* Reads up to len - 1 bytes of dirfd/name into buf; returns the count or a
 * negative errno. */
static long read_file_at(int dirfd, const char *name, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd, err = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto cleanup;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
cleanup:
	close(fd);
	return err ? err : (long)got;
}

void pw_proc_info_free(struct pw_proc_info *info)
{
	free(info->storage);
	memset(info, 0, sizeof(*info));
}

/* Copies the strings that were read (len < 0: not read) into one block. */
static int pack_info(struct pw_proc_info *out, const char *exe, long exe_len, const char *cmdline,
		     long cmdline_len, const char *cgroup, long cgroup_len)
{
	size_t total = 0;
	char *p;

	total += exe_len > 0 ? (size_t)exe_len + 1 : 0;
	total += cmdline_len > 0 ? (size_t)cmdline_len + 1 : 0;
	total += cgroup_len > 0 ? (size_t)cgroup_len + 1 : 0;
	if (!total)
		return 0;
	p = malloc(total);
	if (!p)
		return -ENOMEM;
	out->storage = p;
	if (exe_len > 0) {
		out->exe = memcpy(p, exe, (size_t)exe_len + 1);
		p += exe_len + 1;
	}
	if (cmdline_len > 0) {
		out->cmdline = memcpy(p, cmdline, (size_t)cmdline_len + 1);
		p += cmdline_len + 1;
	}
	if (cgroup_len > 0)
		out->cgroup = memcpy(p, cgroup, (size_t)cgroup_len + 1);
	return 0;
}

/* Whether thread tid of the process open at dirfd started at start_ns. */
static bool thread_started_at(int dirfd, uint32_t tid, uint64_t start_ns, long clock_ticks)
{
	char path[32], stat[STAT_MAX], state;
	uint64_t start_ticks;

	snprintf(path, sizeof(path), "task/%u/stat", tid);
	return read_file_at(dirfd, path, stat, sizeof(stat)) > 0 &&
	       pw_proc_parse_stat(stat, &state, &start_ticks) == 0 &&
	       pw_proc_same_start(start_ns, start_ticks, clock_ticks);
}

int pw_proc_read(const char *proc_root, uint32_t pid, uint32_t tid, uint64_t start_ns,
		 long clock_ticks, struct pw_proc_info *out)
{
	char cmdline[PW_PROC_CMDLINE_MAX], cgroup_text[CGROUP_MAX], cgroup[CGROUP_MAX];
	char path[PATH_MAX], exe[PATH_MAX], stat[STAT_MAX];
	long exe_len, cmdline_len, cgroup_len;
	uint64_t start_ticks;
	int dirfd = -1, err;
	char state;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (snprintf(path, sizeof(path), "%s/%u", proc_root, pid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;

	n = readlinkat(dirfd, "exe", exe, sizeof(exe) - 1);
	exe_len = n;
	if (n >= 0)
		exe[n] = '\0';
	cmdline_len = read_file_at(dirfd, "cmdline", cmdline, sizeof(cmdline));
	if (cmdline_len > 0)
		cmdline_len = (long)pw_proc_join_cmdline(cmdline, (size_t)cmdline_len);
	cgroup_len = read_file_at(dirfd, "cgroup", cgroup_text, sizeof(cgroup_text));
	if (cgroup_len >= 0)
		cgroup_len = pw_proc_pick_cgroup(cgroup_text, cgroup, sizeof(cgroup));
	/* stat comes last: a process alive now was alive for the reads above,
	 * and the directory fd guarantees they were of this same process. */
	n = read_file_at(dirfd, "stat", stat, sizeof(stat));
	if (n < 0) {
		err = n == -ESRCH ? -ENOENT : (int)n;
		goto cleanup;
	}
	err = pw_proc_parse_stat(stat, &state, &start_ticks);
	if (err)
		goto cleanup;
	if (start_ns && !pw_proc_same_start(start_ns, start_ticks, clock_ticks) &&
	    !(tid && tid != pid && thread_started_at(dirfd, tid, start_ns, clock_ticks))) {
		err = -ESRCH;
		goto cleanup;
	}
	if (state == 'Z' || state == 'X') {
		err = -ENOENT;
		goto cleanup;
	}
	err = pack_info(out, exe, exe_len, cmdline, cmdline_len, cgroup, cgroup_len);
cleanup:
	close(dirfd);
	if (err)
		pw_proc_info_free(out);
	return err;
}
