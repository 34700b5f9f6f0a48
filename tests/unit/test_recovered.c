/* Unit tests for recognising a state change the backup program reported a
 * second time (recovered.c): the copy is recognised, a genuine repeat after
 * the change went back is not, and the look-back is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "recovered.h"

static struct pw_event change(uint64_t cookie, uint8_t old, uint8_t new, bool recovered)
{
	struct pw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = PW_EVENT_STATE;
	ev.sock_cookie = cookie;
	ev.old_state = old;
	ev.new_state = new;
	ev.flags = recovered ? PW_EVENT_RECOVERED : 0;
	return ev;
}

static bool seen(struct pw_recent_states *recent, uint64_t cookie, uint8_t old, uint8_t new,
		 bool recovered)
{
	struct pw_event ev = change(cookie, old, new, recovered);

	return pw_recovered_duplicate(recent, &ev);
}

static struct pw_recent_states *fresh(void)
{
	struct pw_recent_states *recent = calloc(1, sizeof(*recent));

	assert_non_null(recent);
	return recent;
}

static void test_copy_of_the_last_change_is_a_duplicate(void **state)
{
	struct pw_recent_states *recent = fresh();

	(void)state;
	assert_false(seen(recent, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, false));
	/* Other sockets' changes in between do not matter. */
	assert_false(seen(recent, 8, PW_TCP_LISTEN, PW_TCP_SYN_RECV, false));
	assert_false(seen(recent, 9, PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, true));
	assert_true(seen(recent, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, true));
	free(recent);
}

static void test_recovered_change_of_its_own_is_kept(void **state)
{
	struct pw_recent_states *recent = fresh();

	(void)state;
	/* Unknown socket; then the next change of a known one. */
	assert_false(seen(recent, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, true));
	assert_false(seen(recent, 7, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, true));
	/* A copy of a main-program change is only dropped when recovered. */
	assert_false(seen(recent, 7, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, false));
	free(recent);
}

static void test_a_genuine_repeat_is_kept(void **state)
{
	struct pw_recent_states *recent = fresh();

	(void)state;
	/* connect, fails, connect again on the same socket. */
	assert_false(seen(recent, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, false));
	assert_false(seen(recent, 7, PW_TCP_SYN_SENT, PW_TCP_CLOSE, false));
	assert_false(seen(recent, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, true));
	free(recent);
}

static void test_binds_and_cookieless_events_are_never_duplicates(void **state)
{
	struct pw_recent_states *recent = fresh();
	struct pw_event bind = change(7, 0, 0, true);

	(void)state;
	bind.type = PW_EVENT_BIND;
	assert_false(pw_recovered_duplicate(recent, &bind));
	assert_false(pw_recovered_duplicate(recent, &bind));
	assert_false(seen(recent, 0, PW_TCP_CLOSE, PW_TCP_SYN_SENT, false));
	assert_false(seen(recent, 0, PW_TCP_CLOSE, PW_TCP_SYN_SENT, true));
	assert_int_equal(recent->seen, 0);
	free(recent);
}

static void test_look_back_is_bounded(void **state)
{
	struct pw_recent_states *recent = fresh();
	uint64_t i;

	(void)state;
	assert_false(seen(recent, 1, PW_TCP_CLOSE, PW_TCP_SYN_SENT, false));
	for (i = 0; i < PW_RECENT_STATES - 1; i++)
		assert_false(seen(recent, 100 + i, PW_TCP_CLOSE, PW_TCP_LISTEN, false));
	/* Still the oldest of the ring: recognised (a duplicate is not recorded). */
	assert_true(seen(recent, 1, PW_TCP_CLOSE, PW_TCP_SYN_SENT, true));
	for (i = 0; i < PW_RECENT_STATES; i++)
		assert_false(seen(recent, 100 + i, PW_TCP_CLOSE, PW_TCP_LISTEN, false));
	/* Pushed out: no longer recognised. */
	assert_false(seen(recent, 1, PW_TCP_CLOSE, PW_TCP_SYN_SENT, true));
	free(recent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_of_the_last_change_is_a_duplicate),
		cmocka_unit_test(test_recovered_change_of_its_own_is_kept),
		cmocka_unit_test(test_a_genuine_repeat_is_kept),
		cmocka_unit_test(test_binds_and_cookieless_events_are_never_duplicates),
		cmocka_unit_test(test_look_back_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
