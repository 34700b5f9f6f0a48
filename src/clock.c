/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Clock offset between the kernel's event timestamps and the wall clock. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "clock.h"
#include "decimal.h"

#define NSEC_PER_SEC 1000000000ll
/* A few tries are enough to get one pair not split by preemption. */
#define PW_CLOCK_TRIES 5

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

uint64_t pw_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts_ns(&ts);
}

uint64_t pw_monotonic_ms(void)
{
	return pw_monotonic_ns() / 1000000u;
}

int pw_clock_sync(struct pw_clock *c)
{
	struct timespec r1, m, r2;
	int64_t best_gap = INT64_MAX, gap;
	int i;

	/* Bracket the monotonic read between two realtime reads and keep the
	 * tightest bracket: its midpoint is the best estimate of the realtime
	 * matching that monotonic instant. */
	for (i = 0; i < PW_CLOCK_TRIES; i++) {
		if (clock_gettime(CLOCK_REALTIME, &r1) || clock_gettime(CLOCK_MONOTONIC, &m) ||
		    clock_gettime(CLOCK_REALTIME, &r2))
			return -errno;
		gap = ts_ns(&r2) - ts_ns(&r1);
		if (gap < 0)
			continue; /* the wall clock was stepped in between */
		if (gap < best_gap) {
			best_gap = gap;
			c->offset_ns = ts_ns(&r1) + gap / 2 - ts_ns(&m);
		}
	}
	return best_gap == INT64_MAX ? -EAGAIN : 0;
}

uint64_t pw_clock_wall_ns(const struct pw_clock *c, uint64_t mono_ns)
{
	if (c->offset_ns < 0) {
		uint64_t back = (uint64_t)-(c->offset_ns + 1) + 1;

		return mono_ns > back ? mono_ns - back : 0;
	}
	return mono_ns + (uint64_t)c->offset_ns;
}

/* Split epoch ns into broken-down time (UTC or local) and the fraction. */
static int split(uint64_t epoch_ns, int utc, struct tm *tm, uint32_t *frac_ns)
{
	time_t secs = (time_t)(epoch_ns / NSEC_PER_SEC);

	*frac_ns = (uint32_t)(epoch_ns % NSEC_PER_SEC);
	if (utc ? !gmtime_r(&secs, tm) : !localtime_r(&secs, tm))
		return -EOVERFLOW;
	return 0;
}

/* The proleptic Gregorian date of a day count since 1970-01-01. Counted
 * from 0000-03-01 so that the leap day ends each year: then the calendar is
 * 400-year eras of 146,097 days, a year of the era follows from its day by
 * the leap rules, and months from March run in a 153-day pattern of five. */
static void civil_date(uint64_t days, uint32_t *year, uint32_t *month, uint32_t *mday)
{
	uint64_t z = days + 719468; /* days from 0000-03-01 to 1970-01-01 */
	uint64_t era = z / 146097, doe = z % 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153; /* 0 is March */

	*mday = (uint32_t)(doy - (153 * mp + 2) / 5 + 1);
	*month = (uint32_t)(mp < 10 ? mp + 3 : mp - 9);
	*year = (uint32_t)(yoe + era * 400 + (*month <= 2));
}

/* "YYYY-MM-DDTHH:MM:SS." is the first 20 characters: what one second
 * shares. The fraction, 'Z' and the NUL follow. */
#define RFC3339_SECOND_LEN 20

static void put_rfc3339_fraction(char *out, uint64_t epoch_ns)
{
	pw_put_decimal_width(out + RFC3339_SECOND_LEN, (uint32_t)(epoch_ns % NSEC_PER_SEC), 9);
	out[29] = 'Z';
	out[30] = '\0';
}

int pw_format_rfc3339(uint64_t epoch_ns, char *out, size_t len)
{
	uint64_t secs = epoch_ns / NSEC_PER_SEC;
	uint32_t sod = (uint32_t)(secs % 86400);
	uint32_t year, month, mday;

	if (len < PW_RFC3339_LEN)
		return -ENOSPC;
	/* UTC by arithmetic: once per event, gmtime_r costs more than the rest
	 * of the timestamp. A uint64_t of ns ends in 2554, so the year always
	 * has four digits. */
	civil_date(secs / 86400, &year, &month, &mday);
	pw_put_decimal_width(out, year, 4);
	out[4] = '-';
	pw_put_decimal_width(out + 5, month, 2);
	out[7] = '-';
	pw_put_decimal_width(out + 8, mday, 2);
	out[10] = 'T';
	pw_put_decimal_width(out + 11, sod / 3600, 2);
	out[13] = ':';
	pw_put_decimal_width(out + 14, sod / 60 % 60, 2);
	out[16] = ':';
	pw_put_decimal_width(out + 17, sod % 60, 2);
	out[19] = '.';
	put_rfc3339_fraction(out, epoch_ns);
	return 0;
}

int pw_format_rfc3339_cached(struct pw_rfc3339_cache *cache, uint64_t epoch_ns, char *out,
			     size_t len)
{
	uint64_t second = epoch_ns / NSEC_PER_SEC;
	int err;

	if (len < PW_RFC3339_LEN)
		return -ENOSPC;
	if (!cache->valid || cache->second != second) {
		err = pw_format_rfc3339(epoch_ns, cache->text, sizeof(cache->text));
		cache->valid = !err;
		cache->second = second;
		if (err)
			return err;
	}
	memcpy(out, cache->text, RFC3339_SECOND_LEN);
	put_rfc3339_fraction(out, epoch_ns);
	return 0;
}

int pw_format_clock(uint64_t epoch_ns, char *out, size_t len)
{
	struct tm tm;
	uint32_t frac;
	int err, n;

	if (len < PW_CLOCK_LEN)
		return -ENOSPC;
	err = split(epoch_ns, 0, &tm, &frac);
	if (err)
		return err;
	n = snprintf(out, len, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (unsigned int)(frac / 1000000));
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}
