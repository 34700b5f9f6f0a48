/* Unit tests for the strict JSON reader: values, every escape, surrogate
 * pairs, the depth limit, and the column and message of each kind of error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "json_reader.h"

static int setup(void **state)
{
	static struct pw_json_reader reader;

	pw_json_reader_init(&reader, 0);
	*state = &reader;
	return 0;
}

static int teardown(void **state)
{
	pw_json_reader_free(*state);
	return 0;
}

static int read_str(struct pw_json_reader *r, const char *text)
{
	return pw_json_read(r, text, strlen(text));
}

/* The one string value of text, decoded. */
static const char *decode(struct pw_json_reader *r, const char *text, size_t *len)
{
	assert_int_equal(read_str(r, text), 0);
	assert_int_equal(pw_json_root(r)->type, PW_JVAL_STRING);
	return pw_jval_string(r, pw_json_root(r), len);
}

static void expect_error(struct pw_json_reader *r, const char *text, size_t column,
			 const char *message_part)
{
	assert_int_equal(read_str(r, text), -EINVAL);
	assert_null(pw_json_root(r));
	if (r->error_column != column || !strstr(r->error, message_part))
		fail_msg("input %s: got column %zu \"%s\", want column %zu \"...%s...\"", text,
			 r->error_column, r->error, column, message_part);
}

static void test_event_object(void **state)
{
	struct pw_json_reader *r = *state;
	const struct pw_jval *root, *v;
	const char *s;
	size_t n;

	assert_int_equal(read_str(r, "{\"schema_version\":1,\"type\":\"state\",\"process\":{\"pid\":812,"
				     "\"comm\":\"nginx\",\"exe\":null},\"local\":{\"port\":80},"
				     "\"sock_cookie\":18446744073709551615,\"ok\":true,\"no\":false,"
				     "\"list\":[1,-2,3.5e2,[]]}\n"),
			 0);
	root = pw_json_root(r);
	assert_non_null(root);
	assert_int_equal(root->type, PW_JVAL_OBJECT);
	assert_int_equal(root->count, 8);

	v = pw_jval_path(r, root, "process.pid");
	assert_non_null(v);
	assert_true(v->is_int);
	assert_int_equal(v->i, 812);
	s = pw_jval_string(r, pw_jval_path(r, root, "process.comm"), &n);
	assert_string_equal(s, "nginx");
	assert_int_equal(n, 5);
	assert_int_equal(pw_jval_path(r, root, "process.exe")->type, PW_JVAL_NULL);
	assert_null(pw_jval_path(r, root, "process.user"));
	assert_null(pw_jval_path(r, root, "type.x"));
	assert_null(pw_jval_string(r, pw_jval_member(r, root, "schema_version"), NULL));

	v = pw_jval_member(r, root, "sock_cookie");
	assert_true(v->is_uint);
	assert_false(v->is_int);
	assert_true(v->u == UINT64_MAX);
	assert_true(pw_jval_member(r, root, "ok")->boolean);
	assert_false(pw_jval_member(r, root, "no")->boolean);

	v = pw_jval_first(r, pw_jval_member(r, root, "list"));
	assert_true(v->is_int && v->i == 1);
	v = pw_jval_next(r, v);
	assert_true(v->is_int && v->i == -2);
	assert_false(v->is_uint);
	v = pw_jval_next(r, v);
	assert_false(v->is_int);
	assert_true(v->number == 350.0);
	v = pw_jval_next(r, v);
	assert_int_equal(v->type, PW_JVAL_ARRAY);
	assert_int_equal(v->count, 0);
	assert_null(pw_jval_first(r, v));
	assert_null(pw_jval_next(r, v));

	v = pw_jval_first(r, root);
	assert_string_equal(pw_jval_key(r, v, &n), "schema_version");
	assert_int_equal(n, 14);
	assert_null(pw_jval_key(r, root, NULL));
}

