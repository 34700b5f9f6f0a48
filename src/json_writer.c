/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Streaming JSON writer and the string escaper: process names and command
 * lines are attacker-controlled, so every byte is checked on the way out. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "decimal.h"
#include "json_writer.h"

/* pw_buf_append's common case inline: a line makes some two hundred small
 * appends, and the call and checks cost more than the bytes. */
static inline void put(struct pw_buf *b, const char *s, size_t n)
{
	if (!b->failed && n < b->cap - b->len) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = '\0';
		return;
	}
	pw_buf_append(b, s, n);
}

/* Bytes that go into a JSON string as they are: printable ASCII but '"'
 * and '\\'. Everything else takes the careful path of pw_json_escape. */
static const bool plain_bytes[256] = {
	[0x20 ... 0x21] = true, /* '"' is 0x22 */
	[0x23 ... 0x5b] = true, /* '\\' is 0x5c */
	[0x5d ... 0x7e] = true,
};

static bool is_plain_byte(unsigned char c)
{
	return plain_bytes[c];
}

/* Eight bytes at once: true when none needs escaping, i.e. each is in
 * 0x20..0x7e and none is '"' or '\\'. Byte-wise borrow tricks: each test
 * can report a byte that is fine (then the bytes take the careful path one
 * by one) but never misses one that is not. */
static bool word_is_plain(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return !(((x - ones * 0x20) & ~x & high) | /* a byte below 0x20 */
		 (((x + ones) | x) & high) |       /* 0x7f or above */
		 ((q - ones) & ~q & high) |         /* '"' */
		 ((b - ones) & ~b & high));         /* '\\' */
}

#ifdef __SSE2__
/* Sixteen bytes at once, exactly: true when none needs escaping. A signed
 * compare with 0x20 catches the controls and every byte from 0x80 up. */
static bool block_is_plain(const unsigned char *p)
{
	__m128i x = _mm_loadu_si128((const __m128i *)p);
	__m128i bad = _mm_or_si128(
		_mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
			     _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f))),
		_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
			     _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));

	return _mm_movemask_epi8(bad) == 0;
}
#endif

/* True when all n bytes of s go into a JSON string as they are. */
static bool is_plain(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	uint64_t w;

#ifdef __SSE2__
	for (; end - p >= 16; p += 16)
		if (!block_is_plain(p))
			return false;
#endif
	for (; end - p >= 8; p += 8) {
		memcpy(&w, p, 8);
		if (!word_is_plain(w))
			return false;
	}
	for (; p < end; p++)
		if (!is_plain_byte(*p))
			return false;
	return true;
}

struct pw_json_shape pw_json_shape_of(const char *s)
{
	struct pw_json_shape shape = { .measured = true, .plain = true };
	size_t n;

	if (!s)
		return shape;
	n = strlen(s);
	if (n > UINT32_MAX)
		return (struct pw_json_shape){ 0 };
	shape.len = (uint32_t)n;
	shape.plain = is_plain(s, n);
	return shape;
}

void pw_json_init(struct pw_json *j, struct pw_buf *buf)
{
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->first[0] = true;
}

int pw_json_status(const struct pw_json *j)
{
	if (j->buf->failed)
		return -ENOMEM;
	if (j->misuse || j->depth != 0 || j->after_key || j->first[0])
		return -EINVAL;
	return 0;
}

/* Place the comma (or check the key) for a value about to be written.
 * Returns false when the value must not be written. */
static bool begin_value(struct pw_json *j)
{
	unsigned int d = j->depth;

	if (j->misuse)
		return false;
	if (d == 0) {
		/* One line holds one value; a second would not parse. */
		if (!j->first[0]) {
			j->misuse = true;
			return false;
		}
		j->first[0] = false;
		return true;
	}
	if (j->array[d]) {
		if (!j->first[d])
			put(j->buf, ",", 1);
		j->first[d] = false;
		return true;
	}
	if (!j->after_key) {
		j->misuse = true;
		return false;
	}
	j->after_key = false;
	return true;
}

static void open_container(struct pw_json *j, bool array)
{
	if (!begin_value(j))
		return;
	if (j->depth >= PW_JSON_MAX_DEPTH) {
		j->misuse = true;
		return;
	}
	j->depth++;
	j->first[j->depth] = true;
	j->array[j->depth] = array;
	put(j->buf, array ? "[" : "{", 1);
}

