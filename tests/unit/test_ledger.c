/* Unit tests for the socket ledger (ledger.c): a missing change is found
 * from a break in a socket's chain or from the kernel's socket table, once
 * and only once; changes that trail in the ring, events in flight during a
 * check and sockets the ledger does not follow are not taken for losses;
 * the table holds up under many sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "ledger.h"

#define MS 1000000ull
#define SECOND (1000 * MS)

static struct pw_ledger *fresh(void)
{
	struct pw_ledger *ledger;

	assert_int_equal(pw_ledger_new(&ledger), 0);
	return ledger;
}

static void note(struct pw_ledger *ledger, uint64_t cookie, uint8_t old, uint8_t new,
		 uint64_t ts)
{
	assert_int_equal(pw_ledger_note(ledger, cookie, old, new, ts), 0);
}

/* One check in which the kernel has exactly these sockets. */
struct kernel_socket {
	uint64_t cookie;
	uint8_t state;
};

static void check(struct pw_ledger *ledger, const struct kernel_socket *sockets, size_t n,
		  bool final)
{
	pw_ledger_check_begin(ledger);
	for (size_t i = 0; i < n; i++)
		pw_ledger_check_socket(ledger, sockets[i].cookie, sockets[i].state);
	pw_ledger_check_end(ledger, final);
}

/* A loopback connection's ten changes, client (c) and server (s), in the
 * order the kernel makes them. */
static void whole_connection(struct pw_ledger *ledger, uint64_t c, uint64_t s, uint64_t t)
{
	note(ledger, c, PW_TCP_CLOSE, PW_TCP_SYN_SENT, t + 1);
	note(ledger, s, PW_TCP_LISTEN, PW_TCP_SYN_RECV, t + 2);
	note(ledger, c, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, t + 3);
	note(ledger, s, PW_TCP_SYN_RECV, PW_TCP_ESTABLISHED, t + 4);
	note(ledger, c, PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, t + 5);
	note(ledger, s, PW_TCP_ESTABLISHED, PW_TCP_CLOSE_WAIT, t + 6);
	note(ledger, c, PW_TCP_FIN_WAIT1, PW_TCP_FIN_WAIT2, t + 7);
	note(ledger, s, PW_TCP_CLOSE_WAIT, PW_TCP_LAST_ACK, t + 8);
	note(ledger, c, PW_TCP_FIN_WAIT2, PW_TCP_CLOSE, t + 9);
	note(ledger, s, PW_TCP_LAST_ACK, PW_TCP_CLOSE, t + 10);
}

static void test_whole_lives_leave_nothing_missing(void **state)
{
	struct pw_ledger *ledger = fresh();
	const struct kernel_socket listener[] = { { 1, PW_TCP_LISTEN } };

	(void)state;
	note(ledger, 1, PW_TCP_CLOSE, PW_TCP_LISTEN, 1);
	for (uint64_t i = 0; i < 100; i++)
		whole_connection(ledger, 10 + 2 * i, 11 + 2 * i, i * MS);
	assert_int_equal(pw_ledger_open_sockets(ledger), 1);
	check(ledger, listener, 1, false);
	check(ledger, listener, 1, false);
	note(ledger, 1, PW_TCP_LISTEN, PW_TCP_CLOSE, 5 * SECOND);
	check(ledger, NULL, 0, true);
	pw_ledger_settle(ledger, true);
	assert_int_equal(pw_ledger_undelivered(ledger), 0);
	assert_int_equal(pw_ledger_open_sockets(ledger), 0);
	pw_ledger_free(ledger);
}

static void test_a_break_counts_once_it_has_settled(void **state)
{
	struct pw_ledger *ledger = fresh();

	(void)state;
	note(ledger, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, 1 * MS);
	/* SYN_SENT -> ESTABLISHED never came. */
	note(ledger, 7, PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, 2 * MS);
	pw_ledger_settle(ledger, false);
	assert_int_equal(pw_ledger_undelivered(ledger), 0); /* it may still come */
	/* Other sockets' events move event time on past the settling time. */
	note(ledger, 8, PW_TCP_CLOSE, PW_TCP_LISTEN, 2 * MS + PW_LEDGER_SETTLE_NS + 1);
	pw_ledger_settle(ledger, false);
	assert_int_equal(pw_ledger_undelivered(ledger), 1);
	pw_ledger_settle(ledger, true);
	assert_int_equal(pw_ledger_undelivered(ledger), 1);
	pw_ledger_free(ledger);
}

