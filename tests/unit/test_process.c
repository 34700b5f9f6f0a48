/* Unit tests for /proc reading and the process identity cache, on the
 * fixture tree in tests/unit/fixtures/proc (run from the repository root)
 * and on trees the tests write and change in a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "container.h"
#include "process.h"
#include "process_cache.h"

#define FIXTURES "tests/unit/fixtures/proc"
#define TICKS 100 /* USER_HZ of the fixtures */
#define NS_PER_TICK (1000000000ull / TICKS)
#define SEC 1000000000ull
#define DOCKER_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_parse_stat_comm_with_parens(void **state)
{
	uint64_t ticks = 0;
	char st = 0;

	(void)state;
	assert_int_equal(pw_proc_parse_stat("100 (evil) name (x) S 1 100 100 0 -1 4194560 120 0 0 0 3 1 0 0 "
					    "20 0 1 0 12345 10485760 250\n",
					    &st, &ticks),
			 0);
	assert_int_equal(st, 'S');
	assert_int_equal(ticks, 12345);
	/* The last field on the line, without a trailing space. */
	assert_int_equal(pw_proc_parse_stat("7 (a) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99", &st, &ticks), 0);
	assert_int_equal(st, 'Z');
	assert_int_equal(ticks, 99);
	assert_int_equal(pw_proc_parse_stat("7 (a) S 1 2 3", &st, &ticks), -EINVAL);
	assert_int_equal(pw_proc_parse_stat("7 a S 1", &st, &ticks), -EINVAL);
	assert_int_equal(pw_proc_parse_stat("7 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x", &st, &ticks),
			 -EINVAL);
}

static void test_same_start_tolerance(void **state)
{
	uint64_t ns = 12345 * NS_PER_TICK + 4000000; /* 12345.4 ticks */

	(void)state;
	assert_true(pw_proc_same_start(ns, 12345, TICKS));
	assert_true(pw_proc_same_start(ns, 12344, TICKS));
	assert_true(pw_proc_same_start(ns, 12346, TICKS));
	assert_false(pw_proc_same_start(ns, 12343, TICKS));
	assert_false(pw_proc_same_start(ns, 12347, TICKS));
	assert_true(pw_proc_same_start(0, 0, TICKS));
	assert_true(pw_proc_same_start(0, 1, TICKS));
	assert_false(pw_proc_same_start(0, 2, TICKS));
	assert_false(pw_proc_same_start(ns, 12345, 0));
}

static void test_join_cmdline(void **state)
{
	char a[] = "nginx: master\0-g\0daemon off;\0";
	char b[] = "x\0\0y\0\0\0";
	char c[] = "\0";

	(void)state;
	assert_int_equal(pw_proc_join_cmdline(a, sizeof(a) - 1), strlen("nginx: master -g daemon off;"));
	assert_string_equal(a, "nginx: master -g daemon off;");
	/* An empty argument stays visible as a second space. */
	assert_int_equal(pw_proc_join_cmdline(b, sizeof(b) - 1), 4);
	assert_string_equal(b, "x  y");
	assert_int_equal(pw_proc_join_cmdline(c, 1), 0);
	assert_string_equal(c, "");
}

static void test_pick_cgroup(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(pw_proc_pick_cgroup("0::/system.slice/x.service\n", out, sizeof(out)),
			 strlen("/system.slice/x.service"));
	assert_string_equal(out, "/system.slice/x.service");
	/* Hybrid: the v2 root says nothing, systemd's v1 hierarchy does. */
	assert_true(pw_proc_pick_cgroup("4:memory:/a\n1:name=systemd:/docker/b\n0::/\n", out, sizeof(out)) > 0);
	assert_string_equal(out, "/docker/b");
	/* Hybrid where v2 places the process: v2 wins. */
	assert_true(pw_proc_pick_cgroup("1:name=systemd:/s\n0::/v2/path\n", out, sizeof(out)) > 0);
	assert_string_equal(out, "/v2/path");
	/* Everything at the root: the root. */
	assert_true(pw_proc_pick_cgroup("1:name=systemd:/\n0::/\n", out, sizeof(out)) > 0);
	assert_string_equal(out, "/");
	/* v1 only, no systemd hierarchy: the first line. */
	assert_true(pw_proc_pick_cgroup("3:cpu:/c\n2:memory:/m\n", out, sizeof(out)) > 0);
	assert_string_equal(out, "/c");
	assert_int_equal(pw_proc_pick_cgroup("", out, sizeof(out)), -ENOENT);
	assert_int_equal(pw_proc_pick_cgroup("garbage\n", out, sizeof(out)), -ENOENT);
	/* Cut to the buffer, still terminated. */
	assert_int_equal(pw_proc_pick_cgroup("0::/abcdef\n", out, 4), 3);
	assert_string_equal(out, "/ab");
}

