/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The shared decimal writers against snprintf at every digit-count edge,
 * and the signed one at both ends of int64_t. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "decimal.h"

static void check(uint64_t v)
{
	char want[32], got[32], *end;

	snprintf(want, sizeof(want), "%" PRIu64, v);
	memset(got, 'x', sizeof(got));
	end = pw_put_decimal(got, v);
	*end = '\0';
	assert_string_equal(got, want);
	assert_int_equal(pw_decimal_len(v), (int)strlen(want));
}

static void test_every_digit_count_edge(void **state)
{
	uint64_t p = 1;

	(void)state;
	check(0);
	check(UINT64_MAX); /* the largest of 20 digits; p - 1 below is each smaller one */
	for (int i = 0; i < 20; i++, p *= 10) {
		check(p);
		check(p - 1);
		check(p + 1);
	}
}

static void check_signed(int64_t v)
{
	char want[32], got[32], *end;

	snprintf(want, sizeof(want), "%" PRId64, v);
	memset(got, 'x', sizeof(got));
	end = pw_put_decimal_signed(got, v);
	*end = '\0';
	assert_string_equal(got, want);
}

static void test_signed_both_ends(void **state)
{
	(void)state;
	check_signed(0);
	check_signed(-1);
	check_signed(98);
	check_signed(-98);
	check_signed(INT64_MAX);
	check_signed(INT64_MIN); /* its negation does not fit an int64_t */
}

static void test_fixed_width_pads_with_zeros(void **state)
{
	char out[16];

	(void)state;
	memset(out, 0, sizeof(out));
	pw_put_decimal_width(out, 7, 2);
	assert_string_equal(out, "07");
	pw_put_decimal_width(out, 2026, 4);
	assert_string_equal(out, "2026");
	pw_put_decimal_width(out, 5, 9);
	assert_string_equal(out, "000000005");
	pw_put_decimal_width(out, 999999999, 9);
	assert_string_equal(out, "999999999");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_digit_count_edge),
		cmocka_unit_test(test_fixed_width_pads_with_zeros),
		cmocka_unit_test(test_signed_both_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
