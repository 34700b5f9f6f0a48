/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Fuzz target: the /proc parsers. A process controls its own comm (inside
 * stat and status), its command line, and through a container runtime its
 * cgroup path, so each is fed arbitrary contents: the parsers one by one,
 * then pw_proc_read (annotation) and pw_inventory_read_owner (start-up
 * snapshot) over a fake /proc/PID directory holding those files.
 * Input: four sections, each a 2-byte big-endian length then its bytes
 * (stat, cmdline, cgroup, status), then the exe link target as the rest. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include "container.h"
#include "fuzz_common.h"
#include "inventory.h"
#include "process.h"

#define FAKE_PID 4242

static char proc_root[64];

/* One section as a NUL-terminated copy (embedded NULs kept: /proc files
 * have them, and the parsers must stop at them safely). */
static char *section(struct fuzz_input *in, size_t *len)
{
	size_t n = ((size_t)fuzz_u8(in) << 8) | fuzz_u8(in);
	char *s;

	if (n > in->size)
		n = in->size;
	s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, in->data, n);
	s[n] = '\0';
	in->data += n;
	in->size -= n;
	*len = n;
	return s;
}

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

static void check_parsers(const char *stat, char *cmdline, size_t cmdline_len, const char *cgroup)
{
	char state = 0, picked[512], id[PW_CONTAINER_ID_LEN + 1];
	const char *cid;
	uint64_t ticks = 0;
	size_t n, out_len;
	long got;

	if (pw_proc_parse_stat(stat, &state, &ticks) == 0)
		FUZZ_CHECK(state != '\0');
	pw_proc_same_start(ticks * 10000000ull, ticks, 100);
	pw_proc_same_start(UINT64_MAX, ticks, 1);
	pw_proc_same_start(ticks, UINT64_MAX, LONG_MAX);

	n = pw_proc_join_cmdline(cmdline, cmdline_len);
	FUZZ_CHECK(n <= cmdline_len);
	FUZZ_CHECK(cmdline[n] == '\0');
	FUZZ_CHECK(memchr(cmdline, '\0', n) == NULL);

	/* Every size of output buffer, from one byte up. */
	for (out_len = 1; out_len <= sizeof(picked); out_len = out_len * 2 + 1) {
		memset(picked, 'X', sizeof(picked));
		got = pw_proc_pick_cgroup(cgroup, picked, out_len);
		FUZZ_CHECK(got == -ENOENT || (got >= 0 && (size_t)got < out_len));
		if (got < 0)
			continue;
		FUZZ_CHECK(strlen(picked) == (size_t)got);
		cid = pw_container_id(picked, id);
		if (cid)
			FUZZ_CHECK(strlen(cid) == PW_CONTAINER_ID_LEN);
	}
	cid = pw_container_id(cgroup, id);
	if (cid)
		FUZZ_CHECK(strlen(cid) == PW_CONTAINER_ID_LEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	char *stat, *cmdline, *cmdline_raw, *cgroup, *status, *target, dir[128], link[PATH_MAX];
	size_t stat_len, cmdline_len, cgroup_len, status_len, target_len;
	struct pw_proc_info info;
	struct pw_task owner;
	int err;

	if (!proc_root[0]) {
		snprintf(proc_root, sizeof(proc_root), "/tmp/pw-fuzz-proc.%d", (int)getpid());
		mkdir(proc_root, 0700);
	}
	stat = section(&in, &stat_len);
	cmdline = section(&in, &cmdline_len);
	cgroup = section(&in, &cgroup_len);
	status = section(&in, &status_len);
	target = fuzz_rest(&in, &target_len);
	cmdline_raw = malloc(cmdline_len + 1);
	FUZZ_CHECK(cmdline_raw != NULL);
	memcpy(cmdline_raw, cmdline, cmdline_len + 1);

	check_parsers(stat, cmdline, cmdline_len, cgroup);

	/* The same bytes as files (cmdline as it was before the parser above
	 * rewrote it in place). */
	snprintf(dir, sizeof(dir), "%s/%d", proc_root, FAKE_PID);
	mkdir(dir, 0700);
	write_file(dir, "stat", stat, stat_len);
	write_file(dir, "cgroup", cgroup, cgroup_len);
	write_file(dir, "cmdline", cmdline_raw, cmdline_len);
	write_file(dir, "status", status, status_len);
	snprintf(link, sizeof(link), "%s/exe", dir);
	unlink(link);
	if (target_len && !memchr(target, '\0', target_len) && target_len < PATH_MAX)
		symlink(target, link);

	err = pw_proc_read(proc_root, FAKE_PID, FAKE_PID, 0, 100, &info);
	if (err == 0) {
		if (info.exe)
			FUZZ_CHECK(strlen(info.exe) < PATH_MAX);
		if (info.cmdline)
			FUZZ_CHECK(strlen(info.cmdline) <= cmdline_len);
		if (info.cgroup)
			FUZZ_CHECK(strlen(info.cgroup) <= cgroup_len);
	} else {
		FUZZ_CHECK(info.exe == NULL && info.cmdline == NULL && info.cgroup == NULL);
	}
	pw_proc_info_free(&info);
	err = pw_proc_read(proc_root, FAKE_PID, FAKE_PID + 1, 123456789000ull, 100, &info);
	pw_proc_info_free(&info);

	memset(&owner, 0x5a, sizeof(owner));
	if (pw_inventory_read_owner(proc_root, proc_root, FAKE_PID, &owner) == 0) {
		FUZZ_CHECK(owner.pid == FAKE_PID);
		FUZZ_CHECK(memchr(owner.comm, '\0', sizeof(owner.comm)) != NULL);
	}

	free(stat);
	free(cmdline);
	free(cmdline_raw);
	free(cgroup);
	free(status);
	free(target);
	return 0;
}
