/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Port -> service name: IANA's registry embedded at build time, plus the
 * names an /etc/services file gives for ports IANA has no name for. */
#ifndef PW_SERVICES_H
#define PW_SERVICES_H

#include <stdint.h>

struct pw_services;

/* path: an /etc/services-format file, or NULL for the embedded table alone.
 * A missing file is not an error (the embedded table is enough); any other
 * failure to read or an allocation failure is. Returns 0 or a negative errno. */
int pw_services_new(struct pw_services **out, const char *path);
void pw_services_free(struct pw_services *s);

/* Service name for a port and IP protocol (IPPROTO_TCP, IPPROTO_UDP); NULL
 * when neither table names it. The string lives as long as s. */
const char *pw_service_name(const struct pw_services *s, uint16_t port, uint8_t protocol);

/* The embedded IANA table alone. */
const char *pw_iana_service_name(uint16_t port, uint8_t protocol);

#endif /* PW_SERVICES_H */
