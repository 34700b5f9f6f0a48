/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Names for the numbers in an event record, as the event contract spells
 * them. Pure lookups: every result is a static string, or NULL as stated. */
#ifndef PW_NAMES_H
#define PW_NAMES_H

#include <stdint.h>

/* Linux TCP state name ("ESTABLISHED", ...); "UNKNOWN" outside the table. */
const char *pw_tcp_state_name(unsigned int state);
/* "syscall", "socket", "listener", "current", "none"; NULL if unknown. */
const char *pw_attribution_name(unsigned int attribution);
/* "inbound", "outbound", "listen"; NULL for PW_DIR_NONE or unknown. */
const char *pw_direction_name(unsigned int direction);
/* "tcp", "udp", "udplite", "sctp", "icmp", "icmpv6", "raw"; else "other". */
const char *pw_transport_name(uint8_t protocol);
/* "ipv4", "ipv6"; NULL for any other family. */
const char *pw_family_name(uint16_t family);
/* Symbolic errno name ("EADDRINUSE"); NULL if unknown. errno is positive. */
const char *pw_errno_name(int err);
/* "tp_btf", "tracepoint", "fexit", "syscall"; NULL if unknown. */
const char *pw_hook_name(uint8_t hook);
/* IANA port range: "well-known", "registered" or "dynamic". */
const char *pw_port_category(uint16_t port);

#endif /* PW_NAMES_H */
