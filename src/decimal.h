/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Decimal numbers without printf, two digits per division: numbers are half
 * the values of an event line and the timestamp is written once per event,
 * so the JSON encoders and the clock share these. */
#ifndef PW_DECIMAL_H
#define PW_DECIMAL_H

#include <stdint.h>
#include <string.h>

/* "00", "01", ... "99" (and the NUL of the literal). */
extern const char pw_decimal_pairs[201];

/* How many decimal digits v has (1 for 0): log10 from the bit length
 * (1233/4096 is just above log10(2)), corrected by one comparison. */
static inline int pw_decimal_len(uint64_t v)
{
	static const uint64_t powers[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
		10000000000000ull, 100000000000000ull, 1000000000000000ull,
		10000000000000000ull, 100000000000000000ull, 1000000000000000000ull,
		10000000000000000000ull,
	};
	int log = ((64 - __builtin_clzll(v | 1)) * 1233) >> 12;

	return v ? log + (v >= powers[log]) : 1;
}

/* v as exactly width digits, zero-padded, written at out; no NUL. Fixed
 * fields (the timestamp's) fit 32 bits, whose divisions are the cheaper. */
static inline void pw_put_decimal_width(char *out, uint32_t v, int width)
{
	while (width >= 2) {
		width -= 2;
		memcpy(out + width, pw_decimal_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (width)
		out[0] = (char)('0' + v % 10);
}

/* v in decimal at p, no NUL; returns the end (at most 20 bytes). The digits
 * are counted first and written backwards in place: no copy. */
static inline char *pw_put_decimal(char *p, uint64_t v)
{
	char *end = p + pw_decimal_len(v);

	p = end;
	while (v >= 100) {
		p -= 2;
		memcpy(p, pw_decimal_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pw_decimal_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return end;
}

/* v in decimal at p, a '-' first when negative; returns the end (at most 21
 * bytes). Negated as unsigned: -INT64_MIN does not fit an int64_t. */
static inline char *pw_put_decimal_signed(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return pw_put_decimal(p, 0 - (uint64_t)v);
	}
	return pw_put_decimal(p, (uint64_t)v);
}

#endif /* PW_DECIMAL_H */
