/* Unit tests for the clock module: RFC 3339 and time-of-day formatting at
 * the edges of the epoch and of uint64_t, buffer sizes, and the monotonic to
 * wall-clock conversion. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "clock.h"

#define NS 1000000000ull

static void check_rfc3339(uint64_t epoch_ns, const char *want)
{
	char out[PW_RFC3339_LEN];

	memset(out, 'X', sizeof(out));
	assert_int_equal(pw_format_rfc3339(epoch_ns, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_rfc3339_epoch(void **state)
{
	(void)state;
	check_rfc3339(0, "1970-01-01T00:00:00.000000000Z");
	check_rfc3339(1, "1970-01-01T00:00:00.000000001Z");
	check_rfc3339(NS - 1, "1970-01-01T00:00:00.999999999Z");
	check_rfc3339(NS, "1970-01-01T00:00:01.000000000Z");
	check_rfc3339(86399 * NS + 999999999, "1970-01-01T23:59:59.999999999Z");
	check_rfc3339(86400 * NS, "1970-01-02T00:00:00.000000000Z");
}

static void test_rfc3339_dates(void **state)
{
	(void)state;
	check_rfc3339(1795564948 * NS + 123456789, "2026-11-25T00:02:28.123456789Z");
	check_rfc3339(1709251199 * NS + 500000000, "2024-02-29T23:59:59.500000000Z");
	check_rfc3339(951868800 * NS, "2000-03-01T00:00:00.000000000Z");
	/* Past the 32-bit time_t limits. */
	check_rfc3339(2147483647ull * NS, "2038-01-19T03:14:07.000000000Z");
	check_rfc3339(2147483648ull * NS, "2038-01-19T03:14:08.000000000Z");
	check_rfc3339(4294967296ull * NS, "2106-02-07T06:28:16.000000000Z");
	/* The largest value the record can hold. */
	check_rfc3339(UINT64_MAX, "2554-07-21T23:34:33.709551615Z");
}

static void test_rfc3339_room(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(strlen("1970-01-01T00:00:00.000000000Z") + 1, PW_RFC3339_LEN);
	memset(out, 'X', sizeof(out));
	assert_int_equal(pw_format_rfc3339(0, out, PW_RFC3339_LEN - 1), -ENOSPC);
	assert_int_equal(pw_format_rfc3339(0, out, 0), -ENOSPC);
	assert_int_equal(pw_format_rfc3339(0, out, 1), -ENOSPC);
	/* Nothing written past what it was given. */
	assert_int_equal(out[PW_RFC3339_LEN - 1], 'X');
	assert_int_equal(pw_format_rfc3339(0, out, PW_RFC3339_LEN), 0);
	assert_int_equal(strlen(out), PW_RFC3339_LEN - 1);
	assert_int_equal(pw_format_rfc3339(0, out, sizeof(out)), 0);
	assert_string_equal(out, "1970-01-01T00:00:00.000000000Z");
}

/* Through the cache of the last second: the same text as without it, across
 * seconds, days and years, and when time goes back (a stepped wall clock). */
static void test_rfc3339_cached(void **state)
{
	static const uint64_t times[] = {
		0, 999999999ull, 1000000000ull, 1000000001ull, 999999999ull,
		1795000000123456789ull, 1795000000999999999ull, 1795000001000000000ull,
		1795000000500000000ull, /* back within the second before */
		1798761599999999999ull, 1798761600000000000ull, /* 2026-12-31 -> 2027-01-01 */
		1798761600000000001ull, 1ull, 18446744073709551615ull,
	};
	struct pw_rfc3339_cache cache = { 0 };
	char cached[PW_RFC3339_LEN], plain[PW_RFC3339_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		assert_int_equal(pw_format_rfc3339(times[i], plain, sizeof(plain)), 0);
		assert_int_equal(pw_format_rfc3339_cached(&cache, times[i], cached, sizeof(cached)), 0);
		assert_string_equal(cached, plain);
	}
	assert_string_equal(cached, "2554-07-21T23:34:33.709551615Z");
	assert_int_equal(pw_format_rfc3339_cached(&cache, 0, cached, PW_RFC3339_LEN - 1), -ENOSPC);
}

/* The time of day is local time: pin the zone with POSIX TZ strings, which
 * need no zone database. */
static void set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

static int restore_tz(void **state)
{
	(void)state;
	unsetenv("TZ");
	tzset();
	return 0;
}

static void test_clock_utc(void **state)
{
	char out[PW_CLOCK_LEN];

	(void)state;
	set_tz("UTC0");
	assert_int_equal(pw_format_clock(0, out, sizeof(out)), 0);
	assert_string_equal(out, "00:00:00.000");
	/* Milliseconds are cut, not rounded: .9999 stays in its second. */
	assert_int_equal(pw_format_clock(NS - 1, out, sizeof(out)), 0);
	assert_string_equal(out, "00:00:00.999");
	assert_int_equal(pw_format_clock(1795564948 * NS + 123456789, out, sizeof(out)), 0);
	assert_string_equal(out, "00:02:28.123");
	assert_int_equal(pw_format_clock(86399 * NS + 1500000, out, sizeof(out)), 0);
	assert_string_equal(out, "23:59:59.001");
}

