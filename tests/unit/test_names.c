/* Unit tests for the name tables: every value the event contract spells,
 * and what comes back for values outside each table. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "action.h"
#include "addr.h"
#include "names.h"
#include "portwarden.h"

static void test_every_tcp_state(void **state)
{
	static const struct {
		unsigned int state;
		const char *name;
	} states[] = {
		{ PW_TCP_ESTABLISHED, "ESTABLISHED" }, { PW_TCP_SYN_SENT, "SYN_SENT" },
		{ PW_TCP_SYN_RECV, "SYN_RECV" },       { PW_TCP_FIN_WAIT1, "FIN_WAIT1" },
		{ PW_TCP_FIN_WAIT2, "FIN_WAIT2" },     { PW_TCP_TIME_WAIT, "TIME_WAIT" },
		{ PW_TCP_CLOSE, "CLOSE" },             { PW_TCP_CLOSE_WAIT, "CLOSE_WAIT" },
		{ PW_TCP_LAST_ACK, "LAST_ACK" },       { PW_TCP_LISTEN, "LISTEN" },
		{ PW_TCP_CLOSING, "CLOSING" },         { PW_TCP_NEW_SYN_RECV, "NEW_SYN_RECV" },
		{ PW_TCP_BOUND_INACTIVE, "BOUND_INACTIVE" },
	};
	size_t i;

	(void)state;
	/* The kernel's numbering (include/net/tcp_states.h), not just our enum. */
	assert_int_equal(PW_TCP_ESTABLISHED, 1);
	assert_int_equal(PW_TCP_LISTEN, 10);
	assert_int_equal(PW_TCP_BOUND_INACTIVE, 13);
	assert_int_equal(sizeof(states) / sizeof(states[0]), PW_TCP_MAX_STATES - 1);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		assert_string_equal(pw_tcp_state_name(states[i].state), states[i].name);
}

static void test_unknown_tcp_state(void **state)
{
	(void)state;
	assert_string_equal(pw_tcp_state_name(0), "UNKNOWN");
	assert_string_equal(pw_tcp_state_name(PW_TCP_MAX_STATES), "UNKNOWN");
	assert_string_equal(pw_tcp_state_name(255), "UNKNOWN");
	assert_string_equal(pw_tcp_state_name(UINT_MAX), "UNKNOWN");
}

static void test_errno_names_match_libc(void **state)
{
	const char *ours, *libc;
	int err, named = 0;

	(void)state;
	/* glibc names every errno it knows; ours must agree on each of them,
	 * so a typo or a shifted entry in the table cannot hide. */
	for (err = 1; err < 4096; err++) {
		ours = pw_errno_name(err);
		libc = strerrorname_np(err);
		if (!libc)
			continue;
		assert_non_null(ours);
		assert_string_equal(ours, libc);
		named++;
	}
	assert_true(named >= 130);
}

static void test_errno_names_for_bind(void **state)
{
	(void)state;
	assert_string_equal(pw_errno_name(EADDRINUSE), "EADDRINUSE");
	assert_string_equal(pw_errno_name(EACCES), "EACCES");
	assert_string_equal(pw_errno_name(EADDRNOTAVAIL), "EADDRNOTAVAIL");
	assert_string_equal(pw_errno_name(EINVAL), "EINVAL");
	assert_string_equal(pw_errno_name(EAFNOSUPPORT), "EAFNOSUPPORT");
	assert_string_equal(pw_errno_name(EPERM), "EPERM");
	/* Aliases come out under the one name kept. */
	assert_string_equal(pw_errno_name(EWOULDBLOCK), "EAGAIN");
	assert_string_equal(pw_errno_name(EDEADLOCK), "EDEADLK");
	assert_string_equal(pw_errno_name(ENOTSUP), "EOPNOTSUPP");
}

