/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Address formatting shared by the JSON and text encoders. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "addr.h"

/* Dotted quad of the four bytes at a, NUL-terminated; returns the NUL.
 * By hand: inet_ntop goes through sprintf. */
static char *put_ipv4(char *p, const uint8_t a[4])
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = '.';
	}
	p[-1] = '\0';
	return p - 1;
}

/* The sixteen bytes as inet_ntop writes them (RFC 5952: lowercase hex
 * without leading zeros, the first longest run of two or more zero groups as
 * "::", the IPv4-mapped and IPv4-compatible forms with a dotted quad). Out
 * has room for INET6_ADDRSTRLEN bytes. */
static void put_ipv6(char *p, const uint8_t a[16])
{
	static const char hex[] = "0123456789abcdef";
	int best = -1, best_len = 0, run = -1, i;
	unsigned w[8];

	for (i = 0; i < 8; i++) {
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		if (w[i] == 0) {
			if (run < 0)
				run = i;
			if (i - run + 1 > best_len) {
				best = run;
				best_len = i - run + 1;
			}
		} else {
			run = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			put_ipv4(p, a + 12);
			return;
		}
		if (w[i] >= 0x1000)
			*p++ = hex[w[i] >> 12];
		if (w[i] >= 0x100)
			*p++ = hex[(w[i] >> 8) & 0xf];
		if (w[i] >= 0x10)
			*p++ = hex[(w[i] >> 4) & 0xf];
		*p++ = hex[w[i] & 0xf];
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	*p = '\0';
}

int pw_addr_format(uint16_t family, const uint8_t addr[16], char *out, size_t len)
{
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (family == AF_INET && len >= INET_ADDRSTRLEN) {
		put_ipv4(out, addr);
		return 0;
	}
	if (family == AF_INET6 && len >= INET6_ADDRSTRLEN) {
		put_ipv6(out, addr);
		return 0;
	}
	if (len > (size_t)(socklen_t)-1)
		len = (socklen_t)-1;
	if (!inet_ntop(family, addr, out, (socklen_t)len))
		return -errno;
	return 0;
}

bool pw_addr_is_unspecified(uint16_t family, const uint8_t addr[16])
{
	static const uint8_t zero[16];

	switch (family) {
	case AF_INET:
		return !memcmp(addr, zero, 4);
	case AF_INET6:
		return !memcmp(addr, zero, 16);
	default:
		return true;
	}
}

/* 127.0.0.0/8, ::1, or an IPv4-mapped loopback (::ffff:127.x.y.z). */
static bool addr_is_loopback(uint16_t family, const uint8_t addr[16])
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (family == AF_INET)
		return addr[0] == 127;
	if (family != AF_INET6)
		return false;
	if (!memcmp(addr, v6_loopback, 16))
		return true;
	return !memcmp(addr, v4_mapped, 12) && addr[12] == 127;
}

const char *pw_addr_scope(uint16_t family, const uint8_t addr[16])
{
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	if (pw_addr_is_unspecified(family, addr))
		return "any";
	if (addr_is_loopback(family, addr))
		return "loopback";
	return "address";
}