static void test_a_change_that_trails_in_the_ring_mends_its_break(void **state)
{
	struct pw_ledger *ledger = fresh();

	(void)state;
	note(ledger, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, 1);
	note(ledger, 7, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, 2);
	/* FIN_WAIT1 -> FIN_WAIT2 (made on the other CPU) overtook
	 * ESTABLISHED -> FIN_WAIT1, and the socket closed before it came. */
	note(ledger, 7, PW_TCP_FIN_WAIT1, PW_TCP_FIN_WAIT2, 4);
	note(ledger, 7, PW_TCP_FIN_WAIT2, PW_TCP_CLOSE, 5);
	note(ledger, 7, PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, 3);
	/* The first change of a socket trailing its second one. */
	note(ledger, 9, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, 7);
	note(ledger, 9, PW_TCP_CLOSE, PW_TCP_SYN_SENT, 6);
	note(ledger, 9, PW_TCP_ESTABLISHED, PW_TCP_CLOSE, 8);
	/* A listener's close overtook its listen: the socket is closed, not
	 * a listener the kernel no longer has. */
	note(ledger, 10, PW_TCP_LISTEN, PW_TCP_CLOSE, 10);
	note(ledger, 10, PW_TCP_CLOSE, PW_TCP_LISTEN, 9);
	assert_int_equal(pw_ledger_open_sockets(ledger), 0);
	check(ledger, NULL, 0, false);
	check(ledger, NULL, 0, true);
	pw_ledger_settle(ledger, true);
	assert_int_equal(pw_ledger_undelivered(ledger), 0);
	pw_ledger_free(ledger);
}

static void test_a_second_break_before_the_first_mends_counts_both(void **state)
{
	struct pw_ledger *ledger = fresh();

	(void)state;
	note(ledger, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, 1);
	note(ledger, 7, PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, 2);
	note(ledger, 7, PW_TCP_FIN_WAIT2, PW_TCP_CLOSE, 3);
	pw_ledger_settle(ledger, true);
	assert_int_equal(pw_ledger_undelivered(ledger), 2);
	pw_ledger_free(ledger);
}

static void test_last_changes_missing_are_found_at_the_second_check(void **state)
{
	struct pw_ledger *ledger = fresh();

	(void)state;
	/* A client whose last changes never came, gone from the kernel's
	 * table: at least its change to CLOSE is missing. */
	note(ledger, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, 1);
	note(ledger, 7, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, 2);
	note(ledger, 7, PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, 3);
	assert_false(pw_ledger_check_wants_time_wait(ledger));
	check(ledger, NULL, 0, false);
	assert_int_equal(pw_ledger_undelivered(ledger), 0); /* could be in flight */
	/* The next check asks for TIME_WAIT sockets: how far did it get? */
	assert_true(pw_ledger_check_wants_time_wait(ledger));
	check(ledger, NULL, 0, false);
	assert_int_equal(pw_ledger_undelivered(ledger), 1);
	assert_false(pw_ledger_check_wants_time_wait(ledger));
	assert_int_equal(pw_ledger_open_sockets(ledger), 0);
	/* Counted once: later checks and settling do not count it again. */
	check(ledger, NULL, 0, false);
	pw_ledger_settle(ledger, true);
	assert_int_equal(pw_ledger_undelivered(ledger), 1);
	pw_ledger_free(ledger);
}

static void test_a_socket_in_time_wait_tells_how_many_were_missed(void **state)
{
	struct pw_ledger *ledger = fresh();
	const struct kernel_socket time_wait[] = { { 7, PW_TCP_TIME_WAIT },
						   { 8, PW_TCP_TIME_WAIT },
						   { 9, PW_TCP_TIME_WAIT },
						   { 10, PW_TCP_TIME_WAIT } };

	(void)state;
	/* Last seen in FIN_WAIT1: FIN_WAIT1 -> FIN_WAIT2 (or CLOSING) and
	 * then CLOSE are missing; from ESTABLISHED one more; from FIN_WAIT2
	 * only the CLOSE. Socket 10's CLOSE came after all (no count). */
	note(ledger, 7, PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, 1);
	note(ledger, 8, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, 2);
	note(ledger, 9, PW_TCP_FIN_WAIT1, PW_TCP_FIN_WAIT2, 3);
	note(ledger, 10, PW_TCP_FIN_WAIT1, PW_TCP_FIN_WAIT2, 4);
	check(ledger, time_wait, 4, false);
	note(ledger, 10, PW_TCP_FIN_WAIT2, PW_TCP_CLOSE, 5);
	check(ledger, time_wait, 4, false);
	assert_int_equal(pw_ledger_undelivered(ledger), 2 + 3 + 1);
	assert_int_equal(pw_ledger_open_sockets(ledger), 0);
	pw_ledger_free(ledger);
}

