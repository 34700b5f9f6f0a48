/* Unit tests for the queue between the ring consumer and an output's writer
 * thread (line_queue.c): order, the line and byte caps, closing, lines
 * encoded in place and cancelled, views that stay valid until released,
 * blocks reused, and when a waiting writer is woken (a batch's worth of
 * lines, or a flush). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "line_queue.h"

static void push_text(struct pw_line_queue *q, const char *s, int want)
{
	assert_int_equal(pw_line_queue_push(q, s, strlen(s), 0), want);
}

/* A popped line is exactly text: its length and its bytes. */
static void assert_line(const struct pw_line *line, const char *text)
{
	assert_int_equal(line->len, strlen(text));
	assert_memory_equal(line->data, text, line->len);
}

static void test_lines_come_out_in_order_as_copies(void **state)
{
	struct pw_line_queue q;
	struct pw_line out[4];
	char text[8] = "first";

	(void)state;
	assert_int_equal(pw_line_queue_init(&q, 64, 1024), 0); /* a batch is 16 */
	push_text(&q, text, 0);
	strcpy(text, "changed"); /* the queue holds its own copy */
	assert_int_equal(pw_line_queue_push(&q, "second", 6, 7), 0);
	/* Less than a batch: the writer sees nothing before a flush. */
	assert_int_equal(pw_line_queue_pop(&q, out, 4, 0), 0);
	pw_line_queue_flush(&q);
	assert_int_equal(pw_line_queue_pop(&q, out, 4, 0), 2);
	assert_line(&out[0], "first");
	assert_line(&out[1], "second");
	assert_int_equal(out[1].carried_lost, 7);
	pw_line_queue_release(&q, 2);
	assert_int_equal(pw_line_queue_pop(&q, out, 4, 0), 0);
	pw_line_queue_destroy(&q);
}

static void test_caps_by_lines_and_by_bytes(void **state)
{
	struct pw_line_queue q;
	struct pw_line out[8];
	char big[64];

	(void)state;
	assert_int_equal(pw_line_queue_init(&q, 3, 20), 0);
	push_text(&q, "aaaa", 0);
	push_text(&q, "bbbb", 0);
	push_text(&q, "cccc", 0);
	push_text(&q, "d", -ENOBUFS); /* three lines: full by lines */
	assert_false(pw_line_queue_has_room(&q, 1));
	pw_line_queue_flush(&q);
	assert_false(pw_line_queue_has_room(&q, 1)); /* handed over, still waiting */
	assert_int_equal(pw_line_queue_pop(&q, out, 1, 0), 1);
	/* A popped line no longer counts, released or not. */
	push_text(&q, "ddddddddddddd", -ENOBUFS); /* 8 + 13 bytes > 20... */
	push_text(&q, "dddddddd", 0);             /* ... 8 + 8 fit */
	pw_line_queue_release(&q, 1);
	pw_line_queue_flush(&q);
	assert_int_equal(pw_line_queue_pop(&q, out, 8, 0), 3);
	assert_line(&out[2], "dddddddd");
	pw_line_queue_release(&q, 3);
	/* A line larger than the byte cap fits an empty queue only. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	push_text(&q, big, 0);
	push_text(&q, "e", -ENOBUFS);
	assert_int_equal(pw_line_queue_discard(&q), 1);
	push_text(&q, "e", 0);
	pw_line_queue_destroy(&q);
}

static void test_closed_queue_refuses_and_drains(void **state)
{
	struct pw_line_queue q;
	struct pw_line out[4];
	struct timespec t0, t1;

	(void)state;
	assert_int_equal(pw_line_queue_init(&q, 8, 1024), 0);
	push_text(&q, "last", 0);
	pw_line_queue_close(&q); /* hands "last" over */
	push_text(&q, "late", -EPIPE);
	assert_false(pw_line_queue_has_room(&q, 1));
	assert_int_equal(pw_line_queue_pop(&q, out, 4, 10000), 1);
	assert_line(&out[0], "last");
	pw_line_queue_release(&q, 1);
	/* Closed and empty: no wait at all, however long the timeout. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pw_line_queue_pop(&q, out, 4, 10000), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	pw_line_queue_destroy(&q);
}

/* The producer encodes into the queue's own buffer; a line it cannot
 * finish is taken out again and never reaches the writer. */
static void test_lines_encoded_in_place_or_cancelled(void **state)
{
	struct pw_line_queue q;
	struct pw_line out[4];
	struct pw_buf *line;
	size_t start;

	(void)state;
	assert_int_equal(pw_line_queue_init(&q, 8, 1024), 0);
	line = pw_line_queue_begin(&q, &start);
	assert_non_null(line);
	assert_int_equal(pw_buf_puts(line, "{\"seq\":1}"), 0);
	assert_int_equal(pw_line_queue_commit(&q, start, 0), 0);

	line = pw_line_queue_begin(&q, &start);
	assert_int_equal(pw_buf_puts(line, "{\"half"), 0);
	pw_line_queue_cancel(&q, start); /* the encoder failed */

	line = pw_line_queue_begin(&q, &start);
	assert_int_equal(pw_buf_puts(line, "{\"seq\":"), 0);
	line->failed = true; /* as when an append ran out of memory */
	assert_int_equal(pw_line_queue_commit(&q, start, 0), -ENOMEM);

	line = pw_line_queue_begin(&q, &start);
	assert_false(line->failed);
	assert_int_equal(pw_buf_puts(line, "{\"seq\":3}"), 0);
	assert_int_equal(pw_line_queue_commit(&q, start, 0), 0);

	pw_line_queue_flush(&q);
	assert_int_equal(pw_line_queue_pop(&q, out, 4, 0), 2);
	assert_line(&out[0], "{\"seq\":1}");
	assert_line(&out[1], "{\"seq\":3}");
	pw_line_queue_release(&q, 2);
	pw_line_queue_destroy(&q);
}

/* Popped lines are views: they stay as they were while the producer goes
 * on, until released; then their block is reused, not freed. */
static void test_views_live_until_released_and_blocks_are_reused(void **state)
{
	struct pw_line_queue q;
	struct pw_line first[PW_LINE_QUEUE_WAKE_LINES], more[PW_LINE_QUEUE_WAKE_LINES];
	struct pw_line_block *drained;
	char text[48];
	size_t i, n;

	(void)state;
	assert_int_equal(pw_line_queue_init(&q, 4096, 1 << 20), 0);
	for (i = 0; i < PW_LINE_QUEUE_WAKE_LINES; i++) {
		snprintf(text, sizeof(text), "block one line %zu", i);
		push_text(&q, text, 0); /* the last one hands the block over */
	}
	n = pw_line_queue_pop(&q, first, PW_LINE_QUEUE_WAKE_LINES, 0);
	assert_int_equal(n, PW_LINE_QUEUE_WAKE_LINES);
	for (i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "block two line %zu", i);
		push_text(&q, text, 0);
	}
	pw_line_queue_flush(&q);
	for (i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "block one line %zu", i);
		assert_line(&first[i], text);
	}
	assert_null(q.spare);
	drained = q.head;
	pw_line_queue_release(&q, n);
	assert_ptr_equal(q.spare, drained); /* kept for the producer */
	push_text(&q, "block three", 0);
	assert_ptr_equal(q.open, drained);
	assert_null(q.spare);
	pw_line_queue_flush(&q);
	n = pw_line_queue_pop(&q, more, PW_LINE_QUEUE_WAKE_LINES, 0);
	assert_int_equal(n, 11);
	assert_line(&more[9], "block two line 9");
	assert_line(&more[10], "block three");
	/* Discarding drops what was not popped; popped lines wait for their
	 * release. */
	push_text(&q, "never popped", 0);
	pw_line_queue_flush(&q);
	assert_int_equal(pw_line_queue_discard(&q), 1);
	assert_line(&more[10], "block three");
	pw_line_queue_release(&q, n);
	assert_null(q.head);
	pw_line_queue_destroy(&q);
}

