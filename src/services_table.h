/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The embedded IANA service table, generated into build/services_table.c by
 * scripts/gen-services.sh from data/iana-services.tsv. */
#ifndef PW_SERVICES_TABLE_H
#define PW_SERVICES_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* Key of a port and IP protocol number, the order of the table. */
#define PW_SERVICE_KEY(port, protocol) (((uint32_t)(port) << 8) | (uint8_t)(protocol))

extern const size_t pw_iana_service_count;
extern const uint32_t pw_iana_service_keys[];         /* ascending */
/* Where each block of 256 ports starts in the keys; [256] is the count. */
extern const uint32_t pw_iana_service_blocks[257];
extern const uint32_t pw_iana_service_name_offsets[]; /* into pw_iana_service_names */
extern const char pw_iana_service_names[];            /* NUL-separated names */

#endif /* PW_SERVICES_TABLE_H */
