/* Unit tests for address formatting: both families, IPv4-mapped IPv6, the
 * exact buffer size needed, and the unspecified-address test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "addr.h"

/* Parse text into the 16-byte record layout (IPv4 in the first 4 bytes, the
 * rest filled with junk that must be ignored). */
static void parse(int family, const char *text, uint8_t addr[16])
{
	memset(addr, 0xa5, 16);
	assert_int_equal(inet_pton(family, text, addr), 1);
}

static void check_format(int family, const char *text, const char *want)
{
	uint8_t addr[16];
	char out[PW_ADDR_STRLEN];

	parse(family, text, addr);
	memset(out, 'X', sizeof(out));
	assert_int_equal(pw_addr_format((uint16_t)family, addr, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_ipv4(void **state)
{
	(void)state;
	check_format(AF_INET, "127.0.0.1", "127.0.0.1");
	check_format(AF_INET, "0.0.0.0", "0.0.0.0");
	check_format(AF_INET, "255.255.255.255", "255.255.255.255");
	check_format(AF_INET, "192.0.2.10", "192.0.2.10");
}

static void test_ipv4_is_network_order(void **state)
{
	uint8_t addr[16] = { 10, 1, 2, 3 };
	char out[PW_ADDR_STRLEN];

	(void)state;
	assert_int_equal(pw_addr_format(AF_INET, addr, out, sizeof(out)), 0);
	assert_string_equal(out, "10.1.2.3");
}

static void test_ipv6(void **state)
{
	(void)state;
	check_format(AF_INET6, "::", "::");
	check_format(AF_INET6, "::1", "::1");
	check_format(AF_INET6, "2001:db8::1", "2001:db8::1");
	check_format(AF_INET6, "fe80:0:0:0:1:2:3:4", "fe80::1:2:3:4");
	check_format(AF_INET6, "2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1");
	check_format(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_ipv4_mapped(void **state)
{
	(void)state;
	check_format(AF_INET6, "::ffff:1.2.3.4", "::ffff:1.2.3.4");
	check_format(AF_INET6, "::ffff:127.0.0.1", "::ffff:127.0.0.1");
	check_format(AF_INET6, "::ffff:255.255.255.255", "::ffff:255.255.255.255");
}

static void test_other_family(void **state)
{
	uint8_t addr[16] = { 0 };
	char out[PW_ADDR_STRLEN];

	(void)state;
	assert_int_equal(pw_addr_format(AF_UNIX, addr, out, sizeof(out)), -EAFNOSUPPORT);
	assert_int_equal(pw_addr_format(AF_UNSPEC, addr, out, sizeof(out)), -EAFNOSUPPORT);
	assert_int_equal(pw_addr_format(0xffff, addr, out, sizeof(out)), -EAFNOSUPPORT);
}

static void test_exact_room(void **state)
{
	uint8_t addr[16];
	char out[PW_ADDR_STRLEN];

	(void)state;
	parse(AF_INET, "1.2.3.4", addr);
	/* "1.2.3.4" is 7 characters: 8 bytes fit, 7 do not. */
	assert_int_equal(pw_addr_format(AF_INET, addr, out, 8), 0);
	assert_string_equal(out, "1.2.3.4");
	assert_int_equal(pw_addr_format(AF_INET, addr, out, 7), -ENOSPC);
	assert_int_equal(pw_addr_format(AF_INET, addr, out, 0), -ENOSPC);

	parse(AF_INET6, "2001:db8::1", addr);
	assert_int_equal(pw_addr_format(AF_INET6, addr, out, 12), 0);
	assert_string_equal(out, "2001:db8::1");
	assert_int_equal(pw_addr_format(AF_INET6, addr, out, 11), -ENOSPC);

	/* The longest IPv6 text fits the documented size. */
	parse(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", addr);
	assert_int_equal(pw_addr_format(AF_INET6, addr, out, PW_ADDR_STRLEN), 0);
	assert_int_equal(strlen(out), 39);
}

static void test_unspecified(void **state)
{
	uint8_t addr[16];

	(void)state;
	parse(AF_INET, "0.0.0.0", addr); /* junk after the first 4 bytes */
	assert_true(pw_addr_is_unspecified(AF_INET, addr));
	parse(AF_INET, "0.0.0.1", addr);
	assert_false(pw_addr_is_unspecified(AF_INET, addr));
	parse(AF_INET, "128.0.0.0", addr);
	assert_false(pw_addr_is_unspecified(AF_INET, addr));

	parse(AF_INET6, "::", addr);
	assert_true(pw_addr_is_unspecified(AF_INET6, addr));
	parse(AF_INET6, "::1", addr);
	assert_false(pw_addr_is_unspecified(AF_INET6, addr));
	parse(AF_INET6, "8000::", addr);
	assert_false(pw_addr_is_unspecified(AF_INET6, addr));
	/* Zero in the first 4 bytes is not enough for IPv6. */
	parse(AF_INET6, "0:0:1::", addr);
	assert_false(pw_addr_is_unspecified(AF_INET6, addr));

	memset(addr, 0x11, sizeof(addr));
	assert_true(pw_addr_is_unspecified(AF_UNIX, addr));
	assert_true(pw_addr_is_unspecified(AF_UNSPEC, addr));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv4_is_network_order),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_ipv4_mapped),
		cmocka_unit_test(test_other_family),
		cmocka_unit_test(test_exact_room),
		cmocka_unit_test(test_unspecified),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
