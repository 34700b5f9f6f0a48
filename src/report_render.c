/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The views of `portwarden report`: aligned text tables, one JSON object,
 * or one self-contained HTML page (inline CSS and SVG, nothing fetched). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_writer.h"
#include "report.h"

/* Tables in the order the views show them. */
static const enum pw_report_table_id shown_tables[] = {
	PW_TABLE_OPEN_BY_CATEGORY, PW_TABLE_OPEN_BY_SERVICE, PW_TABLE_OPEN_PORTS,
	PW_TABLE_LISTENERS,        PW_TABLE_ALERTS,          PW_TABLE_REMOTE_PORTS,
	PW_TABLE_PEERS,            PW_TABLE_CONNECT_FAILURES, PW_TABLE_LOSS,
	PW_TABLE_EVENTS,           PW_TABLE_HOSTS,
};

#define N_SHOWN (sizeof(shown_tables) / sizeof(shown_tables[0]))
#define TEXT_CELL_MAX 60 /* characters of one text cell before it is cut */
#define CHART_ROWS_MAX 15

static size_t rows_shown(const struct pw_report_table *t, const struct pw_report_view *v)
{
	if (t->spec->top_only && v->top && v->top < t->nrows)
		return v->top;
	return t->nrows;
}

static void format_span(char *out, size_t len, uint64_t ns)
{
	uint64_t s = ns / 1000000000ull, ms = ns % 1000000000ull / 1000000ull;

	if (s >= 86400)
		snprintf(out, len, "%" PRIu64 "d %02" PRIu64 "h %02" PRIu64 "m %02" PRIu64 "s",
			 s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
	else if (s >= 3600)
		snprintf(out, len, "%" PRIu64 "h %02" PRIu64 "m %02" PRIu64 "s", s / 3600,
			 s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(out, len, "%" PRIu64 "m %02" PRIu64 ".%03" PRIu64 "s", s / 60, s % 60, ms);
	else
		snprintf(out, len, "%" PRIu64 ".%03" PRIu64 "s", s, ms);
}

/* Text ---------------------------------------------------------------------- */

/* Walk s as a terminal cell: every control character (C0, DEL, C1) and
 * every byte outside valid UTF-8 becomes a visible \xNN escape, so recorded
 * names cannot move the cursor or recolour the screen. Writes to out unless
 * out is NULL; stops after limit characters. Returns the characters walked. */
static size_t walk_text_cell(struct pw_buf *out, const char *s, size_t limit)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, width = 0, len;
	uint32_t cp;

	while (i < n) {
		len = pw_utf8_decode(p + i, n - i, &cp);
		if (!len || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
			if (width + 4 > limit)
				break;
			if (out)
				pw_buf_printf(out, "\\x%02x", len ? (unsigned int)cp : p[i]);
			width += 4;
			i += len ? len : 1;
			continue;
		}
		if (width + 1 > limit)
			break;
		if (out)
			pw_buf_append(out, s + i, len);
		width++;
		i += len;
	}
	return width;
}

/* Write s as a terminal cell of at most max characters ("..." marks a
 * cut); returns its width. */
static size_t put_text_cell(struct pw_buf *out, const char *s, size_t max)
{
	size_t w = walk_text_cell(NULL, s, SIZE_MAX);

	if (w <= max)
		return walk_text_cell(out, s, max);
	w = walk_text_cell(out, s, max - 3);
	pw_buf_puts(out, "...");
	return w + 3;
}

/* Width in characters of a cell as put_text_cell writes it. */
static size_t text_cell_width(const char *s)
{
	size_t w = walk_text_cell(NULL, s, SIZE_MAX);

	return w <= TEXT_CELL_MAX ? w : walk_text_cell(NULL, s, TEXT_CELL_MAX - 3) + 3;
}

static void cell_string(const struct pw_report_table_spec *spec, const struct pw_report_row *row,
			unsigned int col, char *num, size_t num_len, const char **s)
{
	if (col >= spec->nfields) {
		snprintf(num, num_len, "%" PRIu64, row->counts[col - spec->nfields]);
		*s = num;
	} else if (!row->fields[col].known) {
		*s = "-";
	} else if (spec->field_types[col] == PW_FIELD_INT) {
		snprintf(num, num_len, "%" PRId64, row->fields[col].i);
		*s = num;
	} else {
		*s = row->fields[col].s;
	}
}

static bool column_is_number(const struct pw_report_table_spec *spec, unsigned int col)
{
	return col >= spec->nfields || spec->field_types[col] == PW_FIELD_INT;
}

static void put_padding(struct pw_buf *out, size_t n)
{
	while (n--)
		pw_buf_putc(out, ' ');
}

static void put_upper(struct pw_buf *out, const char *s)
{
	for (; *s; s++)
		pw_buf_putc(out, (char)(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s));
}

static int text_table(struct pw_buf *out, const struct pw_report_table *t,
		      const struct pw_report_view *v)
{
	const struct pw_report_table_spec *spec = t->spec;
	unsigned int ncols = spec->nfields + spec->ncounts, c;
	size_t widths[PW_REPORT_MAX_FIELDS + PW_REPORT_MAX_COUNTS];
	size_t shown = rows_shown(t, v), i, w;
	char num[32];
	const char *s;

	pw_buf_printf(out, "\n%s\n", spec->title);
	if (!t->nrows) {
		pw_buf_puts(out, "  (none)\n");
		return out->failed ? -ENOMEM : 0;
	}
	for (c = 0; c < ncols; c++)
		widths[c] = strlen(c < spec->nfields ? spec->field_names[c]
						     : spec->count_names[c - spec->nfields]);
	for (i = 0; i < shown; i++) {
		for (c = 0; c < ncols; c++) {
			cell_string(spec, &t->rows[i], c, num, sizeof(num), &s);
			w = text_cell_width(s);
			if (w > widths[c])
				widths[c] = w;
		}
	}
	pw_buf_puts(out, "  ");
	for (c = 0; c < ncols; c++) {
		const char *name = c < spec->nfields ? spec->field_names[c]
						    : spec->count_names[c - spec->nfields];

		if (column_is_number(spec, c))
			put_padding(out, widths[c] - strlen(name));
		put_upper(out, name);
		if (c + 1 < ncols)
			put_padding(out, (column_is_number(spec, c) ? 0 : widths[c] - strlen(name)) + 2);
	}
	pw_buf_putc(out, '\n');
	for (i = 0; i < shown; i++) {
		pw_buf_puts(out, "  ");
		for (c = 0; c < ncols; c++) {
			cell_string(spec, &t->rows[i], c, num, sizeof(num), &s);
			w = text_cell_width(s);
			if (column_is_number(spec, c))
				put_padding(out, widths[c] - w);
			put_text_cell(out, s, TEXT_CELL_MAX);
			if (c + 1 < ncols)
				put_padding(out, (column_is_number(spec, c) ? 0 : widths[c] - w) + 2);
		}
		pw_buf_putc(out, '\n');
	}
	if (shown < t->nrows)
		pw_buf_printf(out, "  ... %zu more (--top 0 shows all)\n", t->nrows - shown);
	return out->failed ? -ENOMEM : 0;
}

int pw_report_render_text(const struct pw_report *r, const struct pw_report_view *v,
			  struct pw_buf *out)
{
	char span[64];
	size_t i;
	int err;

	pw_buf_puts(out, "portwarden report\n");
	for (i = 0; i < r->nfiles; i++) {
		pw_buf_printf(out, "  %-12s", i ? "" : "files:");
		put_text_cell(out, r->files[i].name, 200);
		pw_buf_printf(out, " (%s, %" PRIu64 " lines", r->files[i].format, r->files[i].lines);
		if (r->files[i].error) {
			pw_buf_puts(out, "; read error: ");
			put_text_cell(out, r->files[i].error, 200);
		}
		pw_buf_puts(out, ")\n");
	}
	pw_buf_printf(out, "  %-12s%" PRIu64 " events in %" PRIu64 " lines (%" PRIu64
			   " malformed, %" PRIu64 " blank)\n",
		      "events:", r->events, r->lines, r->malformed, r->blank_lines);
	if (r->have_time) {
		format_span(span, sizeof(span), r->last_ns - r->first_ns);
		pw_buf_printf(out, "  %-12s", "time span:");
		put_text_cell(out, r->first_time, 60);
		pw_buf_puts(out, " to ");
		put_text_cell(out, r->last_time, 60);
		pw_buf_printf(out, " (%s)\n", span);
	}
	pw_buf_printf(out, "  %-12s%" PRIu64 " events lost in the kernel\n", "loss:", r->lost);

	for (i = 0; i < N_SHOWN; i++) {
		err = text_table(out, &r->tables[shown_tables[i]], v);
		if (err)
			return err;
	}
	if (r->malformed) {
		uint64_t kept = r->malformed < PW_REPORT_KEPT_ERRORS ? r->malformed
								    : PW_REPORT_KEPT_ERRORS;

		pw_buf_printf(out, "\nMalformed lines (%" PRIu64 ", first %" PRIu64 " shown)\n",
			      r->malformed, kept);
		for (i = 0; i < kept; i++) {
			const struct pw_report_malformed *m = &r->kept[i];

			pw_buf_puts(out, "  ");
			put_text_cell(out, m->file, 200);
			pw_buf_printf(out, ":%" PRIu64, m->line);
			if (m->column)
				pw_buf_printf(out, ":%zu", m->column);
			pw_buf_puts(out, ": ");
			put_text_cell(out, m->message, 200);
			pw_buf_putc(out, '\n');
		}
	}
	return out->failed ? -ENOMEM : 0;
}

/* JSON ---------------------------------------------------------------------- */

static void json_table(struct pw_json *j, const struct pw_report_table *t)
{
	const struct pw_report_table_spec *spec = t->spec;
	unsigned int c;
	size_t i;

	pw_json_key(j, spec->name);
	pw_json_array_begin(j);
	for (i = 0; i < t->nrows; i++) {
		const struct pw_report_row *row = &t->rows[i];

		pw_json_object_begin(j);
		for (c = 0; c < spec->nfields; c++) {
			pw_json_key(j, spec->field_names[c]);
			if (!row->fields[c].known)
				pw_json_null(j);
			else if (spec->field_types[c] == PW_FIELD_INT)
				pw_json_int(j, row->fields[c].i);
			else
				pw_json_string(j, row->fields[c].s);
		}
		for (c = 0; c < spec->ncounts; c++)
			pw_json_kv_uint(j, spec->count_names[c], row->counts[c]);
		pw_json_object_end(j);
	}
	pw_json_array_end(j);
}

int pw_report_render_json(const struct pw_report *r, struct pw_buf *out)
{
	struct pw_json j;
	size_t i;
	int err;

	pw_json_init(&j, out);
	pw_json_object_begin(&j);
	pw_json_kv_uint(&j, "report_version", PW_REPORT_VERSION);
	pw_json_key(&j, "files");
	pw_json_array_begin(&j);
	for (i = 0; i < r->nfiles; i++) {
		pw_json_object_begin(&j);
		pw_json_kv_string(&j, "name", r->files[i].name);
		pw_json_kv_string(&j, "format", r->files[i].format);
		pw_json_kv_uint(&j, "lines", r->files[i].lines);
		pw_json_kv_string(&j, "error", r->files[i].error);
		pw_json_object_end(&j);
	}
	pw_json_array_end(&j);
	pw_json_kv_uint(&j, "lines", r->lines);
	pw_json_kv_uint(&j, "blank_lines", r->blank_lines);
	pw_json_kv_uint(&j, "events", r->events);
	pw_json_key(&j, "malformed");
	pw_json_object_begin(&j);
	pw_json_kv_uint(&j, "count", r->malformed);
	pw_json_key(&j, "first");
	pw_json_array_begin(&j);
	for (i = 0; i < r->malformed && i < PW_REPORT_KEPT_ERRORS; i++) {
		pw_json_object_begin(&j);
		pw_json_kv_string(&j, "file", r->kept[i].file);
		pw_json_kv_uint(&j, "line", r->kept[i].line);
		if (r->kept[i].column)
			pw_json_kv_uint(&j, "column", r->kept[i].column);
		else
			pw_json_kv_null(&j, "column");
		pw_json_kv_string(&j, "error", r->kept[i].message);
		pw_json_object_end(&j);
	}
	pw_json_array_end(&j);
	pw_json_object_end(&j);
	pw_json_key(&j, "time");
	pw_json_object_begin(&j);
	pw_json_kv_string(&j, "first", r->have_time ? r->first_time : NULL);
	pw_json_kv_string(&j, "last", r->have_time ? r->last_time : NULL);
	pw_json_kv_uint(&j, "span_ns", r->have_time ? r->last_ns - r->first_ns : 0);
	pw_json_object_end(&j);
	pw_json_kv_uint(&j, "lost", r->lost);
	for (i = 0; i < N_SHOWN; i++)
		json_table(&j, &r->tables[shown_tables[i]]);
	pw_json_object_end(&j);
	err = pw_json_status(&j);
	return err ?: pw_buf_putc(out, '\n');
}

/* HTML ---------------------------------------------------------------------- */

/* Append s as HTML text or attribute content: markup characters become
 * entities and control characters U+FFFD, so nothing recorded can become
 * markup or script. The strings are valid UTF-8 (the reader checked). */
static void put_html(struct pw_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, len;
	uint32_t cp;

	while (i < n) {
		len = pw_utf8_decode(p + i, n - i, &cp);
		if (!len) {
			pw_buf_puts(out, "&#xFFFD;");
			i++;
			continue;
		}
		switch (cp) {
		case '&': pw_buf_puts(out, "&amp;"); break;
		case '<': pw_buf_puts(out, "&lt;"); break;
		case '>': pw_buf_puts(out, "&gt;"); break;
		case '"': pw_buf_puts(out, "&quot;"); break;
		case '\'': pw_buf_puts(out, "&#39;"); break;
		default:
			if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
				pw_buf_puts(out, "&#xFFFD;");
			else
				pw_buf_append(out, s + i, len);
		}
		i += len;
	}
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	/* Nothing may be fetched or run: the page is data, not an application. */
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"style-src 'unsafe-inline'\">\n"
	"<title>portwarden report</title>\n<style>\n"
	"body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px 32px;"
	"color:#1f2933;background:#f7f9fb}\n"
	"h1{font-size:26px;margin:0 0 12px;color:#0b4f6c}\n"
	"h2{font-size:18px;margin:28px 0 8px;color:#0b4f6c;border-bottom:2px solid #c7d8e2;"
	"padding-bottom:4px}\n"
	"dl.summary{display:grid;grid-template-columns:max-content auto;gap:4px 16px;"
	"background:#fff;padding:12px 16px;border-radius:6px;border:1px solid #d9e2ec}\n"
	"dl.summary dt{font-weight:600}dl.summary dd{margin:0}\n"
	"table{border-collapse:collapse;background:#fff;margin:6px 0;font-size:13px}\n"
	"th{background:#0b4f6c;color:#fff;text-align:left;padding:5px 10px}\n"
	"td{padding:4px 10px;border-bottom:1px solid #e4e7eb;white-space:nowrap}\n"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	"tr:nth-child(even) td{background:#f0f4f8}\n"
	"p.none,p.more{color:#52606d;font-style:italic}\n"
	"svg.chart{display:block;background:#fff;border:1px solid #d9e2ec;border-radius:6px;"
	"margin:6px 0}\n"
	"svg.chart text{font-size:12px;fill:#1f2933}\n"
	".bad{color:#b42318}\n"
	"div.scroll{overflow-x:auto;max-width:100%}\n"
	"</style>\n</head>\n<body>\n";

static const char *const bar_colors[] = { "#2f80ed", "#27ae60", "#f2994a", "#9b51e0",
					  "#eb5757", "#00a5b8", "#f2c94c", "#6d8299" };

/* The label of a chart bar: the row's key fields joined. */
static void put_row_label(struct pw_buf *out, const struct pw_report_table_spec *spec,
			  const struct pw_report_row *row)
{
	struct pw_buf label;
	unsigned int f;
	char num[32];
	const char *s;

	pw_buf_init(&label);
	for (f = 0; f < spec->keys && f < 3; f++) {
		cell_string(spec, row, f, num, sizeof(num), &s);
		if (f)
			pw_buf_putc(&label, ' ');
		pw_buf_puts(&label, s);
	}
	if (label.len > 40) {
		/* Cut on a character boundary. */
		size_t cut = 37;

		while (cut && ((unsigned char)label.data[cut] & 0xc0) == 0x80)
			cut--;
		label.len = cut;
		label.data[cut] = '\0';
		pw_buf_puts(&label, "...");
	}
	put_html(out, label.data ? label.data : "");
	if (label.failed)
		out->failed = true;
	pw_buf_free(&label);
}

static void html_chart(struct pw_buf *out, const struct pw_report_table *t,
		       const struct pw_report_view *v)
{
	const struct pw_report_table_spec *spec = t->spec;
	const unsigned int row_h = 24, label_w = 300, bar_w = 420, top = 10;
	size_t n = rows_shown(t, v), i;
	uint64_t max = 0;

	if (spec->chart_count < 0 || !t->nrows)
		return;
	if (n > CHART_ROWS_MAX)
		n = CHART_ROWS_MAX;
	for (i = 0; i < n; i++)
		if (t->rows[i].counts[spec->chart_count] > max)
			max = t->rows[i].counts[spec->chart_count];
	if (!max)
		return;
	pw_buf_printf(out,
		      "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" "
		      "height=\"%zu\" role=\"img\" aria-label=\"%s by %s\">\n",
		      label_w + bar_w + 80, top * 2 + n * row_h, spec->title,
		      spec->count_names[spec->chart_count]);
	for (i = 0; i < n; i++) {
		uint64_t value = t->rows[i].counts[spec->chart_count];
		unsigned int y = top + (unsigned int)i * row_h;
		unsigned int w = (unsigned int)((value * bar_w + max - 1) / max);

		pw_buf_printf(out, "<text x=\"%u\" y=\"%u\" text-anchor=\"end\">", label_w - 8,
			      y + 16);
		put_row_label(out, spec, &t->rows[i]);
		pw_buf_printf(out,
			      "</text><rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" rx=\"3\" "
			      "fill=\"%s\"/><text x=\"%u\" y=\"%u\">%" PRIu64 "</text>\n",
			      label_w, y + 3, w, row_h - 6,
			      bar_colors[i % (sizeof(bar_colors) / sizeof(bar_colors[0]))],
			      label_w + w + 6, y + 16, value);
	}
	pw_buf_puts(out, "</svg>\n");
}

static void html_table(struct pw_buf *out, const struct pw_report_table *t,
		       const struct pw_report_view *v)
{
	const struct pw_report_table_spec *spec = t->spec;
	unsigned int ncols = spec->nfields + spec->ncounts, c;
	size_t shown = rows_shown(t, v), i;
	char num[32];
	const char *s;

	pw_buf_printf(out, "<section id=\"%s\">\n<h2>", spec->name);
	put_html(out, spec->title);
	pw_buf_puts(out, "</h2>\n");
	if (!t->nrows) {
		pw_buf_puts(out, "<p class=\"none\">None.</p>\n</section>\n");
		return;
	}
	html_chart(out, t, v);
	pw_buf_puts(out, "<div class=\"scroll\"><table>\n<thead><tr>");
	for (c = 0; c < ncols; c++)
		pw_buf_printf(out, "<th%s>%s</th>", column_is_number(spec, c) ? " class=\"n\"" : "",
			      c < spec->nfields ? spec->field_names[c]
						: spec->count_names[c - spec->nfields]);
	pw_buf_puts(out, "</tr></thead>\n<tbody>\n");
	for (i = 0; i < shown; i++) {
		pw_buf_puts(out, "<tr>");
		for (c = 0; c < ncols; c++) {
			cell_string(spec, &t->rows[i], c, num, sizeof(num), &s);
			pw_buf_puts(out, column_is_number(spec, c) ? "<td class=\"n\">" : "<td>");
			put_html(out, s);
			pw_buf_puts(out, "</td>");
		}
		pw_buf_puts(out, "</tr>\n");
	}
	pw_buf_puts(out, "</tbody>\n</table></div>\n");
	if (shown < t->nrows)
		pw_buf_printf(out, "<p class=\"more\">%zu more not shown.</p>\n", t->nrows - shown);
	pw_buf_puts(out, "</section>\n");
}

static void html_summary(struct pw_buf *out, const struct pw_report *r)
{
	char span[64];
	size_t i;

	pw_buf_puts(out, "<h1>portwarden report</h1>\n<dl class=\"summary\">\n<dt>Files</dt><dd>");
	for (i = 0; i < r->nfiles; i++) {
		if (i)
			pw_buf_puts(out, "<br>");
		put_html(out, r->files[i].name);
		pw_buf_printf(out, " (%s, %" PRIu64 " lines)", r->files[i].format, r->files[i].lines);
		if (r->files[i].error) {
			pw_buf_puts(out, " <span class=\"bad\">read error: ");
			put_html(out, r->files[i].error);
			pw_buf_puts(out, "</span>");
		}
	}
	pw_buf_printf(out, "</dd>\n<dt>Events</dt><dd>%" PRIu64 " in %" PRIu64 " lines (%" PRIu64
			   " malformed, %" PRIu64 " blank)</dd>\n",
		      r->events, r->lines, r->malformed, r->blank_lines);
	if (r->have_time) {
		format_span(span, sizeof(span), r->last_ns - r->first_ns);
		pw_buf_puts(out, "<dt>Time span</dt><dd>");
		put_html(out, r->first_time);
		pw_buf_puts(out, " to ");
		put_html(out, r->last_time);
		pw_buf_printf(out, " (%s)</dd>\n", span);
	}
	pw_buf_printf(out, "<dt>Lost in the kernel</dt><dd%s>%" PRIu64 " events</dd>\n</dl>\n",
		      r->lost ? " class=\"bad\"" : "", r->lost);
}

static void html_malformed(struct pw_buf *out, const struct pw_report *r)
{
	size_t i;

	if (!r->malformed)
		return;
	pw_buf_printf(out, "<section id=\"malformed\">\n<h2>Malformed lines (%" PRIu64 ")</h2>\n<ul>\n",
		      r->malformed);
	for (i = 0; i < r->malformed && i < PW_REPORT_KEPT_ERRORS; i++) {
		pw_buf_puts(out, "<li><code>");
		put_html(out, r->kept[i].file);
		pw_buf_printf(out, ":%" PRIu64, r->kept[i].line);
		if (r->kept[i].column)
			pw_buf_printf(out, ":%zu", r->kept[i].column);
		pw_buf_puts(out, "</code> ");
		put_html(out, r->kept[i].message);
		pw_buf_puts(out, "</li>\n");
	}
	pw_buf_puts(out, "</ul>\n</section>\n");
}

int pw_report_render_html(const struct pw_report *r, const struct pw_report_view *v,
			  struct pw_buf *out)
{
	size_t i;

	pw_buf_puts(out, html_head);
	html_summary(out, r);
	for (i = 0; i < N_SHOWN; i++)
		html_table(out, &r->tables[shown_tables[i]], v);
	html_malformed(out, r);
	pw_buf_puts(out, "</body>\n</html>\n");
	return out->failed ? -ENOMEM : 0;
}