static void test_an_event_between_checks_clears_the_suspicion(void **state)
{
	struct pw_ledger *ledger = fresh();
	const struct kernel_socket fin_wait2[] = { { 7, PW_TCP_FIN_WAIT2 } };

	(void)state;
	note(ledger, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, 1);
	note(ledger, 7, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, 2);
	note(ledger, 7, PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, 3);
	/* The kernel is ahead of the ring at the first check... */
	check(ledger, fin_wait2, 1, false);
	note(ledger, 7, PW_TCP_FIN_WAIT1, PW_TCP_FIN_WAIT2, 4);
	assert_false(pw_ledger_check_wants_time_wait(ledger));
	check(ledger, fin_wait2, 1, false);
	/* ...and closed between two checks, the close still in flight. */
	check(ledger, NULL, 0, false);
	note(ledger, 7, PW_TCP_FIN_WAIT2, PW_TCP_CLOSE, 5);
	check(ledger, NULL, 0, false);
	pw_ledger_settle(ledger, true);
	assert_int_equal(pw_ledger_undelivered(ledger), 0);
	pw_ledger_free(ledger);
}

static void test_a_live_socket_in_another_state_is_counted_and_followed_on(void **state)
{
	struct pw_ledger *ledger = fresh();
	const struct kernel_socket established[] = { { 7, PW_TCP_ESTABLISHED } };

	(void)state;
	/* An accepted socket whose SYN_RECV -> ESTABLISHED never came. */
	note(ledger, 7, PW_TCP_LISTEN, PW_TCP_SYN_RECV, 1);
	check(ledger, established, 1, false);
	check(ledger, established, 1, false);
	assert_int_equal(pw_ledger_undelivered(ledger), 1);
	assert_int_equal(pw_ledger_open_sockets(ledger), 1);
	/* Its chain goes on from what the kernel showed: no break. */
	note(ledger, 7, PW_TCP_ESTABLISHED, PW_TCP_CLOSE_WAIT, 2);
	note(ledger, 7, PW_TCP_CLOSE_WAIT, PW_TCP_LAST_ACK, 3);
	note(ledger, 7, PW_TCP_LAST_ACK, PW_TCP_CLOSE, 4);
	pw_ledger_settle(ledger, true);
	assert_int_equal(pw_ledger_undelivered(ledger), 1);
	pw_ledger_free(ledger);
}

static void test_the_final_check_concludes_at_once_on_unchanged_sockets(void **state)
{
	struct pw_ledger *ledger = fresh();

	(void)state;
	note(ledger, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, 1);
	note(ledger, 7, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, 2);
	note(ledger, 8, PW_TCP_CLOSE, PW_TCP_SYN_SENT, 3);
	note(ledger, 8, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, 4);
	note(ledger, 9, PW_TCP_CLOSE, PW_TCP_SYN_SENT, 5);
	note(ledger, 9, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, 6);
	/* At the final check the kernel has neither 7 nor 8, and 9 as it was.
	 * The changes of 8 and 9 that come in the drain after it were made
	 * after the check, before the detach; 7's close never comes. */
	pw_ledger_check_begin(ledger);
	pw_ledger_check_socket(ledger, 9, PW_TCP_ESTABLISHED);
	note(ledger, 8, PW_TCP_ESTABLISHED, PW_TCP_CLOSE, 7);
	note(ledger, 9, PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, 8);
	pw_ledger_check_end(ledger, true);
	assert_int_equal(pw_ledger_undelivered(ledger), 1);
	assert_int_equal(pw_ledger_open_sockets(ledger), 1);
	pw_ledger_free(ledger);
}

