/* Unit tests for the action words: every TCP state pair, bind results, and
 * the names the event contract lists. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "action.h"

static struct pw_event state_event(unsigned int from, unsigned int to)
{
	struct pw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = PW_EVENT_STATE;
	ev.family = AF_INET;
	ev.old_state = (__u8)from;
	ev.new_state = (__u8)to;
	return ev;
}

/* The contract's reading of a state change, written out pair by pair. */
static const char *expected_action(unsigned int from, unsigned int to)
{
	static const struct {
		unsigned int from, to;
		const char *action;
	} named[] = {
		{ PW_TCP_CLOSE, PW_TCP_LISTEN, "listen" },
		{ PW_TCP_LISTEN, PW_TCP_CLOSE, "listen_close" },
		{ PW_TCP_CLOSE, PW_TCP_SYN_SENT, "connect" },
		{ PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, "connected" },
		{ PW_TCP_SYN_SENT, PW_TCP_CLOSE, "connect_failed" },
		{ PW_TCP_SYN_RECV, PW_TCP_ESTABLISHED, "accepted" },
	};
	size_t i;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (named[i].from == from && named[i].to == to)
			return named[i].action;
	return to == PW_TCP_CLOSE ? "close" : "transition";
}

static void test_every_state_pair(void **state)
{
	struct pw_event ev;
	unsigned int from, to;
	int listens = 0, closes = 0, transitions = 0;
	const char *got;

	(void)state;
	for (from = 0; from < PW_TCP_MAX_STATES; from++) {
		for (to = 0; to < PW_TCP_MAX_STATES; to++) {
			ev = state_event(from, to);
			got = pw_action_name(pw_action_of(&ev));
			assert_non_null(got);
			if (strcmp(got, expected_action(from, to)))
				fail_msg("%u -> %u gave %s, want %s", from, to, got,
					 expected_action(from, to));
			listens += !strcmp(got, "listen");
			closes += !strcmp(got, "close");
			transitions += !strcmp(got, "transition");
		}
	}
	/* Only one pair is a listen; every way into CLOSE but the two named
	 * ones (listen_close, connect_failed) is a close. */
	assert_int_equal(listens, 1);
	assert_int_equal(closes, PW_TCP_MAX_STATES - 2);
	assert_int_equal(transitions, PW_TCP_MAX_STATES * PW_TCP_MAX_STATES -
					      (PW_TCP_MAX_STATES - 2) - 6);
}

static void test_typical_lifecycles(void **state)
{
	struct pw_event ev;

	(void)state;
	/* Client: connect, connected, active close. */
	ev = state_event(PW_TCP_CLOSE, PW_TCP_SYN_SENT);
	assert_int_equal(pw_action_of(&ev), PW_ACTION_CONNECT);
	ev = state_event(PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED);
	assert_int_equal(pw_action_of(&ev), PW_ACTION_CONNECTED);
	ev = state_event(PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1);
	assert_int_equal(pw_action_of(&ev), PW_ACTION_TRANSITION);
	ev = state_event(PW_TCP_FIN_WAIT2, PW_TCP_CLOSE);
	assert_int_equal(pw_action_of(&ev), PW_ACTION_CLOSE);
	/* Refused connect. */
	ev = state_event(PW_TCP_SYN_SENT, PW_TCP_CLOSE);
	assert_int_equal(pw_action_of(&ev), PW_ACTION_CONNECT_FAILED);
	/* Server side: listen, accept, passive close, listener closed. */
	ev = state_event(PW_TCP_CLOSE, PW_TCP_LISTEN);
	assert_int_equal(pw_action_of(&ev), PW_ACTION_LISTEN);
	ev = state_event(PW_TCP_SYN_RECV, PW_TCP_ESTABLISHED);
	assert_int_equal(pw_action_of(&ev), PW_ACTION_ACCEPTED);
	ev = state_event(PW_TCP_LAST_ACK, PW_TCP_CLOSE);
	assert_int_equal(pw_action_of(&ev), PW_ACTION_CLOSE);
	ev = state_event(PW_TCP_LISTEN, PW_TCP_CLOSE);
	assert_int_equal(pw_action_of(&ev), PW_ACTION_LISTEN_CLOSE);
	/* A connection reset before accept completes is a close, not a failure. */
	ev = state_event(PW_TCP_SYN_RECV, PW_TCP_CLOSE);
	assert_int_equal(pw_action_of(&ev), PW_ACTION_CLOSE);
}

static void test_bind_results(void **state)
{
	struct pw_event ev;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.type = PW_EVENT_BIND;
	ev.bind_errno = 0;
	assert_int_equal(pw_action_of(&ev), PW_ACTION_BIND);
	ev.bind_errno = EADDRINUSE;
	assert_int_equal(pw_action_of(&ev), PW_ACTION_BIND_FAILED);
	ev.bind_errno = EACCES;
	assert_int_equal(pw_action_of(&ev), PW_ACTION_BIND_FAILED);
	/* A bind record's state fields mean nothing. */
	ev.bind_errno = 0;
	ev.old_state = PW_TCP_CLOSE;
	ev.new_state = PW_TCP_LISTEN;
	assert_int_equal(pw_action_of(&ev), PW_ACTION_BIND);
}

static void test_unknown_type(void **state)
{
	struct pw_event ev;

	(void)state;
	ev = state_event(PW_TCP_CLOSE, PW_TCP_LISTEN);
	ev.type = 0;
	assert_int_equal(pw_action_of(&ev), PW_ACTION_UNKNOWN);
	ev.type = 3;
	assert_int_equal(pw_action_of(&ev), PW_ACTION_UNKNOWN);
	ev.type = 255;
	assert_int_equal(pw_action_of(&ev), PW_ACTION_UNKNOWN);
}

static void test_names(void **state)
{
	static const struct {
		enum pw_action action;
		const char *name;
	} names[] = {
		{ PW_ACTION_LISTEN, "listen" },
		{ PW_ACTION_LISTEN_CLOSE, "listen_close" },
		{ PW_ACTION_CONNECT, "connect" },
		{ PW_ACTION_CONNECTED, "connected" },
		{ PW_ACTION_CONNECT_FAILED, "connect_failed" },
		{ PW_ACTION_ACCEPTED, "accepted" },
		{ PW_ACTION_CLOSE, "close" },
		{ PW_ACTION_TRANSITION, "transition" },
		{ PW_ACTION_BIND, "bind" },
		{ PW_ACTION_BIND_FAILED, "bind_failed" },
		{ PW_ACTION_EXISTING, "existing" },
		{ PW_ACTION_UNKNOWN, "unknown" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(pw_action_name(names[i].action), names[i].name);
	assert_null(pw_action_name((enum pw_action)(PW_ACTION_UNKNOWN + 1)));
	assert_null(pw_action_name((enum pw_action)-1));
	assert_null(pw_action_name((enum pw_action)1000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_state_pair),
		cmocka_unit_test(test_typical_lifecycles),
		cmocka_unit_test(test_bind_results),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