static void test_read_fixture(void **state)
{
	struct pw_proc_info info;

	(void)state;
	assert_int_equal(pw_proc_read(FIXTURES, 100, 0, 12345 * NS_PER_TICK + 1, TICKS, &info), 0);
	assert_string_equal(info.exe, "/usr/sbin/nginx");
	assert_string_equal(info.cmdline, "nginx: master process -g daemon off;");
	assert_string_equal(info.cgroup, "/system.slice/nginx.service");
	pw_proc_info_free(&info);
	assert_null(info.exe);

	/* A deleted executable reads as the kernel shows it. */
	assert_int_equal(pw_proc_read(FIXTURES, 101, 0, 0, TICKS, &info), 0);
	assert_string_equal(info.exe, "/opt/app/server (deleted)");
	assert_string_equal(info.cmdline, "/opt/app/server --port  80");
	assert_string_equal(info.cgroup, "/user.slice/user-1000.slice/session-3.scope");
	pw_proc_info_free(&info);
}

static void test_read_refuses_other_process(void **state)
{
	struct pw_proc_info info;

	(void)state;
	/* pid 100 started at tick 12345: an event from a process that started
	 * two ticks later (or earlier) is not this one. */
	assert_int_equal(pw_proc_read(FIXTURES, 100, 0, 12347 * NS_PER_TICK, TICKS, &info), -ESRCH);
	assert_null(info.exe);
	assert_null(info.cmdline);
	assert_int_equal(pw_proc_read(FIXTURES, 100, 0, 12343 * NS_PER_TICK, TICKS, &info), -ESRCH);
	/* Gone, and a zombie (no exe, no cmdline, root cgroup): unknown. */
	assert_int_equal(pw_proc_read(FIXTURES, 4242, 0, 12345 * NS_PER_TICK, TICKS, &info), -ENOENT);
	assert_int_equal(pw_proc_read(FIXTURES, 102, 0, 6000 * NS_PER_TICK, TICKS, &info), -ENOENT);
	assert_null(info.cgroup);
}

static void test_read_checks_thread_start(void **state)
{
	struct pw_proc_info info;

	(void)state;
	/* An event filled from thread 105 of process 100 carries the
	 * thread's start time (tick 12400), not the process's (12345). */
	assert_int_equal(pw_proc_read(FIXTURES, 100, 105, 12400 * NS_PER_TICK, TICKS, &info), 0);
	assert_string_equal(info.exe, "/usr/sbin/nginx");
	pw_proc_info_free(&info);
	/* Without the thread, or with a thread the process does not have,
	 * that start time is another process's. */
	assert_int_equal(pw_proc_read(FIXTURES, 100, 0, 12400 * NS_PER_TICK, TICKS, &info), -ESRCH);
	assert_int_equal(pw_proc_read(FIXTURES, 100, 100, 12400 * NS_PER_TICK, TICKS, &info), -ESRCH);
	assert_int_equal(pw_proc_read(FIXTURES, 100, 106, 12400 * NS_PER_TICK, TICKS, &info), -ESRCH);
	/* The thread exists but started at another time. */
	assert_int_equal(pw_proc_read(FIXTURES, 100, 105, 12500 * NS_PER_TICK, TICKS, &info), -ESRCH);
}