static void test_errno_kernel_internal_and_unknown(void **state)
{
	(void)state;
	assert_string_equal(pw_errno_name(512), "ERESTARTSYS");
	assert_string_equal(pw_errno_name(513), "ERESTARTNOINTR");
	assert_string_equal(pw_errno_name(514), "ERESTARTNOHAND");
	assert_string_equal(pw_errno_name(516), "ERESTART_RESTARTBLOCK");
	assert_string_equal(pw_errno_name(524), "ENOTSUPP");
	assert_null(pw_errno_name(0));
	assert_null(pw_errno_name(-EADDRINUSE));
	assert_null(pw_errno_name(INT_MIN));
	assert_null(pw_errno_name(41)); /* a hole in the Linux numbering */
	assert_null(pw_errno_name(134));
	assert_null(pw_errno_name(515));
	assert_null(pw_errno_name(4095));
	assert_null(pw_errno_name(INT_MAX));
}

static void test_attribution_names(void **state)
{
	(void)state;
	assert_string_equal(pw_attribution_name(PW_ATTR_NONE), "none");
	assert_string_equal(pw_attribution_name(PW_ATTR_SYSCALL), "syscall");
	assert_string_equal(pw_attribution_name(PW_ATTR_SOCKET), "socket");
	assert_string_equal(pw_attribution_name(PW_ATTR_LISTENER), "listener");
	assert_string_equal(pw_attribution_name(PW_ATTR_CURRENT), "current");
	assert_null(pw_attribution_name(PW_ATTR_CURRENT + 1));
	assert_null(pw_attribution_name(UINT_MAX));
}

static void test_direction_names(void **state)
{
	(void)state;
	assert_null(pw_direction_name(PW_DIR_NONE));
	assert_string_equal(pw_direction_name(PW_DIR_INBOUND), "inbound");
	assert_string_equal(pw_direction_name(PW_DIR_OUTBOUND), "outbound");
	assert_string_equal(pw_direction_name(PW_DIR_LISTEN), "listen");
	assert_null(pw_direction_name(PW_DIR_LISTEN + 1));
	assert_null(pw_direction_name(UINT_MAX));
}

static void test_hook_names(void **state)
{
	(void)state;
	assert_null(pw_hook_name(0));
	assert_string_equal(pw_hook_name(PW_HOOK_STATE_TP_BTF), "tp_btf");
	assert_string_equal(pw_hook_name(PW_HOOK_STATE_TRACEPOINT), "tracepoint");
	assert_string_equal(pw_hook_name(PW_HOOK_BIND_FEXIT), "fexit");
	assert_string_equal(pw_hook_name(PW_HOOK_BIND_SYSCALL), "syscall");
	assert_null(pw_hook_name(200));
	assert_null(pw_hook_name(255));
}

static void test_family_names(void **state)
{
	(void)state;
	assert_string_equal(pw_family_name(AF_INET), "ipv4");
	assert_string_equal(pw_family_name(AF_INET6), "ipv6");
	assert_null(pw_family_name(AF_UNSPEC));
	assert_null(pw_family_name(AF_UNIX));
	assert_null(pw_family_name(AF_PACKET));
	assert_null(pw_family_name(UINT16_MAX));
}

static void test_transport_names(void **state)
{
	unsigned int p;
	int named = 0;

	(void)state;
	assert_string_equal(pw_transport_name(IPPROTO_TCP), "tcp");
	assert_string_equal(pw_transport_name(IPPROTO_UDP), "udp");
	assert_string_equal(pw_transport_name(IPPROTO_UDPLITE), "udplite");
	assert_string_equal(pw_transport_name(IPPROTO_SCTP), "sctp");
	assert_string_equal(pw_transport_name(IPPROTO_ICMP), "icmp");
	assert_string_equal(pw_transport_name(IPPROTO_ICMPV6), "icmpv6");
	assert_string_equal(pw_transport_name(IPPROTO_RAW), "raw");
	assert_string_equal(pw_transport_name(0), "other");
	assert_string_equal(pw_transport_name(IPPROTO_GRE), "other");
	/* Never NULL, and only the seven above have their own name. */
	for (p = 0; p <= UINT8_MAX; p++) {
		const char *name = pw_transport_name((uint8_t)p);

		assert_non_null(name);
		if (strcmp(name, "other"))
			named++;
	}
	assert_int_equal(named, 7);
}

