/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Strict recursive-descent JSON reader for one line: nodes and decoded
 * strings go into two buffers owned by the reader and reused per line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_reader.h"
#include "json_writer.h"

/* Offsets are uint32_t: refuse lines that could overflow them. */
#define MAX_INPUT ((size_t)UINT32_MAX / 2)

void pw_json_reader_init(struct pw_json_reader *r, unsigned int max_depth)
{
	memset(r, 0, sizeof(*r));
	r->max_depth = max_depth ? max_depth : PW_JSON_READER_DEFAULT_DEPTH;
}

void pw_json_reader_free(struct pw_json_reader *r)
{
	free(r->nodes);
	free(r->store);
	r->nodes = NULL;
	r->store = NULL;
	r->node_count = r->node_cap = 0;
	r->store_len = r->store_cap = 0;
}

static int fail_at(struct pw_json_reader *r, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct pw_json_reader *r, size_t pos, const char *fmt, ...)
{
	va_list ap;

	r->error_column = pos + 1;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Name the byte at pos for an error message. */
static int fail_unexpected(struct pw_json_reader *r, const char *expected)
{
	unsigned char c;

	if (r->pos >= r->len)
		return fail_at(r, r->pos, "unexpected end of input, expected %s", expected);
	c = (unsigned char)r->text[r->pos];
	if (c > 0x20 && c < 0x7f)
		return fail_at(r, r->pos, "unexpected '%c', expected %s", c, expected);
	return fail_at(r, r->pos, "unexpected byte 0x%02x, expected %s", c, expected);
}

static void skip_whitespace(struct pw_json_reader *r)
{
	while (r->pos < r->len) {
		char c = r->text[r->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		r->pos++;
	}
}

static int peek(const struct pw_json_reader *r)
{
	return r->pos < r->len ? (unsigned char)r->text[r->pos] : -1;
}

static int new_node(struct pw_json_reader *r, enum pw_jval_type type, uint32_t *index)
{
	struct pw_jval *v;

	if (r->node_count == r->node_cap) {
		size_t cap = r->node_cap ? r->node_cap * 2 : 64;
		struct pw_jval *nodes = realloc(r->nodes, cap * sizeof(*nodes));

		if (!nodes)
			return -ENOMEM;
		r->nodes = nodes;
		r->node_cap = cap;
	}
	v = &r->nodes[r->node_count];
	memset(v, 0, sizeof(*v));
	v->type = type;
	*index = (uint32_t)r->node_count++;
	return 0;
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits after "\u" at r->pos. */
static int read_hex4(struct pw_json_reader *r, uint32_t *out)
{
	uint32_t v = 0;
	int i, d;

	for (i = 0; i < 4; i++) {
		d = r->pos < r->len ? hex_value((unsigned char)r->text[r->pos]) : -1;
		if (d < 0)
			return fail_unexpected(r, "a hex digit in \\u escape");
		v = v << 4 | (uint32_t)d;
		r->pos++;
	}
	*out = v;
	return 0;
}

static void store_utf8(struct pw_json_reader *r, uint32_t cp)
{
	char *o = r->store + r->store_len;

	if (cp < 0x80) {
		o[0] = (char)cp;
		r->store_len += 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		r->store_len += 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		r->store_len += 3;
	} else {
		o[0] = (char)(0xf0 | cp >> 18);
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		r->store_len += 4;
	}
}

/* "\uXXXX" (with r->pos just after the 'u'), joining a surrogate pair. */
static int read_unicode_escape(struct pw_json_reader *r, size_t escape_pos, uint32_t *cp)
{
	uint32_t hi, lo;
	int err;

	err = read_hex4(r, &hi);
	if (err)
		return err;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail_at(r, escape_pos, "lone low surrogate \\u%04x", hi);
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = hi;
		return 0;
	}
	if (r->pos + 1 >= r->len || r->text[r->pos] != '\\' || r->text[r->pos + 1] != 'u')
		return fail_at(r, escape_pos, "high surrogate \\u%04x not followed by a low surrogate", hi);
	r->pos += 2;
	err = read_hex4(r, &lo);
	if (err)
		return err;
	if (lo < 0xdc00 || lo > 0xdfff)
		return fail_at(r, escape_pos, "high surrogate \\u%04x not followed by a low surrogate", hi);
	*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/* A string at r->pos (on its opening quote), decoded into the store. The
 * store was sized so that it cannot overflow: a decoded string is never
 * longer than its source, and the source has two quotes for the NUL. */
static int read_string(struct pw_json_reader *r, uint32_t *offset, uint32_t *length)
{
	size_t start = r->pos, escape_pos, n;
	const unsigned char *s = (const unsigned char *)r->text;
	uint32_t cp;
	int err;

	*offset = (uint32_t)r->store_len;
	r->pos++;
	for (;;) {
		if (r->pos >= r->len)
			return fail_at(r, start, "unterminated string");
		if (s[r->pos] == '"')
			break;
		if (s[r->pos] < 0x20)
			return fail_at(r, r->pos, "control character 0x%02x in string", s[r->pos]);
		if (s[r->pos] < 0x80 && s[r->pos] != '\\') {
			/* Plain ASCII, the bulk of every line: copied as one run. */
			size_t end = r->pos + 1;

			while (end < r->len && s[end] >= 0x20 && s[end] < 0x80 && s[end] != '"' &&
			       s[end] != '\\')
				end++;
			memcpy(r->store + r->store_len, s + r->pos, end - r->pos);
			r->store_len += end - r->pos;
			r->pos = end;
			continue;
		}
		if (s[r->pos] != '\\') {
			n = pw_utf8_decode(s + r->pos, r->len - r->pos, &cp);
			if (!n)
				return fail_at(r, r->pos, "invalid UTF-8 in string");
			memcpy(r->store + r->store_len, s + r->pos, n);
			r->store_len += n;
			r->pos += n;
			continue;
		}
		escape_pos = r->pos++;
		switch (peek(r)) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			r->pos++;
			err = read_unicode_escape(r, escape_pos, &cp);
			if (err)
				return err;
			store_utf8(r, cp);
			continue;
		default:
			return fail_at(r, escape_pos, "invalid escape in string");
		}
		r->pos++;
		store_utf8(r, cp);
	}
	r->pos++;
	*length = (uint32_t)(r->store_len - *offset);
	r->store[r->store_len++] = '\0';
	return 0;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int read_number(struct pw_json_reader *r, uint32_t index)
{
	struct pw_jval *v = &r->nodes[index];
	size_t start = r->pos, n;
	bool negative = false, integer = true, overflow = false;
	uint64_t magnitude = 0;
	char *copy;

	if (peek(r) == '-') {
		negative = true;
		r->pos++;
	}
	if (!is_digit(peek(r)))
		return fail_unexpected(r, "a digit");
	if (peek(r) == '0') {
		r->pos++;
		if (is_digit(peek(r)))
			return fail_at(r, start, "number with a leading zero");
	}
	while (is_digit(peek(r))) {
		unsigned int d = (unsigned int)(r->text[r->pos] - '0');

		if (magnitude > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			magnitude = magnitude * 10 + d;
		r->pos++;
	}
	if (peek(r) == '.') {
		integer = false;
		r->pos++;
		if (!is_digit(peek(r)))
			return fail_unexpected(r, "a digit after '.'");
		while (is_digit(peek(r)))
			r->pos++;
	}
	if (peek(r) == 'e' || peek(r) == 'E') {
		integer = false;
		r->pos++;
		if (peek(r) == '+' || peek(r) == '-')
			r->pos++;
		if (!is_digit(peek(r)))
			return fail_unexpected(r, "a digit in the exponent");
		while (is_digit(peek(r)))
			r->pos++;
	}
	/* strtod needs a NUL-terminated copy; the store has room past its end
	 * (see pw_json_read) and the copy is not kept. */
	n = r->pos - start;
	copy = r->store + r->store_len;
	memcpy(copy, r->text + start, n);
	copy[n] = '\0';
	v->number = strtod(copy, NULL);
	if (integer && !overflow) {
		if (!negative) {
			v->is_uint = true;
			v->u = magnitude;
			if (magnitude <= INT64_MAX) {
				v->is_int = true;
				v->i = (int64_t)magnitude;
			}
		} else if (magnitude <= (uint64_t)INT64_MAX + 1) {
			v->is_int = true;
			v->i = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
		}
	}
	return 0;
}

static int read_literal(struct pw_json_reader *r, const char *word)
{
	size_t n = strlen(word);

	if (r->len - r->pos < n || memcmp(r->text + r->pos, word, n) != 0)
		return fail_at(r, r->pos, "invalid literal, expected %s", word);
	r->pos += n;
	return 0;
}

static int read_value(struct pw_json_reader *r, unsigned int depth, uint32_t *index);

/* Append child to parent's list; tail is the last child so far (0: none). */
static void link_child(struct pw_json_reader *r, uint32_t parent, uint32_t *tail, uint32_t child)
{
	if (*tail)
		r->nodes[*tail].next = child;
	else
		r->nodes[parent].child = child;
	*tail = child;
	r->nodes[parent].count++;
}

static bool has_member(const struct pw_json_reader *r, uint32_t obj, uint32_t key, uint32_t key_len)
{
	uint32_t i;

	for (i = r->nodes[obj].child; i; i = r->nodes[i].next) {
		const struct pw_jval *m = &r->nodes[i];

		if (m->key_len == key_len && !memcmp(r->store + m->key, r->store + key, key_len))
			return true;
	}
	return false;
}

/* The message quotes the name, cut short and with control characters shown
 * as '?': error messages end up on terminals and in one-line logs. */
static int fail_duplicate(struct pw_json_reader *r, size_t pos, const char *key, size_t len)
{
	char name[41];
	size_t i;

	if (len > sizeof(name) - 1)
		len = sizeof(name) - 1;
	for (i = 0; i < len; i++)
		name[i] = (unsigned char)key[i] < 0x20 || key[i] == 0x7f ? '?' : key[i];
	name[len] = '\0';
	return fail_at(r, pos, "duplicate member name \"%s\"", name);
}

static int read_object(struct pw_json_reader *r, unsigned int depth, uint32_t index)
{
	uint32_t tail = 0, key, key_len, child;
	size_t key_pos;
	int err;

	r->pos++;
	skip_whitespace(r);
	if (peek(r) == '}') {
		r->pos++;
		return 0;
	}
	for (;;) {
		skip_whitespace(r);
		if (peek(r) != '"')
			return fail_unexpected(r, "a member name");
		key_pos = r->pos;
		err = read_string(r, &key, &key_len);
		if (err)
			return err;
		if (has_member(r, index, key, key_len))
			return fail_duplicate(r, key_pos, r->store + key, key_len);
		skip_whitespace(r);
		if (peek(r) != ':')
			return fail_unexpected(r, "':' after a member name");
		r->pos++;
		skip_whitespace(r);
		err = read_value(r, depth, &child);
		if (err)
			return err;
		r->nodes[child].is_member = true;
		r->nodes[child].key = key;
		r->nodes[child].key_len = key_len;
		link_child(r, index, &tail, child);
		skip_whitespace(r);
		if (peek(r) == ',') {
			r->pos++;
			continue;
		}
		if (peek(r) == '}') {
			r->pos++;
			return 0;
		}
		return fail_unexpected(r, "',' or '}'");
	}
}

static int read_array(struct pw_json_reader *r, unsigned int depth, uint32_t index)
{
	uint32_t tail = 0, child;
	int err;

	r->pos++;
	skip_whitespace(r);
	if (peek(r) == ']') {
		r->pos++;
		return 0;
	}
	for (;;) {
		skip_whitespace(r);
		err = read_value(r, depth, &child);
		if (err)
			return err;
		link_child(r, index, &tail, child);
		skip_whitespace(r);
		if (peek(r) == ',') {
			r->pos++;
			continue;
		}
		if (peek(r) == ']') {
			r->pos++;
			return 0;
		}
		return fail_unexpected(r, "',' or ']'");
	}
}

/* depth: how many arrays and objects enclose this value. */
static int read_value(struct pw_json_reader *r, unsigned int depth, uint32_t *index)
{
	int c = peek(r), err;

	switch (c) {
	case '{':
	case '[':
		if (depth >= r->max_depth)
			return fail_at(r, r->pos, "nesting deeper than %u", r->max_depth);
		err = new_node(r, c == '{' ? PW_JVAL_OBJECT : PW_JVAL_ARRAY, index);
		if (err)
			return err;
		return c == '{' ? read_object(r, depth + 1, *index) : read_array(r, depth + 1, *index);
	case '"':
		err = new_node(r, PW_JVAL_STRING, index);
		if (err)
			return err;
		return read_string(r, &r->nodes[*index].str, &r->nodes[*index].str_len);
	case 't':
	case 'f':
		err = new_node(r, PW_JVAL_BOOL, index);
		if (err)
			return err;
		r->nodes[*index].boolean = c == 't';
		return read_literal(r, c == 't' ? "true" : "false");
	case 'n':
		err = new_node(r, PW_JVAL_NULL, index);
		if (err)
			return err;
		return read_literal(r, "null");
	default:
		if (c == '-' || is_digit(c)) {
			err = new_node(r, PW_JVAL_NUMBER, index);
			if (err)
				return err;
			return read_number(r, *index);
		}
		return fail_unexpected(r, "a value");
	}
}

int pw_json_read(struct pw_json_reader *r, const char *text, size_t len)
{
	uint32_t root;
	int err;

	r->node_count = 0;
	r->store_len = 0;
	r->error[0] = '\0';
	r->error_column = 0;
	if (len > MAX_INPUT)
		return fail_at(r, 0, "line longer than %zu bytes", MAX_INPUT);
	/* Decoded strings never outgrow their source (see read_string); a
	 * number's temporary copy needs one byte past its text. */
	if (r->store_cap < len + 2) {
		char *store = realloc(r->store, len + 2);

		if (!store)
			return -ENOMEM;
		r->store = store;
		r->store_cap = len + 2;
	}
	r->text = text;
	r->len = len;
	r->pos = 0;
	skip_whitespace(r);
	if (r->pos == r->len) {
		err = fail_at(r, r->pos, "empty input, expected a value");
		goto out;
	}
	err = read_value(r, 0, &root);
	if (err)
		goto out;
	skip_whitespace(r);
	if (r->pos != r->len)
		err = fail_unexpected(r, "end of input after the value");
out:
	if (err)
		r->node_count = 0;
	r->text = NULL;
	return err;
}

const struct pw_jval *pw_json_root(const struct pw_json_reader *r)
{
	return r->node_count ? &r->nodes[0] : NULL;
}

const struct pw_jval *pw_jval_member(const struct pw_json_reader *r, const struct pw_jval *obj,
				     const char *key)
{
	size_t n = strlen(key);
	uint32_t i;

	if (!obj || obj->type != PW_JVAL_OBJECT)
		return NULL;
	for (i = obj->child; i; i = r->nodes[i].next) {
		const struct pw_jval *m = &r->nodes[i];

		if (m->key_len == n && !memcmp(r->store + m->key, key, n))
			return m;
	}
	return NULL;
}

const struct pw_jval *pw_jval_path(const struct pw_json_reader *r, const struct pw_jval *obj,
				   const char *path)
{
	char step[64];
	const char *dot;
	size_t n;

	while (obj && (dot = strchr(path, '.'))) {
		n = (size_t)(dot - path);
		if (n >= sizeof(step))
			return NULL;
		memcpy(step, path, n);
		step[n] = '\0';
		obj = pw_jval_member(r, obj, step);
		path = dot + 1;
	}
	return pw_jval_member(r, obj, path);
}

const struct pw_jval *pw_jval_first(const struct pw_json_reader *r, const struct pw_jval *v)
{
	if (!v || (v->type != PW_JVAL_ARRAY && v->type != PW_JVAL_OBJECT) || !v->child)
		return NULL;
	return &r->nodes[v->child];
}

const struct pw_jval *pw_jval_next(const struct pw_json_reader *r, const struct pw_jval *v)
{
	return v && v->next ? &r->nodes[v->next] : NULL;
}

const char *pw_jval_string(const struct pw_json_reader *r, const struct pw_jval *v, size_t *len)
{
	if (!v || v->type != PW_JVAL_STRING)
		return NULL;
	if (len)
		*len = v->str_len;
	return r->store + v->str;
}

const char *pw_jval_key(const struct pw_json_reader *r, const struct pw_jval *v, size_t *len)
{
	if (!v || !v->is_member)
		return NULL;
	if (len)
		*len = v->key_len;
	return r->store + v->key;
}
