/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Decoding step: a raw ring buffer record into a checked struct pw_event. */
#ifndef PW_DECODE_H
#define PW_DECODE_H

#include <stddef.h>
#include "portwarden.h"

/* Copy and check one ring record. Returns 0, or -EINVAL when the record is
 * not a well-formed pw_event (wrong size, unknown type, family or state);
 * out is then unspecified. */
int pw_decode(const void *data, size_t size, struct pw_event *out);

#endif /* PW_DECODE_H */
