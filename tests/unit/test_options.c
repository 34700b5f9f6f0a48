/* Unit tests for the command-line parser: values, lists, ranges and the
 * one-line messages a user sees for each mistake. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "options.h"
#include "portwarden.h"

#define PARSE(opts, err, ...)                                                         \
	({                                                                            \
		char *argv_[] = { "portwarden", __VA_ARGS__, NULL };                  \
		pw_options_parse(opts, (int)(sizeof(argv_) / sizeof(argv_[0])) - 1, \
				 argv_, err, sizeof(err));                            \
	})

static void test_defaults(void **state)
{
	struct pw_options o;
	char err[256];
	char *argv[] = { "portwarden", NULL };

	(void)state;
	assert_int_equal(pw_options_parse(&o, 1, argv, err, sizeof(err)), 0);
	assert_int_equal(o.format, PW_FORMAT_TEXT);
	assert_int_equal(o.classes, PW_CLASS_STATE | PW_CLASS_BIND);
	assert_int_equal(o.ringbuf_bytes, PW_DEFAULT_RINGBUF_BYTES);
	assert_int_equal(o.flush_ms, PW_DEFAULT_FLUSH_MS);
	assert_int_equal(o.family, 0);
	assert_int_equal(o.n_pids, 0);
	assert_int_equal(o.state_hook, PW_STATE_HOOK_AUTO);
	assert_int_equal(o.bind_hook, PW_BIND_HOOK_AUTO);
}

static void test_formats_and_filters(void **state)
{
	struct pw_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--json", "-p", "12,34", "--pid", "56", "-P", "80",
			       "--port=443,8080", "-6", "--binds-only"),
			 0);
	assert_int_equal(o.format, PW_FORMAT_JSON);
	assert_int_equal(o.n_pids, 3);
	assert_int_equal(o.pids[0], 12);
	assert_int_equal(o.pids[2], 56);
	assert_int_equal(o.n_ports, 3);
	assert_int_equal(o.ports[1].first, 443);
	assert_int_equal(o.ports[1].last, 443);
	assert_int_equal(o.ports[2].first, 8080);
	assert_int_equal(o.family, AF_INET6);
	assert_int_equal(o.classes, PW_CLASS_BIND);

	assert_int_equal(PARSE(&o, err, "--format", "text", "-4", "--states-only"), 0);
	assert_int_equal(o.format, PW_FORMAT_TEXT);
	assert_int_equal(o.family, AF_INET);
	assert_int_equal(o.classes, PW_CLASS_STATE);
}

static void test_ranges_uids_transport(void **state)
{
	struct pw_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--port", "8000-8999,22", "--uid", "0,1000", "--udp",
			       "--listen-only", "--cgroup", "/sys/fs/cgroup/unified/x"),
			 0);
	assert_int_equal(o.n_ports, 2);
	assert_int_equal(o.ports[0].first, 8000);
	assert_int_equal(o.ports[0].last, 8999);
	assert_int_equal(o.ports[1].first, 22);
	assert_int_equal(o.ports[1].last, 22);
	assert_int_equal(o.n_uids, 2);
	assert_int_equal(o.uids[0], 0);
	assert_int_equal(o.uids[1], 1000);
	assert_int_equal(o.protocol, 17);
	assert_int_equal(o.classes, PW_CLASS_LISTEN | PW_CLASS_BIND);
	assert_string_equal(o.cgroup_path, "/sys/fs/cgroup/unified/x");
}

static void test_hooks_and_tuning(void **state)
{
	struct pw_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--state-hook", "tracepoint", "--bind-hook=syscall",
			       "--ringbuf-size", "16M", "--flush-ms", "50", "-vv", "--no-color",
			       "--stats-interval", "0", "--socket-check", "0",
			       "--pretend-undelivered", "4"),
			 0);
	assert_int_equal(o.stats_interval_s, 0);
	assert_int_equal(o.socket_check_s, 0);
	assert_int_equal(o.pretend_undelivered_every, 4);
	assert_int_equal(o.state_hook, PW_STATE_HOOK_TRACEPOINT);
	assert_int_equal(o.bind_hook, PW_BIND_HOOK_SYSCALL);
	assert_int_equal(o.ringbuf_bytes, 16u << 20);
	assert_int_equal(o.flush_ms, 50);
	assert_int_equal(o.verbose, 2);
	assert_int_equal(o.color, PW_COLOR_NEVER);
	assert_string_equal(pw_state_hook_name(o.state_hook), "tracepoint");
	assert_string_equal(pw_bind_hook_name(PW_BIND_HOOK_FEXIT), "fexit");
	assert_int_equal(PARSE(&o, err, "--ringbuf-size", "4096"), 0);
	assert_int_equal(o.ringbuf_bytes, 4096);
	assert_int_equal(o.stats_interval_s, PW_DEFAULT_STATS_INTERVAL_S);
	assert_int_equal(o.socket_check_s, PW_DEFAULT_SOCKET_CHECK_S);
	assert_int_equal(o.pretend_undelivered_every, 0);
	assert_int_equal(o.pretend_missing, 0);
	assert_int_equal(PARSE(&o, err, "--pretend-missing", "tp_btf,fexit,sock_create"), 0);
	assert_int_equal(o.pretend_missing,
			 PW_FEATURE_TP_BTF | PW_FEATURE_FEXIT | PW_FEATURE_SOCK_CREATE);
	assert_int_equal(o.pretend_skipped_every, 0);
	assert_int_equal(o.pretend_twice_every, 0);
	assert_int_equal(PARSE(&o, err, "--pretend-skipped", "3"), 0);
	assert_int_equal(o.pretend_skipped_every, 3);
	assert_int_equal(PARSE(&o, err, "--pretend-twice", "1000000"), 0);
	assert_int_equal(o.pretend_twice_every, 1000000);
}

/* Every mistake is refused with a message naming the option and the value. */
static void expect_error(const char *opt, const char *value, const char *message)
{
	struct pw_options o;
	char err[256];
	char *argv[] = { "portwarden", (char *)opt, (char *)value, NULL };
	int argc = value ? 3 : 2;

	assert_int_equal(pw_options_parse(&o, argc, argv, err, sizeof(err)), -EINVAL);
	if (!strstr(err, message))
		fail_msg("for %s %s: expected '%s' in '%s'", opt, value ? value : "", message, err);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("--port", "70000", "--port: '70000' is not a number from 1 to 65535");
	expect_error("--port", "0", "--port: '0'");
	expect_error("--port", "80,x", "--port: 'x'");
	expect_error("--port", "-1", "--port: '-1'");
	expect_error("--port", ",", "--port: no value given");
	expect_error("--port", "9000-8000", "--port: '9000-8000' is not a range FIRST-LAST");
	expect_error("--port", "1-70000", "--port: '1-70000' is not a range");
	expect_error("--uid", "-5", "--uid: '-5'");
	expect_error("--pid", "abc", "--pid: 'abc' is not a number");
	expect_error("--pid", "12abc", "--pid: '12abc'");
	expect_error("--pid", "99999999999999999999999", "--pid: '9999");
	expect_error("--format", "xml", "--format: 'xml' is not text or json");
	expect_error("--state-hook", "kprobe", "--state-hook: 'kprobe'");
	expect_error("--bind-hook", "lsm", "--bind-hook: 'lsm'");
	expect_error("--ringbuf-size", "5000", "--ringbuf-size: '5000' is not a power of two");
	expect_error("--ringbuf-size", "2048", "--ringbuf-size: '2048'");
	expect_error("--ringbuf-size", "4G", "--ringbuf-size: '4G'");
	expect_error("--flush-ms", "0", "--flush-ms: '0'");
	expect_error("--pretend-missing", "tp_btf,kprobe", "--pretend-missing: 'kprobe' is not one of");
	expect_error("--pretend-missing", "fexitx", "--pretend-missing: 'fexitx'");
	expect_error("--pretend-skipped", "0", "--pretend-skipped: '0' is not a number from 1");
	expect_error("--pretend-twice", "x", "--pretend-twice: 'x' is not a number from 1");
	expect_error("--stats-interval", "-1", "--stats-interval: '-1' is not a number of seconds");
	expect_error("--stats-interval", "86401", "--stats-interval: '86401'");
	expect_error("--socket-check", "1m", "--socket-check: '1m' is not a number of seconds");
	expect_error("--pretend-undelivered", "0", "--pretend-undelivered: '0' is not a number");
	expect_error("--color", "sometimes", "--color: 'sometimes'");
	expect_error("--bogus", NULL, "--bogus: unknown option");
	expect_error("-x", NULL, "-x: unknown option");
	expect_error("--port", NULL, "--port: needs a value");
	expect_error("-p", NULL, "-p: needs a value");
	expect_error("extra", NULL, "'extra': unexpected argument");
}

static void test_conflicts(void **state)
{
	struct pw_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-4", "-6"), -EINVAL);
	assert_non_null(strstr(err, "-4 and -6 exclude each other"));
	assert_int_equal(PARSE(&o, err, "--states-only", "--binds-only"), -EINVAL);
	assert_non_null(strstr(err, "exclude each other"));
	assert_int_equal(PARSE(&o, err, "--listen-only", "--states-only"), -EINVAL);
	assert_non_null(strstr(err, "exclude each other"));
	assert_int_equal(PARSE(&o, err, "--tcp", "--udp"), -EINVAL);
	assert_non_null(strstr(err, "--tcp and --udp exclude each other"));
}

static void test_list_limit(void **state)
{
	struct pw_options o;
	char err[256], list[1000] = "";
	char *argv[] = { "portwarden", "--port", list, NULL };
	int i;

	(void)state;
	for (i = 1; i <= PW_MAX_FILTER + 1; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i > 1 ? "," : "", i);
	assert_int_equal(pw_options_parse(&o, 3, argv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at most 64 values"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_formats_and_filters),
		cmocka_unit_test(test_ranges_uids_transport),
		cmocka_unit_test(test_hooks_and_tuning),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_list_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