struct runtime_case {
	uint32_t pid;
	const char *container_id; /* NULL: not a container */
};

static void test_container_runtimes_from_fixtures(void **state)
{
	static const struct runtime_case cases[] = {
		{ 1001, DOCKER_ID }, /* docker, cgroupfs driver, v1 hybrid */
		{ 1002, DOCKER_ID }, /* docker, systemd driver */
		{ 1003, DOCKER_ID }, /* Kubernetes + containerd, systemd driver */
		{ 1004, DOCKER_ID }, /* Kubernetes, cgroupfs driver */
		{ 1005, DOCKER_ID }, /* cri-o */
		{ 1006, DOCKER_ID }, /* podman, rootless, container subgroup */
		{ 1007, NULL },      /* podman's conmon */
		{ 1008, NULL },      /* cri-o's conmon */
		{ 1009, NULL },      /* a login session */
	};
	char id[PW_CONTAINER_ID_LEN + 1];
	struct pw_proc_info info;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got;

		assert_int_equal(pw_proc_read(FIXTURES, cases[i].pid, 0, 7000 * NS_PER_TICK, TICKS, &info), 0);
		assert_non_null(info.cgroup);
		got = pw_container_id(info.cgroup, id);
		if (cases[i].container_id) {
			assert_non_null(got);
			assert_string_equal(got, cases[i].container_id);
		} else {
			assert_null(got);
		}
		pw_proc_info_free(&info);
	}
}

/* A writable /proc tree in a temporary directory. */
struct tree {
	char root[64];
};

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Writes /proc/PID for a running process that started at start_ticks. */
static void put_process(struct tree *t, uint32_t pid, uint64_t start_ticks, const char *exe, const char *arg0)
{
	char dir[PATH_MAX], path[PATH_MAX + 8], stat[256];
	int n;

	snprintf(dir, sizeof(dir), "%s/%u", t->root, pid);
	mkdir(dir, 0755);
	n = snprintf(stat, sizeof(stat),
		     "%u (p) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0\n", pid,
		     (unsigned long long)start_ticks);
	write_file(dir, "stat", stat, (size_t)n);
	write_file(dir, "cmdline", arg0, strlen(arg0) + 1);
	write_file(dir, "cgroup", "0::/docker/" DOCKER_ID "\n", strlen("0::/docker/" DOCKER_ID "\n"));
	snprintf(path, sizeof(path), "%s/exe", dir);
	unlink(path);
	assert_int_equal(symlink(exe, path), 0);
}

static void remove_process(struct tree *t, uint32_t pid)
{
	static const char *const files[] = { "stat", "cmdline", "cgroup", "exe" };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%u/%s", t->root, pid, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%u", t->root, pid);
	assert_int_equal(rmdir(path), 0);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->root, "/tmp/pw-test-proc-XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static struct pw_process_cache *new_cache(struct tree *t, size_t capacity)
{
	struct pw_process_cache_config cfg = {
		.proc_root = t->root, .capacity = capacity, .miss_ttl_ns = SEC, .clock_ticks = TICKS,
	};
	struct pw_process_cache *c = NULL;

	assert_int_equal(pw_process_cache_new(&c, &cfg), 0);
	return c;
}

static uint64_t reads(struct pw_process_cache *c)
{
	struct pw_process_cache_stats s;

	pw_process_cache_stats(c, &s);
	return s.proc_reads;
}

/* An event's owner as the kernel reports it: the main thread, named "p". */
static struct pw_task owner_of(uint32_t pid, uint64_t start_ns)
{
	struct pw_task t;

	memset(&t, 0, sizeof(t));
	t.pid = pid;
	t.tid = pid;
	t.start_ns = start_ns;
	strcpy(t.comm, "p");
	return t;
}

static const struct pw_process_identity *lookup(struct pw_process_cache *c, uint32_t pid,
						uint64_t start_ns, uint64_t now_ns)
{
	struct pw_task t = owner_of(pid, start_ns);

	return pw_process_lookup(c, &t, now_ns);
}

