/* Unit tests for the JSON writer and its string escaper: every byte an
 * attacker can put in a process name must come out as safe, valid JSON. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "json_writer.h"

/* Escape n bytes of s and compare the result with want. */
static void check_escape_n(const char *s, size_t n, const char *want)
{
	struct pw_buf b;

	pw_buf_init(&b);
	assert_int_equal(pw_json_escape(&b, s, n), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, want);
	assert_int_equal(b.len, strlen(want));
	pw_buf_free(&b);
}

static void check_escape(const char *s, const char *want)
{
	check_escape_n(s, strlen(s), want);
}

static void test_plain_ascii_unchanged(void **state)
{
	(void)state;
	check_escape("", "");
	check_escape("nginx", "nginx");
	check_escape("a b/c:d'e{f}[g]", "a b/c:d'e{f}[g]");
	/* '~' (0x7e) is the last printable ASCII character. */
	check_escape(" ~", " ~");
}

static void test_quote_and_backslash(void **state)
{
	(void)state;
	check_escape("\"", "\\\"");
	check_escape("\\", "\\\\");
	check_escape("a\"b\\c", "a\\\"b\\\\c");
	/* A name built to close the string and add a field stays one string. */
	check_escape("x\",\"pid\":1,\"y\":\"", "x\\\",\\\"pid\\\":1,\\\"y\\\":\\\"");
	check_escape("\\\"", "\\\\\\\"");
}

static void test_every_c0_control(void **state)
{
	char in[2] = { 0, 0 }, want[8];
	int c;

	(void)state;
	for (c = 0; c < 0x20; c++) {
		in[0] = (char)c;
		switch (c) {
		case '\b': strcpy(want, "\\b"); break;
		case '\t': strcpy(want, "\\t"); break;
		case '\n': strcpy(want, "\\n"); break;
		case '\f': strcpy(want, "\\f"); break;
		case '\r': strcpy(want, "\\r"); break;
		default: snprintf(want, sizeof(want), "\\u%04x", (unsigned int)c); break;
		}
		check_escape_n(in, 1, want);
	}
	check_escape("a\nb\tc\r", "a\\nb\\tc\\r");
	check_escape("\x1b[31mred", "\\u001b[31mred");
}

static void test_del(void **state)
{
	(void)state;
	check_escape("\x7f", "\\u007f");
	check_escape("a\x7f" "b", "a\\u007fb");
}

static void test_every_c1_control(void **state)
{
	char in[3], want[8];
	unsigned int cp;

	(void)state;
	/* U+0080..U+009F arrive as C2 80..C2 9F: one escape per character. */
	for (cp = 0x80; cp <= 0x9f; cp++) {
		in[0] = (char)0xc2;
		in[1] = (char)(0x80 | (cp & 0x3f));
		in[2] = 0;
		snprintf(want, sizeof(want), "\\u%04x", cp);
		check_escape_n(in, 2, want);
	}
	/* U+00A0, the first character after C1, passes through. */
	check_escape("\xc2\xa0", "\xc2\xa0");
	/* A bare 0x9b (8-bit CSI) is not UTF-8 at all. */
	check_escape("\x9b" "31m", "\\ufffd31m");
}

