/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `portwarden report [--json|--html] [--top N] FILE...`: read recorded event
 * lines (plain or gzip, "-" for standard input) and print the audit summary. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "report.h"

#define EXIT_USAGE 2
#define MAX_LINE (1u << 20) /* longer lines are counted as malformed, not kept */
#define CHUNK (128u << 10)
#define DEFAULT_TOP 10

enum report_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_HTML };

struct report_args {
	enum report_format format;
	struct pw_report_view view;
	char **files;
	int nfiles;
	bool help;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: portwarden report [--json | --html] [--top N] FILE...\n"
		"Summarise recorded event lines (portwarden --json output, plain or gzip;\n"
		"- reads standard input): open ports, listeners, alerts, busiest remote\n"
		"ports and peers, connect failures, loss.\n"
		"\n"
		"      --text      aligned text tables (the default)\n"
		"  -j, --json      one JSON object\n"
		"      --html      a self-contained HTML page (tables and bar charts)\n"
		"      --top N     rows of the busiest-of tables in text and HTML (default %d,\n"
		"                  0 = all); JSON always has every row\n"
		"  -h, --help      this text\n",
		DEFAULT_TOP);
}

static int parse_args(struct report_args *a, int argc, char **argv, char *err, size_t err_len)
{
	static const struct option longopts[] = {
		{ "text", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "html", no_argument, NULL, 'H' },
		{ "top", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool format_set = false;
	enum report_format format;
	unsigned long top;
	char *end;
	int opt;

	memset(a, 0, sizeof(*a));
	a->view.top = DEFAULT_TOP;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
		case 'j':
		case 'H':
			format = opt == 't' ? FORMAT_TEXT : opt == 'j' ? FORMAT_JSON : FORMAT_HTML;
			if (format_set && format != a->format) {
				snprintf(err, err_len, "choose one of --text, --json and --html");
				return -EINVAL;
			}
			a->format = format;
			format_set = true;
			break;
		case 'n':
			errno = 0;
			top = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || top > 1000000) {
				snprintf(err, err_len, "--top: '%s' is not a number from 0 to 1000000",
					 optarg);
				return -EINVAL;
			}
			a->view.top = top;
			break;
		case 'h':
			a->help = true;
			return 0;
		case ':':
			snprintf(err, err_len, "%s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, err_len, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	a->files = argv + optind;
	a->nfiles = argc - optind;
	if (!a->nfiles) {
		snprintf(err, err_len, "no input files (use - for standard input)");
		return -EINVAL;
	}
	return 0;
}

/* Lines of one file, split on '\n'; a line over MAX_LINE is skipped to
 * its end and counted as malformed. */
struct line_splitter {
	struct pw_report *report;
	const char *name;
	struct pw_buf pending; /* start of a line whose end is in a later chunk */
	bool too_long;
	uint64_t line_no;
};

static int end_line(struct line_splitter *s, const char *tail, size_t n)
{
	char message[64];
	int err;

	s->line_no++;
	if (s->too_long || s->pending.len + n > MAX_LINE) {
		snprintf(message, sizeof(message), "line longer than %u bytes", MAX_LINE);
		err = pw_report_add_bad_line(s->report, s->name, s->line_no, message);
	} else if (s->pending.len) {
		err = pw_buf_append(&s->pending, tail, n) ?:
		      pw_report_add_line(s->report, s->name, s->line_no, s->pending.data,
					 s->pending.len);
	} else {
		err = pw_report_add_line(s->report, s->name, s->line_no, tail, n);
	}
	pw_buf_reset(&s->pending);
	s->too_long = false;
	return err;
}

static int split_chunk(struct line_splitter *s, const char *p, size_t n)
{
	const char *nl;
	int err;

	while ((nl = memchr(p, '\n', n))) {
		err = end_line(s, p, (size_t)(nl - p));
		if (err)
			return err;
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	if (!n || s->too_long)
		return 0;
	if (s->pending.len + n > MAX_LINE) {
		s->too_long = true;
		pw_buf_reset(&s->pending);
		return 0;
	}
	return pw_buf_append(&s->pending, p, n);
}

/* Read one file into the report. Returns 0 (read errors are recorded in
 * the report and set *read_failed) or -ENOMEM. */
static int read_file(struct pw_report *r, const char *path, bool *read_failed)
{
	struct line_splitter s = { .report = r, .name = strcmp(path, "-") ? path : "<stdin>" };
	char error[160] = "";
	const char *format = "unknown", *msg;
	char *chunk = NULL;
	gzFile gz = NULL;
	int n, fd, zerr, err = 0;

	pw_buf_init(&s.pending);
	if (!strcmp(path, "-")) {
		fd = dup(STDIN_FILENO);
		gz = fd < 0 ? NULL : gzdopen(fd, "rb");
		if (!gz && fd >= 0)
			close(fd);
	} else {
		gz = gzopen(path, "rb");
	}
	if (!gz) {
		snprintf(error, sizeof(error), "%s", errno ? strerror(errno) : "cannot open");
		goto done;
	}
	chunk = malloc(CHUNK);
	if (!chunk || gzbuffer(gz, CHUNK)) {
		err = -ENOMEM;
		goto done;
	}
	/* zlib decides by the gzip magic bytes and reads other files as they are. */
	while ((n = gzread(gz, chunk, CHUNK)) > 0) {
		err = split_chunk(&s, chunk, (size_t)n);
		if (err)
			goto done;
	}
	format = gzdirect(gz) ? "plain" : "gzip";
	msg = gzerror(gz, &zerr);
	if (n < 0 || (zerr != Z_OK && zerr != Z_STREAM_END))
		snprintf(error, sizeof(error), "%s",
			 zerr == Z_ERRNO ? strerror(errno) : msg ? msg : "read error");
	/* The last line may lack its newline (or be cut by the error). */
	if (s.pending.len || s.too_long)
		err = end_line(&s, "", 0);
done:
	if (gz)
		gzclose(gz);
	free(chunk);
	pw_buf_free(&s.pending);
	if (error[0]) {
		*read_failed = true;
		fprintf(stderr, "portwarden report: %s: %s\n", s.name, error);
	}
	if (!err)
		err = pw_report_add_file(r, s.name, format, s.line_no, error[0] ? error : NULL);
	return err;
}

static int write_all(const char *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n || fflush(stdout))
		return -errno;
	return 0;
}

int pw_report_main(int argc, char **argv)
{
	struct report_args args;
	struct pw_report report;
	struct pw_buf out;
	bool read_failed = false;
	char err[256];
	int i, code, exit_code = 1;

	pw_buf_init(&out);
	pw_report_init(&report);
	if (parse_args(&args, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "portwarden report: %s\n", err);
		usage(stderr);
		exit_code = EXIT_USAGE;
		goto cleanup;
	}
	if (args.help) {
		usage(stdout);
		exit_code = 0;
		goto cleanup;
	}
	for (i = 0; i < args.nfiles; i++) {
		code = read_file(&report, args.files[i], &read_failed);
		if (code)
			goto out_of_memory;
	}
	code = pw_report_finish(&report);
	if (code)
		goto out_of_memory;
	if (args.format == FORMAT_JSON)
		code = pw_report_render_json(&report, &out);
	else if (args.format == FORMAT_HTML)
		code = pw_report_render_html(&report, &args.view, &out);
	else
		code = pw_report_render_text(&report, &args.view, &out);
	if (code)
		goto out_of_memory;
	code = write_all(out.data, out.len);
	if (code) {
		fprintf(stderr, "portwarden report: cannot write the report: %s\n", strerror(-code));
		goto cleanup;
	}
	if (report.malformed) {
		const struct pw_report_malformed *m = &report.kept[0];

		fprintf(stderr, "portwarden report: %" PRIu64 " malformed line%s, the first at %s:%" PRIu64,
			report.malformed, report.malformed == 1 ? "" : "s", m->file, m->line);
		if (m->column)
			fprintf(stderr, ":%zu", m->column);
		fprintf(stderr, ": %s\n", m->message);
	}
	exit_code = read_failed ? 1 : 0;
	goto cleanup;

out_of_memory:
	fprintf(stderr, "portwarden report: out of memory\n");
cleanup:
	pw_report_free(&report);
	pw_buf_free(&out);
	return exit_code;
}
