/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Small streaming JSON writer over a pw_buf: one call per key or value, the
 * writer places the commas. Output is always one line of valid JSON. */
#ifndef PW_JSON_WRITER_H
#define PW_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define PW_JSON_MAX_DEPTH 16

struct pw_json {
	struct pw_buf *buf;
	unsigned int depth;
	/* first[d]: nothing written yet in the container open at depth d, so
	 * the next member needs no comma. Depth 0 is the top level. */
	bool first[PW_JSON_MAX_DEPTH + 1];
	bool array[PW_JSON_MAX_DEPTH + 1]; /* container at depth d is an array */
	bool after_key; /* a key was written: its value follows without comma */
	bool misuse;    /* nesting too deep, unbalanced end, value without key */
};

void pw_json_init(struct pw_json *j, struct pw_buf *buf);
/* 0 when the calls so far wrote exactly one complete JSON value, -ENOMEM
 * when the buffer ran out of memory, -EINVAL when they did not describe one
 * well-formed value (too deep, unbalanced, a value without its key, ...).
 * After a misuse the writer writes nothing more. */
int pw_json_status(const struct pw_json *j);

void pw_json_object_begin(struct pw_json *j);
void pw_json_object_end(struct pw_json *j);
void pw_json_array_begin(struct pw_json *j);
void pw_json_array_end(struct pw_json *j);
void pw_json_key(struct pw_json *j, const char *key);

/* s NULL writes null. */
void pw_json_string(struct pw_json *j, const char *s);
/* At most n bytes of s, stopping early at a NUL; s NULL writes null. */
void pw_json_string_n(struct pw_json *j, const char *s, size_t n);
void pw_json_uint(struct pw_json *j, uint64_t v);
void pw_json_int(struct pw_json *j, int64_t v);
void pw_json_bool(struct pw_json *j, bool v);
void pw_json_null(struct pw_json *j);

void pw_json_kv_string(struct pw_json *j, const char *key, const char *s);
void pw_json_kv_uint(struct pw_json *j, const char *key, uint64_t v);
void pw_json_kv_int(struct pw_json *j, const char *key, int64_t v);
void pw_json_kv_bool(struct pw_json *j, const char *key, bool v);
void pw_json_kv_null(struct pw_json *j, const char *key);

/* Append the n bytes of s as the inside of a JSON string (no quotes):
 * '"' and '\\' escaped, every control character (below 0x20, 0x7f and the
 * C1 range U+0080..U+009F) and U+2028/U+2029 written as \uXXXX (or \n \t \r
 * \b \f), valid UTF-8 passed through, and each byte that is not part of a
 * valid UTF-8 sequence (bad lead, bad continuation, overlong form,
 * surrogate, above U+10FFFF, truncated) replaced by \ufffd. NUL bytes are
 * data here and become \u0000. Returns 0 or -ENOMEM. */
int pw_json_escape(struct pw_buf *buf, const char *s, size_t n);

/* The most pw_json_escape_to writes for n input bytes: a bad byte or a
 * control character becomes six ("\\ufffd", "\\u001b"), and no valid
 * sequence grows more than that per byte. */
#define PW_JSON_ESCAPED_MAX(n) (6 * (size_t)(n))
/* Inputs longer than this are refused (the worst case would overflow). */
#define PW_JSON_ESCAPE_MAX_N (SIZE_MAX / 8)

/* pw_json_escape into memory the caller has made room in: at least
 * PW_JSON_ESCAPED_MAX(n) bytes at out. Returns the end of what it wrote;
 * writes no NUL. For encoders that reserve a whole line at once. */
char *pw_json_escape_to(char *out, const char *s, size_t n);

/* What copying a string into JSON takes, measured once for a string that
 * goes into many lines (a process's command line, cached per process): its
 * length, and whether it is plain (printable ASCII but '"' and '\\'), which
 * a JSON string takes as it is. A zeroed shape (measured false) tells
 * nothing: the encoder measures the string itself. */
struct pw_json_shape {
	uint32_t len;
	bool plain;
	bool measured;
};

/* The shape of s (NUL-terminated; NULL has length 0). Unmeasured for a
 * string too long for len. */
struct pw_json_shape pw_json_shape_of(const char *s);

/* Length of the valid UTF-8 sequence starting at s (at most n bytes
 * available), storing its code point; 0 when s[0] does not start one. */
size_t pw_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif /* PW_JSON_WRITER_H */
