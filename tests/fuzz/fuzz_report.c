/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Fuzz target: the report reader. Recorded event lines are read back by
 * `portwarden report`, and whoever could write to that file (or name a
 * process) chooses their bytes: the strict JSON reader gets the input as
 * one value, then the report gets it line by line and renders all three
 * views. The JSON view must parse strictly, the text view must hold no
 * control characters, and the HTML view no script of the input's making. */
#include <errno.h>
#include "fuzz_common.h"
#include "report.h"

static size_t count_substr(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle), count = 0, i;

	for (i = 0; i + n <= len; i++)
		if (strncasecmp(s + i, needle, n) == 0)
			count++;
	return count;
}

/* Visit every node the reader built, through the public accessors. */
static void walk(const struct pw_json_reader *r, const struct pw_jval *v, unsigned int depth)
{
	const struct pw_jval *c;
	size_t len, count = 0;
	const char *s;

	FUZZ_CHECK(depth <= PW_JSON_READER_DEFAULT_DEPTH + 1);
	if (v->type == PW_JVAL_STRING) {
		s = pw_jval_string(r, v, &len);
		FUZZ_CHECK(s && s[len] == '\0');
	}
	if (v->is_member) {
		s = pw_jval_key(r, v, &len);
		FUZZ_CHECK(s && s[len] == '\0');
	}
	for (c = pw_jval_first(r, v); c; c = pw_jval_next(r, c)) {
		walk(r, c, depth + 1);
		count++;
	}
	if (v->type == PW_JVAL_ARRAY || v->type == PW_JVAL_OBJECT)
		FUZZ_CHECK(count == v->count);
}

static void check_text_view(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		FUZZ_CHECK(c == '\n' || (c >= 0x20 && c != 0x7f));
		if (c == 0xc2 && i + 1 < len)
			FUZZ_CHECK((unsigned char)s[i + 1] < 0x80 || (unsigned char)s[i + 1] > 0x9f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pw_json_reader reader;
	static size_t base_scripts = (size_t)-1;
	struct pw_report_view view = { .top = 5 };
	const char *text = (const char *)data;
	struct pw_report report;
	size_t start, end, line_no = 0;
	struct pw_buf out;

	if (base_scripts == (size_t)-1) {
		/* The page's own scripts, from a report of nothing. */
		pw_json_reader_init(&reader, 0);
		FUZZ_CHECK(pw_report_init(&report) == 0);
		FUZZ_CHECK(pw_report_finish(&report) == 0);
		pw_buf_init(&out);
		FUZZ_CHECK(pw_report_render_html(&report, &view, &out) == 0);
		base_scripts = count_substr(out.data, out.len, "<script");
		pw_buf_free(&out);
		pw_report_free(&report);
	}

	/* The whole input as one JSON value. */
	if (pw_json_read(&reader, text, size) == 0)
		walk(&reader, pw_json_root(&reader), 0);
	else
		FUZZ_CHECK(reader.error_column >= 1 && reader.error_column <= size + 1);

	/* The input as recorded event lines. */
	FUZZ_CHECK(pw_report_init(&report) == 0);
	for (start = 0; start < size; start = end + 1) {
		const char *nl = memchr(text + start, '\n', size - start);

		end = nl ? (size_t)(nl - text) : size;
		FUZZ_CHECK(pw_report_add_line(&report, "fuzz.ndjson", ++line_no, text + start,
					      end - start) == 0);
	}
	FUZZ_CHECK(pw_report_add_file(&report, "fuzz.ndjson", "plain", line_no, NULL) == 0);
	FUZZ_CHECK(pw_report_finish(&report) == 0);

	pw_buf_init(&out);
	FUZZ_CHECK(pw_report_render_json(&report, &out) == 0);
	FUZZ_CHECK(out.len > 0);
	/* One object, maybe followed by a newline. */
	if (pw_json_read(&reader, out.data, out.len) != 0) {
		fprintf(stderr, "report JSON does not parse (column %zu: %s)\n", reader.error_column,
			reader.error);
		abort();
	}
	pw_buf_reset(&out);
	FUZZ_CHECK(pw_report_render_text(&report, &view, &out) == 0);
	check_text_view(out.data, out.len);
	pw_buf_reset(&out);
	FUZZ_CHECK(pw_report_render_html(&report, &view, &out) == 0);
	FUZZ_CHECK(count_substr(out.data, out.len, "<script") == base_scripts);
	pw_buf_free(&out);
	pw_report_free(&report);
	return 0;
}
