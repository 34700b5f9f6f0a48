/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Encoding step: one record into one line, as JSON (docs/events.md) or as
 * aligned text for people watching a terminal. */
#ifndef PW_ENCODE_H
#define PW_ENCODE_H

#include <stdbool.h>
#include <stdint.h>
#include "addr.h"
#include "buf.h"
#include "clock.h"
#include "portwarden.h"
#include "record.h"

#define PW_SCHEMA_VERSION 1

/* Append one JSON object and '\n' to out. Returns 0, -ENOMEM, or -EINVAL
 * for a record that cannot be encoded (unknown type, state or bind record
 * without its event or with an event of the other type, unknown family).
 * On error nothing is appended. */
int pw_encode_json(struct pw_buf *out, const struct pw_record *rec);
/* What the JSON encoder may keep from one line to the next of one stream:
 * text that repeats from line to line, formatted once. Zero it before its
 * first use; the lines come out byte for byte as pw_encode_json's. One per
 * thread that encodes (an output's consumer side). Its members are the
 * encoder's own. */
#define PW_JSON_CACHE_OWNERS 8 /* by pid: a few busy processes make most events */
#define PW_JSON_CACHE_ADDRS 4
/* ,"process":{"pid":..,"tid":..,"ppid":..,"uid":..,"gid":..,"comm":"..." at
 * its longest: five 10-digit ids and 16 bytes of comm, each escaped to six
 * (203 bytes). */
#define PW_JSON_OWNER_TEXT_MAX 208

struct pw_json_cached_owner {
	uint32_t pid, tid, ppid, uid, gid;
	char comm[PW_COMM_LEN];
	uint16_t len; /* of text; 0: empty */
	char text[PW_JSON_OWNER_TEXT_MAX];
};

struct pw_json_cached_addr {
	uint16_t family; /* 0: empty */
	uint8_t addr[PW_ADDR_LEN];
	uint8_t len;
	char text[PW_ADDR_STRLEN];
};

struct pw_json_cache {
	struct pw_rfc3339_cache time;
	struct pw_json_cached_owner owners[PW_JSON_CACHE_OWNERS];
	struct pw_json_cached_addr addrs[PW_JSON_CACHE_ADDRS];
};

/* pw_encode_json through cache (NULL: none). Same returns. */
int pw_encode_json_cached(struct pw_json_cache *cache, struct pw_buf *out,
			  const struct pw_record *rec);
/* Append one text line and '\n'; ANSI colours only when color is true.
 * Same returns as pw_encode_json. */
int pw_encode_text(struct pw_buf *out, const struct pw_record *rec, bool color);
/* Append the column header line for pw_encode_text. */
void pw_encode_text_header(struct pw_buf *out, bool color);

#endif /* PW_ENCODE_H */
