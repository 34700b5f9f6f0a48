/* Unit tests for the inventory's reading of a socket owner from /proc, on
 * fixture directories: comm with spaces and parentheses, ppid, start time,
 * ids, cgroup id, and what a vanished or garbled process gives. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "inventory.h"

struct fixture {
	char root[64];     /* the fake /proc */
	char cgroups[128]; /* the fake cgroup v2 mount */
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A process PID with the given stat line, status and cgroup files. */
static void make_process(struct fixture *fx, unsigned int pid, const char *stat,
			 const char *status, const char *cgroup)
{
	char dir[256];

	snprintf(dir, sizeof(dir), "%s/%u", fx->root, pid);
	assert_int_equal(mkdir(dir, 0755), 0);
	if (stat)
		write_file(dir, "stat", stat);
	if (status)
		write_file(dir, "status", status);
	if (cgroup)
		write_file(dir, "cgroup", cgroup);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[256];

	strcpy(fx->root, "/tmp/pw-inventory-XXXXXX");
	if (!fx || !mkdtemp(fx->root))
		return -1;
	snprintf(fx->cgroups, sizeof(fx->cgroups), "%s/cgroup2", fx->root);
	snprintf(path, sizeof(path), "%s/system.slice", fx->cgroups);
	if (mkdir(fx->cgroups, 0755) || mkdir(path, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/system.slice/web.service", fx->cgroups);
	if (mkdir(path, 0755))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static const char *const STATUS =
	"Name:\tweb\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\n"
	"PPid:\t1\nUid:\t33\t34\t35\t36\nGid:\t44\t45\t46\t47\nFDSize:\t64\n";

static void test_reads_a_process(void **state)
{
	struct fixture *fx = *state;
	struct pw_task owner;
	char cgroup_dir[256];
	struct stat st;
	long hz = sysconf(_SC_CLK_TCK);

	/* The comm holds a space and both parentheses: it ends at the last ')'. */
	make_process(fx, 4242,
		     "4242 (my (odd) d) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 "
		     "123456 10000000 500 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0\n",
		     STATUS, "0::/system.slice/web.service\n");
	assert_int_equal(pw_inventory_read_owner(fx->root, fx->cgroups, 4242, &owner), 0);
	assert_int_equal(owner.pid, 4242);
	assert_int_equal(owner.tid, 4242);
	assert_int_equal(owner.ppid, 1);
	assert_string_equal(owner.comm, "my (odd) d");
	assert_int_equal(owner.uid, 33); /* the real uid, as bpf_get_current_uid_gid */
	assert_int_equal(owner.gid, 44);
	assert_true(hz > 0);
	assert_int_equal(owner.start_ns, 123456ull * (1000000000ull / (unsigned long long)hz));
	snprintf(cgroup_dir, sizeof(cgroup_dir), "%s/system.slice/web.service", fx->cgroups);
	assert_int_equal(stat(cgroup_dir, &st), 0);
	assert_int_equal(owner.cgroup_id, st.st_ino);

	/* Without a cgroup root, no cgroup id. */
	assert_int_equal(pw_inventory_read_owner(fx->root, NULL, 4242, &owner), 0);
	assert_int_equal(owner.cgroup_id, 0);
}

static void test_long_comm_is_cut_to_the_kernel_size(void **state)
{
	struct fixture *fx = *state;
	struct pw_task owner;

	make_process(fx, 77,
		     "77 (abcdefghijklmnopqrstuvwxyz) R 5 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0\n",
		     STATUS, "0::/gone/elsewhere\n");
	assert_int_equal(pw_inventory_read_owner(fx->root, fx->cgroups, 77, &owner), 0);
	assert_string_equal(owner.comm, "abcdefghijklmno");
	assert_int_equal(owner.ppid, 5);
	/* A cgroup directory that no longer exists: the id is unknown. */
	assert_int_equal(owner.cgroup_id, 0);
}

static void test_vanished_and_garbled_processes(void **state)
{
	struct fixture *fx = *state;
	struct pw_task owner;

	assert_int_equal(pw_inventory_read_owner(fx->root, fx->cgroups, 999, &owner), -ENOENT);
	/* Gone between reading stat and status. */
	make_process(fx, 1000, "1000 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0\n", NULL,
		     NULL);
	assert_int_equal(pw_inventory_read_owner(fx->root, fx->cgroups, 1000, &owner), -ENOENT);
	/* No parenthesis, too few fields, no Uid line. */
	make_process(fx, 1001, "1001 x S 1\n", STATUS, NULL);
	assert_int_equal(pw_inventory_read_owner(fx->root, fx->cgroups, 1001, &owner), -EPROTO);
	make_process(fx, 1002, "1002 (x) S 1 1 1\n", STATUS, NULL);
	assert_int_equal(pw_inventory_read_owner(fx->root, fx->cgroups, 1002, &owner), -EPROTO);
	make_process(fx, 1003, "1003 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0\n",
		     "Name:\tx\nGid:\t1\t1\t1\t1\n", NULL);
	assert_int_equal(pw_inventory_read_owner(fx->root, fx->cgroups, 1003, &owner), -EPROTO);
}

static int count_socket(void *ctx, const struct pw_event *ev)
{
	size_t *count = ctx;

	assert_true(ev->family == AF_INET || ev->family == AF_INET6);
	assert_int_equal(ev->type, PW_EVENT_STATE);
	assert_int_equal(ev->old_state, ev->new_state);
	(*count)++;
	return 0;
}

static int stop_at_first(void *ctx, const struct pw_event *ev)
{
	(void)ctx;
	(void)ev;
	return 42;
}

/* The dump itself needs no privilege: sock_diag answers anyone for the
 * caller's own network namespace. A socket of our own is always there. */
static void test_snapshot_sees_our_own_listener(void **state)
{
	struct pw_inventory_config cfg = { .proc_root = "/proc" };
	size_t count = 0;
	char err[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(listen(fd, 1), 0); /* autobinds an ephemeral port on 0.0.0.0 */
	assert_int_equal(pw_inventory_snapshot(&cfg, count_socket, &count, err, sizeof(err)), 0);
	assert_true(count >= 1);
	assert_int_equal(pw_inventory_snapshot(&cfg, stop_at_first, NULL, err, sizeof(err)), 42);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_a_process),
		cmocka_unit_test(test_long_comm_is_cut_to_the_kernel_size),
		cmocka_unit_test(test_vanished_and_garbled_processes),
		cmocka_unit_test(test_snapshot_sees_our_own_listener),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
