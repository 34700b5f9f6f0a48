/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Printing the addresses of an event record: one place for every view. */
#ifndef PW_ADDR_H
#define PW_ADDR_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Enough for any address pw_addr_format writes, NUL included. */
#define PW_ADDR_STRLEN INET6_ADDRSTRLEN

/* addr is in network order, 16 bytes; AF_INET uses the first 4. IPv4-mapped
 * IPv6 addresses print as "::ffff:1.2.3.4". Returns 0, -EAFNOSUPPORT for
 * any other family, or -ENOSPC when out is too small. */
int pw_addr_format(uint16_t family, const uint8_t addr[16], char *out, size_t len);
/* 0.0.0.0 or ::; also true for a family that has no address we know. */
bool pw_addr_is_unspecified(uint16_t family, const uint8_t addr[16]);

/* Who can reach a socket bound to addr: "loopback" (this host only), "any"
 * (every interface: 0.0.0.0 or ::) or "address" (one specific address);
 * NULL for a family other than AF_INET and AF_INET6. */
const char *pw_addr_scope(uint16_t family, const uint8_t addr[16]);

#endif /* PW_ADDR_H */
