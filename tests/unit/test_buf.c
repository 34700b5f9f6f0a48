/* Unit tests for the growable buffer: contents, NUL termination, growth,
 * printf in one and two passes, and the sticky failure flag. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "buf.h"

static void test_init_is_empty(void **state)
{
	struct pw_buf b;

	(void)state;
	memset(&b, 0x5a, sizeof(b));
	pw_buf_init(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_false(b.failed);
	pw_buf_free(&b); /* freeing an unused buffer is fine */
	assert_null(b.data);
}

static void test_append_kinds(void **state)
{
	struct pw_buf b;

	(void)state;
	pw_buf_init(&b);
	assert_int_equal(pw_buf_puts(&b, "ab"), 0);
	assert_int_equal(pw_buf_putc(&b, 'c'), 0);
	assert_int_equal(pw_buf_append(&b, "d\0e", 3), 0);
	assert_int_equal(pw_buf_printf(&b, "-%d-%s", 42, "x"), 0);
	assert_int_equal(b.len, 11);
	assert_memory_equal(b.data, "abcd\0e-42-x", 12);
	assert_int_equal(b.data[b.len], '\0');
	assert_true(b.cap > b.len);
	pw_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void test_empty_appends_terminate(void **state)
{
	struct pw_buf b;

	(void)state;
	pw_buf_init(&b);
	assert_int_equal(pw_buf_puts(&b, ""), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(pw_buf_append(&b, NULL, 0), 0);
	assert_int_equal(b.len, 0);
	pw_buf_free(&b);

	pw_buf_init(&b);
	assert_int_equal(pw_buf_printf(&b, "%s", ""), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	pw_buf_free(&b);
}

static void test_growth_keeps_content(void **state)
{
	struct pw_buf b;
	char chunk[37];
	size_t i, total = 0;

	(void)state;
	pw_buf_init(&b);
	for (i = 0; i < 5000; i++) {
		memset(chunk, 'a' + (int)(i % 26), sizeof(chunk));
		assert_int_equal(pw_buf_append(&b, chunk, sizeof(chunk)), 0);
		total += sizeof(chunk);
		assert_int_equal(b.len, total);
		assert_true(b.cap > b.len);
		assert_int_equal(b.data[b.len], '\0');
	}
	for (i = 0; i < total; i++)
		assert_int_equal(b.data[i], 'a' + (int)((i / sizeof(chunk)) % 26));
	pw_buf_free(&b);
}

static void test_printf_larger_than_room(void **state)
{
	struct pw_buf b;
	char *big;
	size_t n = 5000, cap;

	(void)state;
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'z', n);
	big[n] = '\0';
	pw_buf_init(&b);
	assert_int_equal(pw_buf_puts(&b, "head:"), 0);
	/* Far more than the first allocation: the second pass must write it whole. */
	assert_int_equal(pw_buf_printf(&b, "%s:%zu", big, n), 0);
	assert_int_equal(b.len, 5 + n + 5);
	assert_memory_equal(b.data, "head:", 5);
	assert_memory_equal(b.data + 5, big, n);
	assert_string_equal(b.data + 5 + n, ":5000");
	free(big);
	/* Exactly the room there is (NUL included), then one byte more. */
	cap = b.cap;
	for (n = cap - 1; n <= cap; n++) {
		pw_buf_reset(&b);
		big = malloc(n + 1);
		assert_non_null(big);
		memset(big, 'y', n);
		big[n] = '\0';
		assert_int_equal(pw_buf_printf(&b, "%s", big), 0);
		assert_int_equal(b.len, n);
		assert_string_equal(b.data, big);
		free(big);
	}
	pw_buf_free(&b);
}

static void test_reset_keeps_memory(void **state)
{
	struct pw_buf b;
	char *data;
	size_t cap;

	(void)state;
	pw_buf_init(&b);
	assert_int_equal(pw_buf_puts(&b, "line one\n"), 0);
	data = b.data;
	cap = b.cap;
	pw_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.data, "");
	assert_int_equal(pw_buf_puts(&b, "two"), 0);
	assert_string_equal(b.data, "two");
	pw_buf_free(&b);

	pw_buf_init(&b);
	pw_buf_reset(&b); /* on a buffer that never allocated */
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_impossible_size_fails_and_sticks(void **state)
{
	struct pw_buf b;

	(void)state;
	pw_buf_init(&b);
	assert_int_equal(pw_buf_puts(&b, "kept"), 0);
	/* Never reads p: the size check refuses before any copy. */
	assert_int_equal(pw_buf_append(&b, "x", SIZE_MAX), -ENOMEM);
	assert_true(b.failed);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "kept");
	assert_int_equal(pw_buf_append(&b, "x", SIZE_MAX - 4), -ENOMEM);
	/* Sticky: even small appends now fail and change nothing. */
	assert_int_equal(pw_buf_putc(&b, 'a'), -ENOMEM);
	assert_int_equal(pw_buf_puts(&b, "abc"), -ENOMEM);
	assert_int_equal(pw_buf_printf(&b, "%d", 1), -ENOMEM);
	assert_int_equal(pw_buf_append(&b, "", 0), -ENOMEM);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "kept");
	/* Reset clears it for the next batch. */
	pw_buf_reset(&b);
	assert_false(b.failed);
	assert_int_equal(pw_buf_puts(&b, "new"), 0);
	assert_string_equal(b.data, "new");
	pw_buf_free(&b);
	assert_false(b.failed);
}

/* pw_buf_reserve: room at the end, in place, for a caller that writes a
 * whole line and then sets len; an impossible size fails and sticks. */
static void test_reserve_gives_room_at_the_end(void **state)
{
	struct pw_buf b;
	char *room;

	(void)state;
	pw_buf_init(&b);
	assert_int_equal(pw_buf_puts(&b, "ab"), 0);
	room = pw_buf_reserve(&b, 5000);
	assert_non_null(room);
	assert_ptr_equal(room, b.data + 2);
	assert_true(b.cap - b.len > 5000);
	memcpy(room, "cdefg", 5);
	b.len += 5;
	b.data[b.len] = '\0';
	assert_string_equal(b.data, "abcdefg");
	assert_null(pw_buf_reserve(&b, SIZE_MAX));
	assert_true(b.failed);
	assert_null(pw_buf_reserve(&b, 1));
	assert_string_equal(b.data, "abcdefg");
	pw_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_empty),
		cmocka_unit_test(test_append_kinds),
		cmocka_unit_test(test_empty_appends_terminate),
		cmocka_unit_test(test_growth_keeps_content),
		cmocka_unit_test(test_printf_larger_than_room),
		cmocka_unit_test(test_reset_keeps_memory),
		cmocka_unit_test(test_impossible_size_fails_and_sticks),
		cmocka_unit_test(test_reserve_gives_room_at_the_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
