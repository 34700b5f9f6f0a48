/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `portwarden report`: an audit summary of recorded event lines. report.c
 * aggregates the lines into tables; report_render.c writes them as aligned
 * text, one JSON object, or a self-contained HTML page. */
#ifndef PW_REPORT_H
#define PW_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "json_reader.h"

#define PW_REPORT_VERSION 1
#define PW_REPORT_MAX_FIELDS 12
#define PW_REPORT_MAX_COUNTS 4
/* Malformed lines kept with their position; the rest are only counted. */
#define PW_REPORT_KEPT_ERRORS 5

enum pw_report_field_type {
	PW_FIELD_STRING,
	PW_FIELD_INT,
};

/* One cell: unknown (null in JSON, "-" in text), a string or an integer. */
struct pw_report_value {
	bool known;
	int64_t i;
	char *s;
};

struct pw_report_row {
	struct pw_report_value fields[PW_REPORT_MAX_FIELDS];
	uint64_t counts[PW_REPORT_MAX_COUNTS];
};

/* The shape of a table: its first `keys` fields identify a row, the other
 * fields describe it, counts are summed. */
struct pw_report_table_spec {
	const char *name;  /* JSON member name */
	const char *title; /* heading in text and HTML */
	unsigned int nfields, keys, ncounts;
	const char *field_names[PW_REPORT_MAX_FIELDS];
	enum pw_report_field_type field_types[PW_REPORT_MAX_FIELDS];
	const char *count_names[PW_REPORT_MAX_COUNTS];
	int sort_count;  /* rows by this count, largest first, then by fields; -1: fields only */
	int chart_count; /* count drawn as bars in HTML; -1: no chart */
	bool top_only;   /* text and HTML show the first --top rows */
};

struct pw_report_table {
	const struct pw_report_table_spec *spec;
	struct pw_report_row *rows;
	size_t nrows, cap;
	uint32_t *index; /* open addressing: row number + 1, 0 = empty */
	size_t index_cap;
};

enum pw_report_table_id {
	PW_TABLE_EVENTS,
	PW_TABLE_OPEN_BY_CATEGORY,
	PW_TABLE_OPEN_BY_SERVICE,
	PW_TABLE_OPEN_PORTS,
	PW_TABLE_LISTENERS,
	PW_TABLE_ALERTS,
	PW_TABLE_REMOTE_PORTS,
	PW_TABLE_PEERS,
	PW_TABLE_CONNECT_FAILURES,
	PW_TABLE_LOSS,
	PW_TABLE_HOSTS,
	PW_TABLE_SOCKETS,        /* working table: every port opened, open or not */
	PW_TABLE_LISTENER_PORTS, /* working table: distinct ports per process */
	PW_TABLE_COUNT,
};

struct pw_report_malformed {
	char *file;
	uint64_t line;
	size_t column; /* 0 when the line is JSON but not a valid event */
	char message[128];
};

struct pw_report_file {
	char *name;
	const char *format; /* "gzip", "plain" */
	uint64_t lines;
	char *error;        /* why reading stopped early, NULL when it did not */
};

struct pw_report {
	struct pw_json_reader reader;
	struct pw_report_file *files;
	size_t nfiles;
	uint64_t lines, blank_lines, events, malformed;
	struct pw_report_malformed kept[PW_REPORT_KEPT_ERRORS];
	bool have_time;
	uint64_t first_ns, last_ns;
	char first_time[48], last_time[48];
	uint64_t lost;
	struct pw_report_table tables[PW_TABLE_COUNT];
	bool finished;
};

/* Returns 0 or -ENOMEM. */
int pw_report_init(struct pw_report *r);
void pw_report_free(struct pw_report *r);

/* Account one line of file (line numbers from 1). A line that is not a
 * valid event is counted as malformed, never fatal. Returns 0 or -ENOMEM. */
int pw_report_add_line(struct pw_report *r, const char *file, uint64_t line_no,
		       const char *text, size_t len);
/* Count a line that could not be read whole (too long, ...) as malformed. */
int pw_report_add_bad_line(struct pw_report *r, const char *file, uint64_t line_no,
			   const char *message);
/* Record a file read: format "gzip" or "plain", error NULL when whole. */
int pw_report_add_file(struct pw_report *r, const char *name, const char *format,
		       uint64_t lines, const char *error);

/* Build the derived tables and sort every table. Call once, after the last
 * line; the report is read-only afterwards. Returns 0 or -ENOMEM. */
int pw_report_finish(struct pw_report *r);

const struct pw_report_table *pw_report_table(const struct pw_report *r,
					      enum pw_report_table_id id);

struct pw_report_view {
	size_t top; /* rows shown in text and HTML for top_only tables; 0: all */
};

/* Each appends the whole report to out; returns 0 or -ENOMEM. */
int pw_report_render_text(const struct pw_report *r, const struct pw_report_view *v,
			  struct pw_buf *out);
int pw_report_render_json(const struct pw_report *r, struct pw_buf *out);
int pw_report_render_html(const struct pw_report *r, const struct pw_report_view *v,
			  struct pw_buf *out);

/* The subcommand: argv[0] is "report". Returns the process exit status. */
int pw_report_main(int argc, char **argv);

#endif /* PW_REPORT_H */