static void test_line_separators(void **state)
{
	(void)state;
	check_escape("\xe2\x80\xa8", "\\u2028");
	check_escape("\xe2\x80\xa9", "\\u2029");
	check_escape("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "a\\u2028b\\u2029c");
	/* Their neighbours are ordinary characters. */
	check_escape("\xe2\x80\xa7", "\xe2\x80\xa7");
	check_escape("\xe2\x80\xaa", "\xe2\x80\xaa");
}

static void test_valid_utf8_passes_through(void **state)
{
	static const char *const valid[] = {
		"\xc3\xa9",         /* U+00E9 */
		"\xdf\xbf",         /* U+07FF, last 2-byte */
		"\xe0\xa0\x80",     /* U+0800, first 3-byte */
		"\xe2\x82\xac",     /* U+20AC */
		"\xed\x9f\xbf",     /* U+D7FF, last before surrogates */
		"\xee\x80\x80",     /* U+E000, first after surrogates */
		"\xef\xbf\xbd",     /* U+FFFD itself */
		"\xef\xbf\xbf",     /* U+FFFF */
		"\xf0\x90\x80\x80", /* U+10000, first 4-byte */
		"\xf0\x9d\x84\x9e", /* U+1D11E */
		"\xf4\x8f\xbf\xbf", /* U+10FFFF, the last code point */
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		"caf\xc3\xa9 \xf0\x9f\x94\x92 d\xc3\xa6mon",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		check_escape(valid[i], valid[i]);
}

static void test_invalid_utf8_replaced_per_byte(void **state)
{
	(void)state;
	/* Lone continuation bytes. */
	check_escape("\x80", "\\ufffd");
	check_escape("\xbf", "\\ufffd");
	check_escape("a\x80\x80" "b", "a\\ufffd\\ufffdb");
	/* Leads that never start a sequence: C0/C1 (always overlong), F5..FF. */
	check_escape("\xc0\x80", "\\ufffd\\ufffd");
	check_escape("\xc1\xbf", "\\ufffd\\ufffd");
	check_escape("\xf5\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd");
	check_escape("\xf8", "\\ufffd");
	check_escape("\xfe\xff", "\\ufffd\\ufffd");
	/* Overlong 3- and 4-byte forms (of '/' and of U+FFFF). */
	check_escape("\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd");
	check_escape("\xe0\x9f\xbf", "\\ufffd\\ufffd\\ufffd");
	check_escape("\xf0\x80\x80\xaf", "\\ufffd\\ufffd\\ufffd\\ufffd");
	check_escape("\xf0\x8f\xbf\xbf", "\\ufffd\\ufffd\\ufffd\\ufffd");
	/* UTF-16 surrogates encoded as UTF-8 (CESU-8). */
	check_escape("\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd");
	check_escape("\xed\xbf\xbf", "\\ufffd\\ufffd\\ufffd");
	/* Above U+10FFFF. */
	check_escape("\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd");
	/* A lead followed by something that is not a continuation: the next
	 * character is kept, not swallowed. */
	check_escape("\xc3" "A", "\\ufffdA");
	check_escape("\xe2\x82" "A", "\\ufffd\\ufffdA");
	check_escape("\xf0\x9f\x94" "A", "\\ufffd\\ufffd\\ufffdA");
	check_escape("\xe2\x28\xa1", "\\ufffd(\\ufffd");
	check_escape("\xc3\"", "\\ufffd\\\"");
	check_escape("\xc3\n", "\\ufffd\\n");
	/* Truncated at the end of the input. */
	check_escape("\xc3", "\\ufffd");
	check_escape("ok\xe2\x82", "ok\\ufffd\\ufffd");
	check_escape("\xf0\x9f\x94", "\\ufffd\\ufffd\\ufffd");
	/* The length given is a hard limit even mid-sequence. */
	check_escape_n("\xc3\xa9", 1, "\\ufffd");
}

static void test_nul_is_data_in_escape(void **state)
{
	(void)state;
	check_escape_n("\0", 1, "\\u0000");
	check_escape_n("a\0b", 3, "a\\u0000b");
}

static void test_utf8_decode(void **state)
{
	unsigned char *end;
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(pw_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(pw_utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(pw_utf8_decode((const unsigned char *)"\xe2\x82\xac", 3, &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(pw_utf8_decode((const unsigned char *)"\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	/* n == 0: s must not be read at all (ASan and valgrind check this). */
	end = malloc(1);
	assert_non_null(end);
	assert_int_equal(pw_utf8_decode(end + 1, 0, &cp), 0);
	free(end);
	assert_int_equal(pw_utf8_decode((const unsigned char *)"\xe2\x82\xac", 2, &cp), 0);
	assert_int_equal(pw_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp), 0);
	assert_int_equal(pw_utf8_decode((const unsigned char *)"\xc1\x81", 2, &cp), 0);
}

/* UTF-8 encoding of cp, written here independently of the code under test. */
static size_t encode_utf8(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Every code point: the decoder agrees with the encoding, surrogates are
 * refused, and the escaper either passes the character or writes \uXXXX. */
static void test_every_code_point(void **state)
{
	unsigned char in[4];
	uint32_t cp, got;
	struct pw_buf b;
	size_t n;
	bool surrogate, escaped;
	char want[16];

	(void)state;
	pw_buf_init(&b);
	for (cp = 0; cp <= 0x10ffff; cp++) {
		n = encode_utf8(cp, in);
		surrogate = cp >= 0xd800 && cp <= 0xdfff;
		got = 0xffffffff;
		assert_int_equal(pw_utf8_decode(in, n, &got), surrogate ? 0 : n);
		if (surrogate)
			continue;
		assert_int_equal(got, cp);
		/* One byte short is never a character. */
		if (n > 1)
			assert_int_equal(pw_utf8_decode(in, n - 1, &got), 0);
		pw_buf_reset(&b);
		assert_int_equal(pw_json_escape(&b, (const char *)in, n), 0);
		escaped = cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
			  cp == 0x2029 || cp == '"' || cp == '\\';
		if (!escaped) {
			assert_int_equal(b.len, n);
			assert_memory_equal(b.data, in, n);
		} else if (cp >= 0x7f || cp == 0 || cp == 0x1b) {
			snprintf(want, sizeof(want), "\\u%04x", (unsigned int)cp);
			assert_string_equal(b.data, want);
		} else {
			assert_int_equal(b.data[0], '\\');
		}
	}
	pw_buf_free(&b);
}

/* Escaped output of any bytes is valid UTF-8 with no raw control character,
 * no raw quote and no unescaped backslash: checked on pseudo-random input. */
static void test_random_bytes_give_safe_output(void **state)
{
	unsigned char in[64];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct pw_buf b;
	size_t i, n, len;
	uint32_t cp;
	int round;

	(void)state;
	pw_buf_init(&b);
	for (round = 0; round < 20000; round++) {
		for (i = 0; i < sizeof(in); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			in[i] = (unsigned char)x;
		}
		n = (size_t)(x >> 58); /* 0..63 */
		pw_buf_reset(&b);
		assert_int_equal(pw_json_escape(&b, (const char *)in, n), 0);
		for (i = 0; i < b.len; i += len) {
			const unsigned char *p = (const unsigned char *)b.data + i;

			len = pw_utf8_decode(p, b.len - i, &cp);
			assert_true(len > 0);
			assert_true(cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f));
			assert_true(cp != 0x2028 && cp != 0x2029 && cp != '"');
			if (cp == '\\') {
				/* An escape: skip its second character. */
				assert_true(i + 1 < b.len);
				assert_true(p[1] != '\0');
				assert_non_null(strchr("\"\\/bfnrtu", p[1]));
				len = 2;
			}
		}
	}
	pw_buf_free(&b);
}

/* Long plain runs are checked many bytes at a time: a byte that needs care
 * at any position of a long string comes out exactly as it does alone. */
static void test_byte_at_every_position_of_long_string(void **state)
{
	char in[41], want[64 + 40];
	struct pw_buf alone;
	size_t pos;
	int c;

	(void)state;
	pw_buf_init(&alone);
	for (c = 0; c < 256; c++) {
		pw_buf_reset(&alone);
		assert_int_equal(pw_json_escape(&alone, (const char *)&(char){ (char)c }, 1), 0);
		for (pos = 0; pos < 40; pos++) {
			memset(in, 'a' + (int)(pos % 26), 40);
			in[pos] = (char)c;
			in[40] = '\0';
			memset(want, 'a' + (int)(pos % 26), pos);
			memcpy(want + pos, alone.data, alone.len);
			memset(want + pos + alone.len, 'a' + (int)(pos % 26), 39 - pos);
			want[pos + alone.len + 39 - pos] = '\0';
			check_escape_n(in, 40, want);
		}
	}
	pw_buf_free(&alone);
}

/* ---- The writer ---- */

struct writer {
	struct pw_buf buf;
	struct pw_json j;
};

static int writer_setup(void **state)
{
	struct writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -1;
	pw_buf_init(&w->buf);
	pw_json_init(&w->j, &w->buf);
	*state = w;
	return 0;
}

static int writer_teardown(void **state)
{
	struct writer *w = *state;

	pw_buf_free(&w->buf);
	free(w);
	return 0;
}

static const char *text(struct writer *w)
{
	return w->buf.data ? w->buf.data : "";
}

/* A string measured once (pw_json_shape_of) is plain exactly when escaping
 * leaves it as it is: every byte value at every position of a 40-byte
 * string (the 16- and 8-byte checks and the tail), and the edge cases. */
static void test_shape_says_plain_exactly_when_escaping_changes_nothing(void **state)
{
	char in[41];
	struct pw_buf escaped;
	struct pw_json_shape shape;
	size_t pos;
	int c;

	(void)state;
	shape = pw_json_shape_of(NULL);
	assert_true(shape.measured && shape.plain);
	assert_int_equal(shape.len, 0);
	shape = pw_json_shape_of("");
	assert_true(shape.measured && shape.plain);
	assert_int_equal(shape.len, 0);
	shape = pw_json_shape_of("/usr/sbin/sshd -D [listener] 0 of 10-100 startups");
	assert_true(shape.measured && shape.plain);
	assert_int_equal(shape.len, 49);

	pw_buf_init(&escaped);
	for (c = 1; c < 256; c++) { /* 0 would end the string */
		for (pos = 0; pos < 40; pos++) {
			memset(in, 'a' + (int)(pos % 26), 40);
			in[pos] = (char)c;
			in[40] = '\0';
			shape = pw_json_shape_of(in);
			assert_true(shape.measured);
			assert_int_equal(shape.len, 40);
			pw_buf_reset(&escaped);
			assert_int_equal(pw_json_escape(&escaped, in, 40), 0);
			if (shape.plain != (escaped.len == 40 && !memcmp(escaped.data, in, 40)))
				fail_msg("byte 0x%02x at %zu: shape says %s", c, pos,
					 shape.plain ? "plain" : "not plain");
		}
	}
	pw_buf_free(&escaped);
}

static void test_commas_in_nested_values(void **state)
{
	struct writer *w = *state;
	struct pw_json *j = &w->j;

	pw_json_object_begin(j);
	pw_json_kv_uint(j, "a", 1);
	pw_json_key(j, "b");
	pw_json_array_begin(j);
	pw_json_uint(j, 1);
	pw_json_int(j, -2);
	pw_json_object_begin(j);
	pw_json_kv_null(j, "c");
	pw_json_object_end(j);
	pw_json_array_begin(j);
	pw_json_array_end(j);
	pw_json_string(j, "s");
	pw_json_array_end(j);
	pw_json_key(j, "d");
	pw_json_object_begin(j);
	pw_json_object_end(j);
	pw_json_kv_bool(j, "e", true);
	pw_json_kv_bool(j, "f", false);
	pw_json_kv_string(j, "g", NULL);
	pw_json_kv_int(j, "h", 0);
	pw_json_object_end(j);
	assert_int_equal(pw_json_status(j), 0);
	assert_string_equal(text(w), "{\"a\":1,\"b\":[1,-2,{\"c\":null},[],\"s\"],\"d\":{},"
				     "\"e\":true,\"f\":false,\"g\":null,\"h\":0}");
}

static void test_empty_containers(void **state)
{
	struct writer *w = *state;

	pw_json_object_begin(&w->j);
	pw_json_object_end(&w->j);
	assert_int_equal(pw_json_status(&w->j), 0);
	assert_string_equal(text(w), "{}");
}

static void test_top_level_array_and_scalar(void **state)
{
	struct writer *w = *state;
	struct pw_buf b;
	struct pw_json j;

	pw_json_array_begin(&w->j);
	pw_json_null(&w->j);
	pw_json_bool(&w->j, true);
	pw_json_array_end(&w->j);
	assert_int_equal(pw_json_status(&w->j), 0);
	assert_string_equal(text(w), "[null,true]");

	pw_buf_init(&b);
	pw_json_init(&j, &b);
	pw_json_string(&j, "only");
	assert_int_equal(pw_json_status(&j), 0);
	assert_string_equal(b.data, "\"only\"");
	pw_buf_free(&b);
}

static void test_number_limits(void **state)
{
	struct writer *w = *state;

	pw_json_array_begin(&w->j);
	pw_json_uint(&w->j, UINT64_MAX);
	pw_json_int(&w->j, INT64_MIN);
	pw_json_int(&w->j, INT64_MAX);
	pw_json_uint(&w->j, 0);
	pw_json_array_end(&w->j);
	assert_int_equal(pw_json_status(&w->j), 0);
	assert_string_equal(text(w), "[18446744073709551615,-9223372036854775808,"
				     "9223372036854775807,0]");
}

static void test_strings_and_keys_escaped(void **state)
{
	struct writer *w = *state;

	pw_json_object_begin(&w->j);
	pw_json_kv_string(&w->j, "k\"\n", "v\\\x01\xff");
	pw_json_object_end(&w->j);
	assert_int_equal(pw_json_status(&w->j), 0);
	assert_string_equal(text(w), "{\"k\\\"\\n\":\"v\\\\\\u0001\\ufffd\"}");
}

static void test_string_n_stops_at_nul_and_n(void **state)
{
	struct writer *w = *state;

	pw_json_array_begin(&w->j);
	pw_json_string_n(&w->j, "ab\0cd", 5);
	pw_json_string_n(&w->j, "abcdef", 3);
	pw_json_string_n(&w->j, "abc", 0);
	pw_json_string_n(&w->j, NULL, 4);
	/* A comm of exactly 16 bytes with no NUL is cut at n, never read past. */
	pw_json_string_n(&w->j, "0123456789abcdefXYZ", 16);
	pw_json_array_end(&w->j);
	assert_int_equal(pw_json_status(&w->j), 0);
	assert_string_equal(text(w), "[\"ab\",\"abc\",\"\",null,\"0123456789abcdef\"]");
}

static void test_nothing_written_is_not_a_value(void **state)
{
	struct writer *w = *state;

	assert_int_equal(pw_json_status(&w->j), -EINVAL);
}

/* Each misuse: status -EINVAL, and nothing more is written after it. */
static void expect_misuse(struct writer *w, size_t len_at_misuse)
{
	size_t len = w->buf.len;

	assert_int_equal(pw_json_status(&w->j), -EINVAL);
	assert_int_equal(w->buf.len, len_at_misuse);
	pw_json_kv_string(&w->j, "after", "misuse");
	pw_json_object_end(&w->j);
	pw_json_array_end(&w->j);
	pw_json_uint(&w->j, 7);
	assert_int_equal(w->buf.len, len);
	assert_int_equal(pw_json_status(&w->j), -EINVAL);
}

static void test_misuse_value_without_key(void **state)
{
	struct writer *w = *state;

	pw_json_object_begin(&w->j);
	pw_json_uint(&w->j, 1);
	expect_misuse(w, 1);
}

static void test_misuse_key_outside_object(void **state)
{
	struct writer *w = *state;

	pw_json_key(&w->j, "top");
	expect_misuse(w, 0);
}

static void test_misuse_key_in_array(void **state)
{
	struct writer *w = *state;

	pw_json_array_begin(&w->j);
	pw_json_key(&w->j, "k");
	expect_misuse(w, 1);
}

static void test_misuse_key_after_key(void **state)
{
	struct writer *w = *state;

	pw_json_object_begin(&w->j);
	pw_json_key(&w->j, "a");
	pw_json_key(&w->j, "b");
	expect_misuse(w, strlen("{\"a\":"));
}

static void test_misuse_null_key(void **state)
{
	struct writer *w = *state;

	pw_json_object_begin(&w->j);
	pw_json_key(&w->j, NULL);
	expect_misuse(w, 1);
}

static void test_misuse_two_top_level_values(void **state)
{
	struct writer *w = *state;

	pw_json_object_begin(&w->j);
	pw_json_object_end(&w->j);
	pw_json_object_begin(&w->j);
	expect_misuse(w, 2);
}

static void test_misuse_wrong_end(void **state)
{
	struct writer *w = *state;

	pw_json_object_begin(&w->j);
	pw_json_array_end(&w->j);
	expect_misuse(w, 1);
}

static void test_misuse_end_at_top(void **state)
{
	struct writer *w = *state;

	pw_json_object_end(&w->j);
	expect_misuse(w, 0);
}

static void test_misuse_end_after_key(void **state)
{
	struct writer *w = *state;

	pw_json_object_begin(&w->j);
	pw_json_key(&w->j, "dangling");
	pw_json_object_end(&w->j);
	expect_misuse(w, strlen("{\"dangling\":"));
}

static void test_unfinished_is_invalid(void **state)
{
	struct writer *w = *state;

	pw_json_object_begin(&w->j);
	pw_json_kv_uint(&w->j, "a", 1);
	assert_int_equal(pw_json_status(&w->j), -EINVAL);
	pw_json_object_end(&w->j);
	assert_int_equal(pw_json_status(&w->j), 0);
}

static void test_depth_limit(void **state)
{
	struct writer *w = *state;
	int i;

	for (i = 0; i < PW_JSON_MAX_DEPTH; i++)
		pw_json_array_begin(&w->j);
	for (i = 0; i < PW_JSON_MAX_DEPTH; i++)
		pw_json_array_end(&w->j);
	assert_int_equal(pw_json_status(&w->j), 0);
	assert_int_equal(w->buf.len, 2 * PW_JSON_MAX_DEPTH);

	pw_buf_reset(&w->buf);
	pw_json_init(&w->j, &w->buf);
	for (i = 0; i < PW_JSON_MAX_DEPTH; i++)
		pw_json_array_begin(&w->j);
	pw_json_array_begin(&w->j);
	expect_misuse(w, PW_JSON_MAX_DEPTH);
}

static void test_out_of_memory_reported(void **state)
{
	struct writer *w = *state;

	pw_json_object_begin(&w->j);
	pw_json_kv_uint(&w->j, "a", 1);
	pw_json_object_end(&w->j);
	assert_int_equal(pw_json_status(&w->j), 0);
	/* An allocation failure is sticky in the buffer and wins over misuse. */
	w->buf.failed = true;
	assert_int_equal(pw_json_status(&w->j), -ENOMEM);
	assert_int_equal(pw_json_escape(&w->buf, "x", 1), -ENOMEM);
}

#define WRITER_TEST(f) cmocka_unit_test_setup_teardown(f, writer_setup, writer_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_ascii_unchanged),
		cmocka_unit_test(test_quote_and_backslash),
		cmocka_unit_test(test_every_c0_control),
		cmocka_unit_test(test_del),
		cmocka_unit_test(test_every_c1_control),
		cmocka_unit_test(test_line_separators),
		cmocka_unit_test(test_valid_utf8_passes_through),
		cmocka_unit_test(test_invalid_utf8_replaced_per_byte),
		cmocka_unit_test(test_nul_is_data_in_escape),
		cmocka_unit_test(test_utf8_decode),
		cmocka_unit_test(test_every_code_point),
		cmocka_unit_test(test_random_bytes_give_safe_output),
		cmocka_unit_test(test_byte_at_every_position_of_long_string),
		cmocka_unit_test(test_shape_says_plain_exactly_when_escaping_changes_nothing),
		WRITER_TEST(test_commas_in_nested_values),
		WRITER_TEST(test_empty_containers),
		WRITER_TEST(test_top_level_array_and_scalar),
		WRITER_TEST(test_number_limits),
		WRITER_TEST(test_strings_and_keys_escaped),
		WRITER_TEST(test_string_n_stops_at_nul_and_n),
		WRITER_TEST(test_nothing_written_is_not_a_value),
		WRITER_TEST(test_misuse_value_without_key),
		WRITER_TEST(test_misuse_key_outside_object),
		WRITER_TEST(test_misuse_key_in_array),
		WRITER_TEST(test_misuse_key_after_key),
		WRITER_TEST(test_misuse_null_key),
		WRITER_TEST(test_misuse_two_top_level_values),
		WRITER_TEST(test_misuse_wrong_end),
		WRITER_TEST(test_misuse_end_at_top),
		WRITER_TEST(test_misuse_end_after_key),
		WRITER_TEST(test_unfinished_is_invalid),
		WRITER_TEST(test_depth_limit),
		WRITER_TEST(test_out_of_memory_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