static void test_sockets_it_does_not_follow_are_ignored(void **state)
{
	struct pw_ledger *ledger = fresh();
	const struct kernel_socket others[] = { { 0, PW_TCP_LISTEN },
						{ 99, PW_TCP_ESTABLISHED },
						{ 7, PW_TCP_LISTEN } };

	(void)state;
	note(ledger, 0, PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, 1); /* no cookie */
	note(ledger, 7, PW_TCP_CLOSE, PW_TCP_LISTEN, 2);
	/* A socket first seen mid-life (open before the tracer) starts there. */
	note(ledger, 8, PW_TCP_ESTABLISHED, PW_TCP_CLOSE_WAIT, 3);
	check(ledger, others, 3, false);
	check(ledger, others, 3, false);
	assert_int_equal(pw_ledger_undelivered(ledger), 1); /* socket 8, gone unseen */
	assert_int_equal(pw_ledger_open_sockets(ledger), 1);
	pw_ledger_free(ledger);
}

static void test_a_closed_socket_may_open_again(void **state)
{
	struct pw_ledger *ledger = fresh();

	(void)state;
	/* A connect that failed, then a second connect on the same socket. */
	note(ledger, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, 1);
	note(ledger, 7, PW_TCP_SYN_SENT, PW_TCP_CLOSE, 2);
	note(ledger, 7, PW_TCP_CLOSE, PW_TCP_SYN_SENT, 3);
	note(ledger, 7, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, 4);
	assert_int_equal(pw_ledger_open_sockets(ledger), 1);
	note(ledger, 7, PW_TCP_ESTABLISHED, PW_TCP_CLOSE, 5);
	pw_ledger_settle(ledger, true);
	assert_int_equal(pw_ledger_undelivered(ledger), 0);
	assert_int_equal(pw_ledger_open_sockets(ledger), 0);
	pw_ledger_free(ledger);
}

/* A storm: 200,000 short connections around 1,000 long-lived ones, each
 * second settled as the tracer does; the table grows, deletes and shrinks,
 * and every long-lived socket stays findable throughout. */
static void test_many_sockets_through_the_table(void **state)
{
	struct pw_ledger *ledger = fresh();
	struct kernel_socket *lasting = calloc(1000, sizeof(*lasting));
	uint64_t t = 0;

	(void)state;
	assert_non_null(lasting);
	for (uint64_t i = 0; i < 1000; i++) {
		lasting[i] = (struct kernel_socket){ 1000000 + i * 7919, PW_TCP_ESTABLISHED };
		note(ledger, lasting[i].cookie, PW_TCP_CLOSE, PW_TCP_SYN_SENT, ++t);
		note(ledger, lasting[i].cookie, PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, ++t);
	}
	for (uint64_t i = 0; i < 100000; i++) {
		whole_connection(ledger, 2 * i + 1, 2 * i + 2, t);
		t += 20 * 1000; /* 50,000 connections a second */
		if (i % 5000 == 0)
			pw_ledger_settle(ledger, false);
		if (i % 20000 == 0)
			check(ledger, lasting, 1000, false);
	}
	pw_ledger_settle(ledger, false);
	check(ledger, lasting, 1000, false);
	assert_int_equal(pw_ledger_undelivered(ledger), 0);
	assert_int_equal(pw_ledger_open_sockets(ledger), 1000);
	/* One long-lived socket vanishes without its close. */
	check(ledger, lasting, 999, false);
	check(ledger, lasting, 999, false);
	assert_int_equal(pw_ledger_undelivered(ledger), 1);
	assert_int_equal(pw_ledger_open_sockets(ledger), 999);
	free(lasting);
	pw_ledger_free(ledger);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_lives_leave_nothing_missing),
		cmocka_unit_test(test_a_break_counts_once_it_has_settled),
		cmocka_unit_test(test_a_change_that_trails_in_the_ring_mends_its_break),
		cmocka_unit_test(test_a_second_break_before_the_first_mends_counts_both),
		cmocka_unit_test(test_last_changes_missing_are_found_at_the_second_check),
		cmocka_unit_test(test_a_socket_in_time_wait_tells_how_many_were_missed),
		cmocka_unit_test(test_an_event_between_checks_clears_the_suspicion),
		cmocka_unit_test(test_a_live_socket_in_another_state_is_counted_and_followed_on),
		cmocka_unit_test(test_the_final_check_concludes_at_once_on_unchanged_sockets),
		cmocka_unit_test(test_sockets_it_does_not_follow_are_ignored),
		cmocka_unit_test(test_a_closed_socket_may_open_again),
		cmocka_unit_test(test_many_sockets_through_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