static void close_container(struct pw_json *j, bool array)
{
	if (j->misuse)
		return;
	if (j->depth == 0 || j->array[j->depth] != array || j->after_key) {
		j->misuse = true;
		return;
	}
	j->depth--;
	put(j->buf, array ? "]" : "}", 1);
}

void pw_json_object_begin(struct pw_json *j)
{
	open_container(j, false);
}

void pw_json_object_end(struct pw_json *j)
{
	close_container(j, false);
}

void pw_json_array_begin(struct pw_json *j)
{
	open_container(j, true);
}

void pw_json_array_end(struct pw_json *j)
{
	close_container(j, true);
}

/* The bodies below are inlined into the kv_* calls the encoder makes: one
 * call per member instead of three or four. */
static inline __attribute__((always_inline)) void key_impl(struct pw_json *j, const char *key)
{
	unsigned int d = j->depth;
	size_t n;

	if (j->misuse)
		return;
	if (d == 0 || j->array[d] || j->after_key || !key) {
		j->misuse = true;
		return;
	}
	n = strlen(key);
	if (is_plain(key, n) && !j->buf->failed && n + 4 < j->buf->cap - j->buf->len) {
		/* Keys are the encoder's own words: written in one go, no escaping. */
		char *out = j->buf->data + j->buf->len;

		if (!j->first[d])
			*out++ = ',';
		*out++ = '"';
		memcpy(out, key, n);
		out += n;
		*out++ = '"';
		*out++ = ':';
		*out = '\0';
		j->buf->len = (size_t)(out - j->buf->data);
	} else {
		if (!j->first[d])
			put(j->buf, ",", 1);
		put(j->buf, "\"", 1);
		pw_json_escape(j->buf, key, n);
		pw_buf_puts(j->buf, "\":");
	}
	j->first[d] = false;
	j->after_key = true;
}

static inline __attribute__((always_inline)) void string_impl(struct pw_json *j, const char *s, size_t n)
{
	if (!begin_value(j))
		return;
	if (!s) {
		put(j->buf, "null", 4);
		return;
	}
	n = strnlen(s, n);
	put(j->buf, "\"", 1);
	if (is_plain(s, n))
		put(j->buf, s, n);
	else
		pw_json_escape(j->buf, s, n);
	put(j->buf, "\"", 1);
}

static inline __attribute__((always_inline)) void uint_impl(struct pw_json *j, uint64_t v)
{
	char digits[24];

	if (!begin_value(j))
		return;
	put(j->buf, digits, (size_t)(pw_put_decimal(digits, v) - digits));
}

void pw_json_int(struct pw_json *j, int64_t v)
{
	char digits[24];

	if (!begin_value(j))
		return;
	put(j->buf, digits, (size_t)(pw_put_decimal_signed(digits, v) - digits));
}

void pw_json_bool(struct pw_json *j, bool v)
{
	if (begin_value(j))
		put(j->buf, v ? "true" : "false", v ? 4 : 5);
}

static inline __attribute__((always_inline)) void null_impl(struct pw_json *j)
{
	if (begin_value(j))
		put(j->buf, "null", 4);
}

void pw_json_key(struct pw_json *j, const char *key)
{
	key_impl(j, key);
}

void pw_json_string(struct pw_json *j, const char *s)
{
	string_impl(j, s, s ? strlen(s) : 0);
}

void pw_json_string_n(struct pw_json *j, const char *s, size_t n)
{
	string_impl(j, s, n);
}

void pw_json_uint(struct pw_json *j, uint64_t v)
{
	uint_impl(j, v);
}

void pw_json_null(struct pw_json *j)
{
	null_impl(j);
}

void pw_json_kv_string(struct pw_json *j, const char *key, const char *s)
{
	key_impl(j, key);
	string_impl(j, s, s ? strlen(s) : 0);
}

void pw_json_kv_uint(struct pw_json *j, const char *key, uint64_t v)
{
	key_impl(j, key);
	uint_impl(j, v);
}

void pw_json_kv_int(struct pw_json *j, const char *key, int64_t v)
{
	pw_json_key(j, key);
	pw_json_int(j, v);
}

