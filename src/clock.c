/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Clock offset between the kernel's event timestamps and the wall clock. */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include "clock.h"

#define NSEC_PER_SEC 1000000000ll
/* A few tries are enough to get one pair not split by preemption. */
#define PW_CLOCK_TRIES 5

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
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

/* Write v as exactly width decimal digits, zero-padded. */
static void put_digits(char *out, uint32_t v, int width)
{
	while (width-- > 0) {
		out[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

int pw_format_rfc3339(uint64_t epoch_ns, char *out, size_t len)
{
	struct tm tm;
	uint32_t frac;
	int err;

	if (len < PW_RFC3339_LEN)
		return -ENOSPC;
	err = split(epoch_ns, 1, &tm, &frac);
	if (err)
		return err;
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -EOVERFLOW;
	/* Written digit by digit: once per event, snprintf costs more than
	 * the rest of the timestamp. */
	put_digits(out, (uint32_t)(tm.tm_year + 1900), 4);
	out[4] = '-';
	put_digits(out + 5, (uint32_t)tm.tm_mon + 1, 2);
	out[7] = '-';
	put_digits(out + 8, (uint32_t)tm.tm_mday, 2);
	out[10] = 'T';
	put_digits(out + 11, (uint32_t)tm.tm_hour, 2);
	out[13] = ':';
	put_digits(out + 14, (uint32_t)tm.tm_min, 2);
	out[16] = ':';
	put_digits(out + 17, (uint32_t)tm.tm_sec, 2);
	out[19] = '.';
	put_digits(out + 20, frac, 9);
	out[29] = 'Z';
	out[30] = '\0';
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