static void test_cache_hit_reads_nothing(void **state)
{
	struct tree *t = *state;
	struct pw_process_cache *c = new_cache(t, 0);
	const struct pw_process_identity *id;

	put_process(t, 10, 500, "/usr/bin/server", "server");
	id = lookup(c, 10, 500 * NS_PER_TICK, 0);
	assert_string_equal(id->exe, "/usr/bin/server");
	assert_string_equal(id->cmdline, "server");
	assert_string_equal(id->cgroup, "/docker/" DOCKER_ID);
	assert_string_equal(id->container_id, DOCKER_ID);
	assert_int_equal(reads(c), 1);

	/* The process exits: its events keep the identity it had. */
	remove_process(t, 10);
	id = lookup(c, 10, 500 * NS_PER_TICK, 5 * SEC);
	assert_string_equal(id->exe, "/usr/bin/server");
	assert_string_equal(id->container_id, DOCKER_ID);
	assert_int_equal(reads(c), 1);
	pw_process_cache_free(c);
}

static void test_cache_pid_reuse(void **state)
{
	struct tree *t = *state;
	struct pw_process_cache *c = new_cache(t, 0);
	const struct pw_process_identity *id;

	put_process(t, 20, 500, "/usr/bin/old", "old");
	id = lookup(c, 20, 500 * NS_PER_TICK, 0);
	assert_string_equal(id->exe, "/usr/bin/old");

	/* pid 20 exits and a new process gets the same pid. */
	put_process(t, 20, 900, "/usr/bin/new", "new");
	id = lookup(c, 20, 900 * NS_PER_TICK, 0);
	assert_string_equal(id->exe, "/usr/bin/new");
	assert_string_equal(id->cmdline, "new");
	/* A late event of the old process still names the old one. */
	id = lookup(c, 20, 500 * NS_PER_TICK, 0);
	assert_string_equal(id->exe, "/usr/bin/old");
	pw_process_cache_free(c);

	/* A fresh cache never saw the old process: /proc now shows the new
	 * one, so the old process's event gets no exe rather than a wrong one. */
	c = new_cache(t, 0);
	id = lookup(c, 20, 500 * NS_PER_TICK, 0);
	assert_null(id->exe);
	assert_null(id->cmdline);
	assert_null(id->cgroup);
	assert_null(id->container_id);
	id = lookup(c, 20, 900 * NS_PER_TICK, 0);
	assert_string_equal(id->exe, "/usr/bin/new");
	pw_process_cache_free(c);
}

static void test_cache_remembers_misses_briefly(void **state)
{
	struct tree *t = *state;
	struct pw_process_cache *c = new_cache(t, 0);
	const struct pw_process_identity *id;
	int i;

	/* A storm of events from a pid that is already gone reads /proc once. */
	for (i = 0; i < 100; i++) {
		id = lookup(c, 30, 700 * NS_PER_TICK, (uint64_t)i * 1000);
		assert_null(id->exe);
	}
	assert_int_equal(reads(c), 1);

	/* Within the TTL the miss stands even if /proc/30 shows up... */
	put_process(t, 30, 700, "/usr/bin/late", "late");
	id = lookup(c, 30, 700 * NS_PER_TICK, SEC / 2);
	assert_null(id->exe);
	assert_int_equal(reads(c), 1);
	/* ...and is asked again after it. */
	id = lookup(c, 30, 700 * NS_PER_TICK, 2 * SEC);
	assert_string_equal(id->exe, "/usr/bin/late");
	assert_int_equal(reads(c), 2);
	pw_process_cache_free(c);
}