void pw_json_kv_bool(struct pw_json *j, const char *key, bool v)
{
	pw_json_key(j, key);
	pw_json_bool(j, v);
}

void pw_json_kv_null(struct pw_json *j, const char *key)
{
	key_impl(j, key);
	null_impl(j);
}

static bool is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* Well-formed sequences per the Unicode standard, table 3-7: the second
 * byte's range is what rules out overlong forms, surrogates and values above
 * U+10FFFF, so checking it per lead byte is the whole validation. */
size_t pw_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c, lo = 0x80, hi = 0xbf;
	size_t len, i;
	uint32_t v;

	if (n == 0)
		return 0; /* s[0] may not even be readable */
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* below: overlong */
		else if (c == 0xed)
			hi = 0x9f; /* above: UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* below: overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above: beyond U+10FFFF */
	} else {
		return 0; /* continuation byte, 0xc0/0xc1 (overlong) or 0xf5.. */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	v = (v << 6) | (s[1] & 0x3f);
	for (i = 2; i < len; i++) {
		if (!is_cont(s[i]))
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	*cp = v;
	return len;
}

/* "\\u" and four lowercase hex digits of cp (below 0x10000). */
static char *put_u_escape(char *out, uint32_t cp)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = 'u';
	out[2] = hex[(cp >> 12) & 0xf];
	out[3] = hex[(cp >> 8) & 0xf];
	out[4] = hex[(cp >> 4) & 0xf];
	out[5] = hex[cp & 0xf];
	return out + 6;
}

static char *put_two(char *out, char c)
{
	out[0] = '\\';
	out[1] = c;
	return out + 2;
}

char *pw_json_escape_to(char *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t len;
	uint32_t cp;
	uint64_t w;

	while (p < end) {
#ifdef __SSE2__
		if (end - p >= 16) {
			if (block_is_plain(p)) {
				memcpy(out, p, 16);
				out += 16;
				p += 16;
				continue;
			}
		}
#endif
		if (end - p >= 8) {
			memcpy(&w, p, 8);
			if (word_is_plain(w)) {
				memcpy(out, &w, 8);
				out += 8;
				p += 8;
				continue;
			}
		}
		/* Fast path: printable ASCII other than '"' and '\\' is most of
		 * every line and needs no decoding. */
		if (is_plain_byte(*p)) {
			*out++ = (char)*p++;
			continue;
		}
		len = pw_utf8_decode(p, (size_t)(end - p), &cp);
		if (len && cp >= 0x20 && cp != '"' && cp != '\\' && cp != 0x7f &&
		    !(cp >= 0x80 && cp <= 0x9f) && cp != 0x2028 && cp != 0x2029) {
			memcpy(out, p, len);
			out += len;
			p += len;
			continue;
		}
		if (!len) {
			/* One replacement per bad byte: resynchronise on the next. */
			out = put_u_escape(out, 0xfffd);
			len = 1;
		} else if (cp == '"') {
			out = put_two(out, '"');
		} else if (cp == '\\') {
			out = put_two(out, '\\');
		} else if (cp == '\n') {
			out = put_two(out, 'n');
		} else if (cp == '\t') {
			out = put_two(out, 't');
		} else if (cp == '\r') {
			out = put_two(out, 'r');
		} else if (cp == '\b') {
			out = put_two(out, 'b');
		} else if (cp == '\f') {
			out = put_two(out, 'f');
		} else {
			/* C1 controls and U+2028/U+2029 are legal JSON, but line
			 * splitters (Python's splitlines, JavaScript) and terminals
			 * (0x9b is CSI) treat them as breaks or commands. */
			out = put_u_escape(out, cp);
		}
		p += len;
	}
	return out;
}

int pw_json_escape(struct pw_buf *buf, const char *s, size_t n)
{
	char *out;

	if (n > PW_JSON_ESCAPE_MAX_N) {
		buf->failed = true;
		return -ENOMEM;
	}
	out = pw_buf_reserve(buf, PW_JSON_ESCAPED_MAX(n));
	if (!out)
		return -ENOMEM;
	out = pw_json_escape_to(out, s, n);
	buf->len = (size_t)(out - buf->data);
	buf->data[buf->len] = '\0';
	return 0;
}
