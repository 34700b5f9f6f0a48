/* Unit tests for the annotation step as the pipeline calls it: a record
 * with a kernel event in, user, process identity and service names out,
 * against the /proc fixture tree (run from the repository root). */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "annotate.h"
#include "services.h"

#define FIXTURES "tests/unit/fixtures/proc"
#define DOCKER_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int stub_lookup(uint32_t uid, char *buf, size_t len)
{
	if (uid != 33)
		return -ENOENT;
	snprintf(buf, len, "www-data");
	return 0;
}

static int setup(void **state)
{
	struct pw_annotator_config cfg = {
		.proc_root = FIXTURES,
		.services_path = NULL,
		.user_lookup = stub_lookup,
	};
	struct pw_annotator *a;

	if (pw_annotator_new(&a, &cfg))
		return -1;
	*state = a;
	return 0;
}

static int teardown(void **state)
{
	pw_annotator_free(*state);
	return 0;
}

/* pid 1002 of the fixtures: a docker container, started at tick 7000. */
static struct pw_event container_event(void)
{
	struct pw_event ev;
	long ticks = sysconf(_SC_CLK_TCK);

	memset(&ev, 0, sizeof(ev));
	ev.type = PW_EVENT_STATE;
	ev.family = AF_INET;
	ev.protocol = IPPROTO_TCP;
	ev.sport = 443;
	ev.dport = 51544;
	ev.attribution = PW_ATTR_SYSCALL;
	ev.owner.pid = 1002;
	ev.owner.uid = 33;
	ev.owner.start_ns = 7000ull * (1000000000ull / (unsigned long long)ticks);
	strcpy(ev.owner.comm, "app");
	return ev;
}

static void test_fills_every_annotation(void **state)
{
	struct pw_event ev = container_event();
	struct pw_record rec = { .type = PW_REC_STATE, .ev = &ev };

	pw_annotate(*state, &rec);
	assert_string_equal(rec.proc.user, "www-data");
	assert_string_equal(rec.proc.exe, "/usr/bin/app");
	assert_string_equal(rec.proc.cmdline, "app");
	assert_string_equal(rec.proc.cgroup, "/system.slice/docker-" DOCKER_ID ".scope");
	assert_string_equal(rec.proc.container_id, DOCKER_ID);
	/* Measured once for the JSON encoder, with the process. */
	assert_true(rec.proc.exe_shape.measured && rec.proc.exe_shape.plain);
	assert_int_equal(rec.proc.exe_shape.len, strlen("/usr/bin/app"));
	assert_true(rec.proc.cmdline_shape.measured);
	assert_int_equal(rec.proc.cmdline_shape.len, 3);
	assert_int_equal(rec.proc.cgroup_shape.len, strlen(rec.proc.cgroup));
	assert_int_equal(rec.proc.container_id_shape.len, 64);
	assert_string_equal(rec.local_service, "https");
	assert_null(rec.remote_service); /* 51544 is unassigned */

	ev.dport = 53;
	ev.protocol = IPPROTO_UDP;
	pw_annotate(*state, &rec);
	assert_string_equal(rec.local_service, "https");
	assert_string_equal(rec.remote_service, "domain");
}

static void test_remote_service_only_with_a_remote_port(void **state)
{
	struct pw_event ev = container_event();
	struct pw_record rec = { .type = PW_REC_BIND, .ev = &ev };

	ev.type = PW_EVENT_BIND;
	ev.sport = 514;
	ev.dport = 0;
	ev.protocol = IPPROTO_UDP;
	rec.remote_service = "stale";
	pw_annotate(*state, &rec);
	assert_string_equal(rec.local_service, "syslog");
	assert_null(rec.remote_service);
}

/* Service names are remembered per port and transport: ports that share a
 * slot of the memo, and one port over two transports, keep their own. */
static void test_service_names_of_many_ports(void **state)
{
	static const struct {
		uint16_t port;
		uint8_t protocol;
		const char *name;
	} cases[] = {
		/* name NULL: checked against the table only */
		{ 80, IPPROTO_TCP, "http" },    { 80 + 256, IPPROTO_TCP, NULL },
		{ 53, IPPROTO_UDP, "domain" },  { 53, IPPROTO_TCP, "domain" },
		{ 514, IPPROTO_UDP, "syslog" }, { 514, IPPROTO_TCP, "shell" },
		{ 61000, IPPROTO_TCP, NULL },   { 61000 + 256, IPPROTO_TCP, NULL },
		{ 443, IPPROTO_TCP, "https" },  { 443 + 512, IPPROTO_TCP, NULL },
	};
	struct pw_event ev = container_event();
	struct pw_record rec = { .type = PW_REC_STATE, .ev = &ev };
	size_t i, round;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			ev.sport = cases[i].port;
			ev.dport = cases[(i + round) % (sizeof(cases) / sizeof(cases[0]))].port;
			ev.protocol = cases[i].protocol;
			pw_annotate(*state, &rec);
			if (cases[i].name)
				assert_string_equal(rec.local_service, cases[i].name);
			assert_ptr_equal(rec.local_service,
					 pw_service_name(NULL, ev.sport, ev.protocol));
			assert_ptr_equal(rec.remote_service,
					 pw_service_name(NULL, ev.dport, ev.protocol));
		}
	}
}

static void test_other_process_same_pid(void **state)
{
	struct pw_event ev = container_event();
	struct pw_record rec = { .type = PW_REC_STATE, .ev = &ev };

	/* An earlier process that had pid 1002: /proc/1002 is not it. */
	ev.owner.start_ns = 1000000000ull;
	pw_annotate(*state, &rec);
	assert_string_equal(rec.proc.user, "www-data"); /* from the kernel's uid */
	assert_null(rec.proc.exe);
	assert_null(rec.proc.cmdline);
	assert_null(rec.proc.cgroup);
	assert_null(rec.proc.container_id);
}

static void test_no_owner(void **state)
{
	struct pw_event ev = container_event();
	struct pw_record rec = { .type = PW_REC_STATE, .ev = &ev };

	/* Unknown uid, process gone. */
	ev.owner.uid = 5;
	ev.owner.pid = 4242;
	pw_annotate(*state, &rec);
	assert_null(rec.proc.user);
	assert_null(rec.proc.exe);

	/* No owner at all: nothing about a process, still the services. */
	ev.owner.uid = 33;
	ev.attribution = PW_ATTR_NONE;
	rec.proc.exe = "stale";
	pw_annotate(*state, &rec);
	assert_null(rec.proc.user);
	assert_null(rec.proc.exe);
	assert_string_equal(rec.local_service, "https");

	/* A record without an event (loss, stats) is cleared. */
	rec = (struct pw_record){ .type = PW_REC_LOSS, .local_service = "stale" };
	pw_annotate(*state, &rec);
	assert_null(rec.local_service);
	assert_null(rec.proc.user);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fills_every_annotation),
		cmocka_unit_test(test_remote_service_only_with_a_remote_port),
		cmocka_unit_test(test_service_names_of_many_ports),
		cmocka_unit_test(test_other_process_same_pid),
		cmocka_unit_test(test_no_owner),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