static void test_cache_rereads_after_exec(void **state)
{
	struct tree *t = *state;
	struct pw_process_cache *c = new_cache(t, 0);
	const struct pw_process_identity *id;
	struct pw_task owner = owner_of(50, 300 * NS_PER_TICK);

	put_process(t, 50, 300, "/bin/sh", "sh");
	id = pw_process_lookup(c, &owner, 0);
	assert_string_equal(id->exe, "/bin/sh");

	/* execve: same pid and start time, new program and main-thread comm. */
	put_process(t, 50, 300, "/usr/bin/nc", "nc");
	strcpy(owner.comm, "nc");
	/* Within the TTL of the last read the old identity stands... */
	id = pw_process_lookup(c, &owner, SEC / 2);
	assert_string_equal(id->exe, "/bin/sh");
	/* ...after it, the new one is read, once. */
	id = pw_process_lookup(c, &owner, 2 * SEC);
	assert_string_equal(id->exe, "/usr/bin/nc");
	assert_string_equal(id->cmdline, "nc");
	id = pw_process_lookup(c, &owner, 10 * SEC);
	assert_string_equal(id->exe, "/usr/bin/nc");
	assert_int_equal(reads(c), 2);

	/* A thread that names itself is no exec. */
	owner.tid = 51;
	strcpy(owner.comm, "worker-1");
	id = pw_process_lookup(c, &owner, 20 * SEC);
	assert_string_equal(id->exe, "/usr/bin/nc");
	assert_int_equal(reads(c), 2);
	pw_process_cache_free(c);
}

static void test_cache_evicts_least_recently_used(void **state)
{
	struct tree *t = *state;
	struct pw_process_cache *c = new_cache(t, 2);
	struct pw_process_cache_stats s;
	const struct pw_process_identity *id;

	put_process(t, 41, 1, "/bin/a", "a");
	put_process(t, 42, 1, "/bin/b", "b");
	put_process(t, 43, 1, "/bin/c", "c");
	lookup(c, 41, NS_PER_TICK, 0);
	lookup(c, 42, NS_PER_TICK, 0);
	lookup(c, 41, NS_PER_TICK, 0); /* a is now the most recent */
	lookup(c, 43, NS_PER_TICK, 0); /* evicts b */
	assert_int_equal(reads(c), 3);
	pw_process_cache_stats(c, &s);
	assert_int_equal(s.evictions, 1);

	id = lookup(c, 41, NS_PER_TICK, 0);
	assert_string_equal(id->exe, "/bin/a");
	id = lookup(c, 43, NS_PER_TICK, 0);
	assert_string_equal(id->exe, "/bin/c");
	assert_int_equal(reads(c), 3);
	id = lookup(c, 42, NS_PER_TICK, 0); /* read again */
	assert_string_equal(id->exe, "/bin/b");
	assert_int_equal(reads(c), 4);
	pw_process_cache_free(c);
}

static void test_cache_many_processes(void **state)
{
	struct tree *t = *state;
	struct pw_process_cache *c = new_cache(t, 8);
	const struct pw_process_identity *id;
	char exe[32];
	uint32_t pid;

	/* Cycling 20 processes through 8 slots keeps the hash chains and the
	 * LRU list consistent: every answer is the right process. */
	for (pid = 100; pid < 120; pid++) {
		snprintf(exe, sizeof(exe), "/bin/p%u", pid);
		put_process(t, pid, pid, exe, "x");
	}
	for (int round = 0; round < 3; round++) {
		for (pid = 100; pid < 120; pid++) {
			id = lookup(c, pid, (uint64_t)pid * NS_PER_TICK, 0);
			snprintf(exe, sizeof(exe), "/bin/p%u", pid);
			assert_non_null(id->exe);
			assert_string_equal(id->exe, exe);
		}
	}
	assert_int_equal(reads(c), 60);
	pw_process_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat_comm_with_parens),
		cmocka_unit_test(test_same_start_tolerance),
		cmocka_unit_test(test_join_cmdline),
		cmocka_unit_test(test_pick_cgroup),
		cmocka_unit_test(test_read_fixture),
		cmocka_unit_test(test_read_refuses_other_process),
		cmocka_unit_test(test_read_checks_thread_start),
		cmocka_unit_test(test_container_runtimes_from_fixtures),
		cmocka_unit_test_setup_teardown(test_cache_hit_reads_nothing, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_cache_pid_reuse, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_cache_remembers_misses_briefly, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_cache_rereads_after_exec, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_cache_evicts_least_recently_used, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_cache_many_processes, tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