static void test_port_category_boundaries(void **state)
{
	unsigned int port;

	(void)state;
	assert_string_equal(pw_port_category(0), "well-known");
	assert_string_equal(pw_port_category(1), "well-known");
	assert_string_equal(pw_port_category(80), "well-known");
	assert_string_equal(pw_port_category(1023), "well-known");
	assert_string_equal(pw_port_category(1024), "registered");
	assert_string_equal(pw_port_category(8080), "registered");
	assert_string_equal(pw_port_category(49151), "registered");
	assert_string_equal(pw_port_category(49152), "dynamic");
	assert_string_equal(pw_port_category(65535), "dynamic");
	/* Every port has exactly the category of its IANA range. */
	for (port = 0; port <= UINT16_MAX; port++) {
		const char *want = port <= 1023 ? "well-known" : port <= 49151 ? "registered" : "dynamic";

		assert_string_equal(pw_port_category((uint16_t)port), want);
	}
}

/* The JSON encoder copies these words without escaping them: each must be
 * printable ASCII without '"' or '\\', for every input. */
static void assert_plain_name(const char *s)
{
	const unsigned char *c;

	if (!s)
		return;
	assert_true(*s != '\0');
	for (c = (const unsigned char *)s; *c; c++)
		assert_true(*c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\');
}

static void test_every_name_is_plain_ascii(void **state)
{
	static const uint8_t loopback[16] = { 127, 0, 0, 1 }, any[16] = { 0 };
	static const uint8_t other[16] = { 10, 1, 2, 3 };
	struct pw_event ev = { 0 };
	long v;

	(void)state;
	for (v = 0; v <= 0xffff; v++) {
		assert_plain_name(pw_tcp_state_name((unsigned int)v));
		assert_plain_name(pw_attribution_name((unsigned int)v));
		assert_plain_name(pw_direction_name((unsigned int)v));
		assert_plain_name(pw_family_name((uint16_t)v));
		assert_plain_name(pw_port_category((uint16_t)v));
		assert_plain_name(pw_addr_scope((uint16_t)v, loopback));
		assert_plain_name(pw_addr_scope((uint16_t)v, any));
		assert_plain_name(pw_addr_scope((uint16_t)v, other));
	}
	for (v = 0; v <= 0xff; v++) {
		assert_plain_name(pw_transport_name((uint8_t)v));
		assert_plain_name(pw_hook_name((uint8_t)v));
	}
	for (v = -70000; v <= 70000; v++)
		assert_plain_name(pw_errno_name((int)v));
	for (v = 0; v <= PW_ACTION_UNKNOWN + 1; v++)
		assert_plain_name(pw_action_name((enum pw_action)v));
	for (v = 0; v <= 0xff; v++) {
		ev.type = (uint8_t)v;
		ev.old_state = (uint8_t)(v % 16);
		ev.new_state = (uint8_t)(v / 16);
		assert_plain_name(pw_action_name(pw_action_of(&ev)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_tcp_state),
		cmocka_unit_test(test_unknown_tcp_state),
		cmocka_unit_test(test_errno_names_match_libc),
		cmocka_unit_test(test_errno_names_for_bind),
		cmocka_unit_test(test_errno_kernel_internal_and_unknown),
		cmocka_unit_test(test_attribution_names),
		cmocka_unit_test(test_direction_names),
		cmocka_unit_test(test_hook_names),
		cmocka_unit_test(test_family_names),
		cmocka_unit_test(test_transport_names),
		cmocka_unit_test(test_port_category_boundaries),
		cmocka_unit_test(test_every_name_is_plain_ascii),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
