/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Address formatting shared by the JSON and text encoders. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "addr.h"

int pw_addr_format(uint16_t family, const uint8_t addr[16], char *out, size_t len)
{
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (family == AF_INET && len >= 16) {
		/* Dotted quad by hand: inet_ntop goes through sprintf. */
		char *p = out;
		int i;

		for (i = 0; i < 4; i++) {
			unsigned v = addr[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
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