static void test_clock_local_zone(void **state)
{
	char out[PW_CLOCK_LEN];

	(void)state;
	set_tz("PWT-2"); /* two hours east of UTC */
	assert_int_equal(pw_format_clock(0, out, sizeof(out)), 0);
	assert_string_equal(out, "02:00:00.000");
	set_tz("PWT+5");
	assert_int_equal(pw_format_clock(0, out, sizeof(out)), 0);
	assert_string_equal(out, "19:00:00.000");
}

static void test_clock_room(void **state)
{
	char out[PW_CLOCK_LEN];

	(void)state;
	set_tz("UTC0");
	assert_int_equal(strlen("HH:MM:SS.mmm") + 1, PW_CLOCK_LEN);
	assert_int_equal(pw_format_clock(0, out, PW_CLOCK_LEN - 1), -ENOSPC);
	assert_int_equal(pw_format_clock(0, out, 0), -ENOSPC);
	assert_int_equal(pw_format_clock(UINT64_MAX, out, sizeof(out)), 0);
	assert_string_equal(out, "23:34:33.709");
}

static void test_wall_ns_positive_offset(void **state)
{
	struct pw_clock c = { .offset_ns = 1000 };

	(void)state;
	assert_int_equal(pw_clock_wall_ns(&c, 0), 1000);
	assert_int_equal(pw_clock_wall_ns(&c, 5), 1005);
	c.offset_ns = 0;
	assert_int_equal(pw_clock_wall_ns(&c, 77), 77);
	c.offset_ns = INT64_MAX;
	assert_int_equal(pw_clock_wall_ns(&c, 1), (uint64_t)INT64_MAX + 1);
}

static void test_wall_ns_before_epoch(void **state)
{
	struct pw_clock c = { .offset_ns = -100 };

	(void)state;
	/* A monotonic time that maps before 1970 comes out as 0, never wrapped. */
	assert_int_equal(pw_clock_wall_ns(&c, 0), 0);
	assert_int_equal(pw_clock_wall_ns(&c, 99), 0);
	assert_int_equal(pw_clock_wall_ns(&c, 100), 0);
	assert_int_equal(pw_clock_wall_ns(&c, 101), 1);
	assert_int_equal(pw_clock_wall_ns(&c, UINT64_MAX), UINT64_MAX - 100);
	/* The most negative offset must not overflow on negation. */
	c.offset_ns = INT64_MIN;
	assert_int_equal(pw_clock_wall_ns(&c, (uint64_t)1 << 63), 0);
	assert_int_equal(pw_clock_wall_ns(&c, ((uint64_t)1 << 63) + 5), 5);
	assert_int_equal(pw_clock_wall_ns(&c, 12345), 0);
}

static uint64_t now_ns(clockid_t id)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(id, &ts), 0);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* pw_monotonic_ns is CLOCK_MONOTONIC in ns (pw_monotonic_ms the same in
 * ms): between two direct reads of that clock, and never going back. */
static void test_monotonic_ns_is_clock_monotonic(void **state)
{
	struct timespec before, after;
	uint64_t lo, hi, a, b, ms;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &before);
	a = pw_monotonic_ns();
	ms = pw_monotonic_ms();
	b = pw_monotonic_ns();
	clock_gettime(CLOCK_MONOTONIC, &after);
	lo = (uint64_t)before.tv_sec * 1000000000ull + (uint64_t)before.tv_nsec;
	hi = (uint64_t)after.tv_sec * 1000000000ull + (uint64_t)after.tv_nsec;
	assert_true(lo <= a && a <= b && b <= hi);
	assert_true(a / 1000000u <= ms && ms <= b / 1000000u);
}

static void test_sync_matches_realtime(void **state)
{
	struct pw_clock c = { .offset_ns = 0 };
	uint64_t before, mono, after, wall;

	(void)state;
	assert_int_equal(pw_clock_sync(&c), 0);
	before = now_ns(CLOCK_REALTIME);
	mono = now_ns(CLOCK_MONOTONIC);
	after = now_ns(CLOCK_REALTIME);
	wall = pw_clock_wall_ns(&c, mono);
	/* The converted time lies in the bracket of the two wall-clock reads;
	 * the slack only absorbs the estimate's own error (a clock step between
	 * sync and the reads is the one thing that could exceed it). */
	assert_true(wall + NS >= before);
	assert_true(wall <= after + NS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_epoch),
		cmocka_unit_test(test_rfc3339_dates),
		cmocka_unit_test(test_rfc3339_room),
		cmocka_unit_test(test_rfc3339_cached),
		cmocka_unit_test_teardown(test_clock_utc, restore_tz),
		cmocka_unit_test_teardown(test_clock_local_zone, restore_tz),
		cmocka_unit_test_teardown(test_clock_room, restore_tz),
		cmocka_unit_test(test_wall_ns_positive_offset),
		cmocka_unit_test(test_wall_ns_before_epoch),
		cmocka_unit_test(test_monotonic_ns_is_clock_monotonic),
		cmocka_unit_test(test_sync_matches_realtime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