/* A writer waiting in pop with a long timeout, as output.c's does. */
struct waiter {
	struct pw_line_queue *q;
	size_t got;
	double waited_s;
};

static void *wait_for_lines(void *arg)
{
	struct waiter *w = arg;
	struct pw_line out[PW_LINE_QUEUE_WAKE_LINES];
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	w->got = pw_line_queue_pop(w->q, out, PW_LINE_QUEUE_WAKE_LINES, 20000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	w->waited_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	pw_line_queue_release(w->q, w->got);
	return NULL;
}

static void start_waiter(pthread_t *thread, struct waiter *w)
{
	const struct timespec settle = { 0, 100 * 1000 * 1000 };

	assert_int_equal(pthread_create(thread, NULL, wait_for_lines, w), 0);
	nanosleep(&settle, NULL); /* let it reach the wait */
}

/* The timeout is 20 s: a writer that was not woken would wait all of it,
 * so "well under 10 s" tells a wake-up from a timeout on any machine. */
static void test_writer_woken_by_flush(void **state)
{
	struct pw_line_queue q;
	struct waiter w = { .q = &q };
	pthread_t thread;

	(void)state;
	assert_int_equal(pw_line_queue_init(&q, 1024, 1 << 20), 0);
	start_waiter(&thread, &w);
	push_text(&q, "one line, less than a batch", 0);
	pw_line_queue_flush(&q);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(w.got, 1);
	assert_true(w.waited_s < 10);
	pw_line_queue_destroy(&q);
}

/* Push lines one by one into a queue of max_lines until the waiting writer
 * returns: it must be woken by the batch-th line at the latest. */
static void check_woken_by_batch(size_t max_lines, size_t batch)
{
	struct pw_line_queue q;
	struct waiter w = { .q = &q };
	pthread_t thread;
	char line[32];

	assert_int_equal(pw_line_queue_init(&q, max_lines, 1 << 20), 0);
	start_waiter(&thread, &w);
	for (size_t i = 0; i < batch; i++) {
		snprintf(line, sizeof(line), "line %zu", i);
		push_text(&q, line, 0);
	}
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_true(w.got >= 1);
	assert_true(w.waited_s < 10);
	assert_int_equal(pw_line_queue_discard(&q), batch - w.got);
	pw_line_queue_destroy(&q);
}

static void test_writer_woken_by_a_batch(void **state)
{
	(void)state;
	check_woken_by_batch(1024, PW_LINE_QUEUE_WAKE_LINES);
	/* A small queue wakes its writer at a quarter full. */
	check_woken_by_batch(16, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_come_out_in_order_as_copies),
		cmocka_unit_test(test_caps_by_lines_and_by_bytes),
		cmocka_unit_test(test_closed_queue_refuses_and_drains),
		cmocka_unit_test(test_lines_encoded_in_place_or_cancelled),
		cmocka_unit_test(test_views_live_until_released_and_blocks_are_reused),
		cmocka_unit_test(test_writer_woken_by_flush),
		cmocka_unit_test(test_writer_woken_by_a_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
