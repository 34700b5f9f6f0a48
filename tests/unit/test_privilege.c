/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* pw_works_with_capabilities: the child-process probe that tells main which
 * capabilities the running tracer must keep on this kernel. The probe drops
 * capabilities, so it is only meaningful as root (make test runs as root). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/capability.h>
#include <cmocka.h>
#include "privilege.h"

/* Binding a port below 1024 needs CAP_NET_BIND_SERVICE. */
static int bind_privileged_port(void *ctx)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	(void)ctx;
	if (fd < 0)
		return -errno;
	/* Port 0 is ephemeral; find a free low port by trying a few. */
	for (uint16_t port = 1000; port > 900; port--) {
		addr.sin_port = htons(port);
		rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
		if (!rc || errno != EADDRINUSE)
			break;
	}
	close(fd);
	return rc ? -errno : 0;
}

static int always_fails(void *ctx)
{
	(void)ctx;
	return -EIO;
}

static void test_a_needed_capability_is_found_missing(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* reported as skipped, not passed */
	assert_int_equal(pw_works_with_capabilities(0, bind_privileged_port, NULL), 0);
	assert_int_equal(pw_works_with_capabilities(1ull << CAP_NET_BIND_SERVICE,
						    bind_privileged_port, NULL),
			 1);
}

static void test_a_failing_check_is_a_no(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(pw_works_with_capabilities(pw_kept_capabilities(), always_fails, NULL), 0);
}

static void test_the_caller_keeps_its_capabilities(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(pw_works_with_capabilities(0, bind_privileged_port, NULL), 0);
	/* The probe dropped them in the child only. */
	assert_int_equal(bind_privileged_port(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_needed_capability_is_found_missing),
		cmocka_unit_test(test_a_failing_check_is_a_no),
		cmocka_unit_test(test_the_caller_keeps_its_capabilities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
