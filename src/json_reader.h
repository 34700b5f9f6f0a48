/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Strict JSON reader (RFC 8259) for one line of recorded events: the whole
 * value is parsed into a flat array of nodes that the reader keeps and
 * reuses from line to line, so a steady stream of lines allocates nothing. */
#ifndef PW_JSON_READER_H
#define PW_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_JSON_READER_DEFAULT_DEPTH 32

enum pw_jval_type {
	PW_JVAL_NULL,
	PW_JVAL_BOOL,
	PW_JVAL_NUMBER,
	PW_JVAL_STRING,
	PW_JVAL_ARRAY,
	PW_JVAL_OBJECT,
};

/* One parsed value. Links are indices into the reader's node array: the
 * root is node 0, so 0 also means "none" for next and child. Strings live,
 * decoded and NUL-terminated, in the reader's string store. */
struct pw_jval {
	enum pw_jval_type type;
	uint32_t next;    /* next element or member of the parent, 0 if last */
	uint32_t child;   /* first element or member, 0 if empty */
	uint32_t count;   /* elements or members */
	uint32_t key;     /* member name (offset in the store), when the parent is an object */
	uint32_t key_len;
	uint32_t str;     /* string value (offset in the store) */
	uint32_t str_len; /* in bytes; a \u0000 escape makes a NUL inside */
	bool is_member;   /* key and key_len name it */
	bool boolean;
	bool is_int;      /* an integer without fraction or exponent that fits in int64 */
	bool is_uint;     /* an integer without fraction or exponent that fits in uint64 */
	int64_t i;
	uint64_t u;
	double number;
};

struct pw_json_reader {
	struct pw_jval *nodes;
	size_t node_count, node_cap;
	char *store;
	size_t store_len, store_cap;
	unsigned int max_depth;
	/* Set by a failed pw_json_read: 1-based byte column and what was wrong. */
	size_t error_column;
	char error[96];
	/* Parse state, valid only inside pw_json_read. */
	const char *text;
	size_t len, pos;
};

/* max_depth: deepest nesting of arrays and objects accepted (0 = default). */
void pw_json_reader_init(struct pw_json_reader *r, unsigned int max_depth);
void pw_json_reader_free(struct pw_json_reader *r);

/* Parse exactly one JSON value from len bytes of text (need not be
 * NUL-terminated), surrounded by nothing but JSON whitespace. Strict: no
 * trailing commas, no comments, no leading zeros, no lone surrogates, no
 * raw control characters or invalid UTF-8 in strings, no duplicate member
 * names (which different consumers would resolve differently). Returns 0,
 * -EINVAL with error and error_column set, or -ENOMEM. Nodes from an
 * earlier call are invalid afterwards. */
int pw_json_read(struct pw_json_reader *r, const char *text, size_t len);

/* The parsed value; NULL unless the last pw_json_read succeeded. */
const struct pw_jval *pw_json_root(const struct pw_json_reader *r);

/* Member key of obj, NULL if obj is not an object or has no such member. */
const struct pw_jval *pw_jval_member(const struct pw_json_reader *r, const struct pw_jval *obj,
				     const char *key);
/* Dotted path through nested objects: "process.comm" is member "comm" of
 * member "process". NULL when any step is missing. */
const struct pw_jval *pw_jval_path(const struct pw_json_reader *r, const struct pw_jval *obj,
				   const char *path);
/* Iterate the elements of an array or members of an object. */
const struct pw_jval *pw_jval_first(const struct pw_json_reader *r, const struct pw_jval *v);
const struct pw_jval *pw_jval_next(const struct pw_json_reader *r, const struct pw_jval *v);

/* The decoded string (NUL-terminated) and its length; NULL unless v is a
 * string. */
const char *pw_jval_string(const struct pw_json_reader *r, const struct pw_jval *v, size_t *len);
/* Name of a member of an object; NULL for a value that is not a member. */
const char *pw_jval_key(const struct pw_json_reader *r, const struct pw_jval *v, size_t *len);

#endif /* PW_JSON_READER_H */
