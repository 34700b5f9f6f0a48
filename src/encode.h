/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Encoding step: one record into one line, as JSON (docs/events.md) or as
 * aligned text for people watching a terminal. */
#ifndef PW_ENCODE_H
#define PW_ENCODE_H

#include <stdbool.h>
#include "buf.h"
#include "record.h"

#define PW_SCHEMA_VERSION 1

/* Append one JSON object and '\n' to out. Returns 0, -ENOMEM, or -EINVAL
 * for a record that cannot be encoded (unknown type, state or bind record
 * without its event or with an event of the other type, unknown family).
 * On error nothing is appended. */
int pw_encode_json(struct pw_buf *out, const struct pw_record *rec);
/* Append one text line and '\n'; ANSI colours only when color is true.
 * Same returns as pw_encode_json. */
int pw_encode_text(struct pw_buf *out, const struct pw_record *rec, bool color);
/* Append the column header line for pw_encode_text. */
void pw_encode_text_header(struct pw_buf *out, bool color);

#endif /* PW_ENCODE_H */
