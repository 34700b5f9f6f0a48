/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Turning kernel timestamps (CLOCK_MONOTONIC ns, from bpf_ktime_get_ns) into
 * wall-clock time, and formatting wall-clock time for the views. */
#ifndef PW_CLOCK_H
#define PW_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "2026-11-25T00:02:28.123456789Z" plus NUL. */
#define PW_RFC3339_LEN 31
/* "HH:MM:SS.mmm" plus NUL. */
#define PW_CLOCK_LEN 13

struct pw_clock {
	int64_t offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
};

/* Measure the offset now. The wall clock can be stepped (NTP, an admin)
 * while the monotonic clock cannot, so call again from time to time to
 * follow. Returns 0 or a negative errno. */
int pw_clock_sync(struct pw_clock *c);
/* Wall-clock ns since the Unix epoch for a CLOCK_MONOTONIC timestamp;
 * 0 if that would fall before the epoch. */
uint64_t pw_clock_wall_ns(const struct pw_clock *c, uint64_t mono_ns);
/* CLOCK_MONOTONIC now, in ns: for intervals and deadlines, which a step of
 * the wall clock must not stretch or cut short. */
uint64_t pw_monotonic_ns(void);
/* The same in ms: for the output writers' timeouts and deadlines. */
uint64_t pw_monotonic_ms(void);
/* RFC 3339 in UTC with 9 fraction digits. Returns 0, -ENOSPC when len is
 * below PW_RFC3339_LEN, or -EOVERFLOW. */
int pw_format_rfc3339(uint64_t epoch_ns, char *out, size_t len);
/* The same through a cache of the last second formatted: events come many
 * to a second, and only the fraction changes between them. A zeroed cache
 * is empty; the text is byte for byte pw_format_rfc3339's. */
struct pw_rfc3339_cache {
	uint64_t second; /* since the epoch, of text */
	bool valid;
	char text[PW_RFC3339_LEN];
};
int pw_format_rfc3339_cached(struct pw_rfc3339_cache *cache, uint64_t epoch_ns, char *out,
			     size_t len);
/* Local time of day "HH:MM:SS.mmm" for the text view. Same returns. */
int pw_format_clock(uint64_t epoch_ns, char *out, size_t len);

#endif /* PW_CLOCK_H */