static void test_scalars_at_top(void **state)
{
	struct pw_json_reader *r = *state;

	assert_int_equal(read_str(r, "  null \t\r\n"), 0);
	assert_int_equal(pw_json_root(r)->type, PW_JVAL_NULL);
	assert_int_equal(read_str(r, "-0"), 0);
	assert_true(pw_json_root(r)->is_int);
	assert_int_equal(pw_json_root(r)->i, 0);
	assert_int_equal(read_str(r, "-9223372036854775808"), 0);
	assert_true(pw_json_root(r)->is_int);
	assert_true(pw_json_root(r)->i == INT64_MIN);
	assert_int_equal(read_str(r, "18446744073709551616"), 0); /* 2^64: only a double */
	assert_false(pw_json_root(r)->is_uint);
	assert_false(pw_json_root(r)->is_int);
	assert_true(pw_json_root(r)->number > 1.8e19);
	assert_int_equal(read_str(r, "1E-2"), 0);
	assert_true(pw_json_root(r)->number == 0.01);
}

static void test_escapes(void **state)
{
	struct pw_json_reader *r = *state;
	size_t n;

	assert_string_equal(decode(r, "\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"", NULL),
			    "a\"b\\c/d\be\ff\ng\rh\ti");
	assert_string_equal(decode(r, "\"\\u0041\\u00e9\\u20AC\"", NULL), "A\xc3\xa9\xe2\x82\xac");
	/* U+1F600 as a surrogate pair, then U+10FFFF, the highest one. */
	assert_string_equal(decode(r, "\"\\ud83d\\ude00|\\uDBFF\\uDFFF\"", NULL),
			    "\xf0\x9f\x98\x80|\xf4\x8f\xbf\xbf");
	/* Raw UTF-8 passes through unchanged. */
	assert_string_equal(decode(r, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", NULL),
			    "caf\xc3\xa9 \xf0\x9f\x98\x80");
	/* \u0000 is data: the length counts past it. */
	assert_memory_equal(decode(r, "\"a\\u0000b\"", &n), "a\0b", 3);
	assert_int_equal(n, 3);
	assert_string_equal(decode(r, "\"\"", &n), "");
	assert_int_equal(n, 0);
}

static void test_string_errors(void **state)
{
	struct pw_json_reader *r = *state;

	expect_error(r, "\"abc", 1, "unterminated string");
	expect_error(r, "\"a\\x\"", 3, "invalid escape");
	expect_error(r, "\"a\tb\"", 3, "control character 0x09");
	expect_error(r, "\"ab\\u12g4\"", 8, "hex digit");
	expect_error(r, "\"\\udc00\"", 2, "lone low surrogate");
	expect_error(r, "\"x\\ud800\"", 3, "not followed by a low surrogate");
	expect_error(r, "\"\\ud800\\u0041\"", 2, "not followed by a low surrogate");
	expect_error(r, "\"\\ud800\\n\"", 2, "not followed by a low surrogate");
	expect_error(r, "\"ab\xff\"", 4, "invalid UTF-8");
	expect_error(r, "\"\xc0\xaf\"", 2, "invalid UTF-8");          /* overlong '/' */
	expect_error(r, "\"\xed\xa0\x80\"", 2, "invalid UTF-8");      /* encoded surrogate */
	expect_error(r, "\"\xe2\x82\"", 2, "invalid UTF-8");          /* truncated */
}

static void test_syntax_errors(void **state)
{
	struct pw_json_reader *r = *state;

	expect_error(r, "", 1, "empty input");
	expect_error(r, "   ", 4, "empty input");
	expect_error(r, "{\"a\":1,}", 8, "expected a member name");
	expect_error(r, "[1,]", 4, "expected a value");
	expect_error(r, "[1 2]", 4, "expected ',' or ']'");
	expect_error(r, "{\"a\" 1}", 6, "expected ':'");
	expect_error(r, "{\"a\":1 \"b\":2}", 8, "expected ',' or '}'");
	expect_error(r, "{a:1}", 2, "expected a member name");
	expect_error(r, "{\"a\":1}x", 8, "expected end of input");
	expect_error(r, "{\"a\":1}{}", 8, "expected end of input");
	expect_error(r, "{\"a\":1,\"a\":2}", 8, "duplicate member name \"a\"");
	/* The name is quoted with its control characters made harmless. */
	expect_error(r, "{\"a\\nb\\u001b\":1,\"a\\nb\\u001b\":2}", 17, "duplicate member name \"a?b?\"");
	expect_error(r, "{\"a\":", 6, "unexpected end of input");
	expect_error(r, "[", 2, "unexpected end of input");
	expect_error(r, "tru", 1, "expected true");
	expect_error(r, "nul", 1, "expected null");
	expect_error(r, "True", 1, "unexpected 'T'");
	expect_error(r, "01", 1, "leading zero");
	expect_error(r, "-", 2, "expected a digit");
	expect_error(r, "1.", 3, "digit after '.'");
	expect_error(r, ".5", 1, "unexpected '.'");
	expect_error(r, "1e+", 4, "digit in the exponent");
	expect_error(r, "+1", 1, "unexpected '+'");
	expect_error(r, "[1]\x01", 4, "byte 0x01");
	expect_error(r, "// c\n1", 1, "unexpected '/'");
	expect_error(r, "NaN", 1, "unexpected 'N'");
}

static void test_not_nul_terminated(void **state)
{
	struct pw_json_reader *r = *state;
	const char text[] = { '[', '1', '2', ']', '9', '9' };

	/* Only the first len bytes count, and no byte after them is read. */
	assert_int_equal(pw_json_read(r, text, 4), 0);
	assert_int_equal(pw_jval_first(r, pw_json_root(r))->i, 12);
	assert_int_equal(pw_json_read(r, text, 2), 0 - EINVAL);
	assert_int_equal(pw_json_read(r, text + 1, 2), 0);
	assert_int_equal(pw_json_root(r)->i, 12);
}

static void test_depth_limit(void **state)
{
	struct pw_json_reader limited;
	char deep[64];
	(void)state;

	pw_json_reader_init(&limited, 3);
	assert_int_equal(pw_json_read(&limited, "[[[1]]]", 7), 0);
	assert_int_equal(pw_json_read(&limited, "{\"a\":[{\"b\":1}]}", 15), 0);
	assert_int_equal(pw_json_read(&limited, "[[[[1]]]]", 9), -EINVAL);
	assert_int_equal(limited.error_column, 4);
	assert_string_equal(limited.error, "nesting deeper than 3");
	assert_int_equal(pw_json_read(&limited, "{\"a\":{\"b\":{\"c\":{}}}}", 20), -EINVAL);
	assert_int_equal(limited.error_column, 16);
	pw_json_reader_free(&limited);

	/* The default limit stops hostile nesting long before the stack would. */
	pw_json_reader_init(&limited, 0);
	memset(deep, '[', sizeof(deep));
	assert_int_equal(pw_json_read(&limited, deep, sizeof(deep)), -EINVAL);
	assert_int_equal(limited.error_column, PW_JSON_READER_DEFAULT_DEPTH + 1);
	pw_json_reader_free(&limited);
}

/* A failed line leaves no stale result, and the reader goes on. */
static void test_reuse(void **state)
{
	struct pw_json_reader *r = *state;
	char big[4096];
	size_t i, n = 0;

	n += (size_t)snprintf(big, sizeof(big), "[");
	for (i = 0; i < 500; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"s%zu\"", i ? "," : "", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "]");
	assert_int_equal(pw_json_read(r, big, n), 0);
	assert_int_equal(pw_json_root(r)->count, 500);
	assert_int_equal(read_str(r, "[1,"), -EINVAL);
	assert_null(pw_json_root(r));
	assert_int_equal(read_str(r, "{\"k\":\"v\"}"), 0);
	assert_string_equal(pw_jval_string(r, pw_jval_member(r, pw_json_root(r), "k"), NULL), "v");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_event_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scalars_at_top, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_nul_terminated, setup, teardown),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
