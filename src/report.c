/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Aggregation for `portwarden report`: each recorded event line is checked
 * against the event contract and counted into the report's tables. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "names.h"
#include "report.h"

#define S PW_FIELD_STRING
#define I PW_FIELD_INT

static const struct pw_report_table_spec table_specs[PW_TABLE_COUNT] = {
	[PW_TABLE_EVENTS] = {
		.name = "events_by_type", .title = "Events by type and action",
		.nfields = 2, .keys = 2, .field_names = { "type", "action" }, .field_types = { S, S },
		.ncounts = 1, .count_names = { "events" },
		.sort_count = 0, .chart_count = 0,
	},
	[PW_TABLE_OPEN_BY_CATEGORY] = {
		.name = "open_ports_by_category", .title = "Open ports by category",
		.nfields = 1, .keys = 1, .field_names = { "category" }, .field_types = { S },
		.ncounts = 2, .count_names = { "ports", "sockets" },
		.sort_count = 0, .chart_count = 0,
	},
	[PW_TABLE_OPEN_BY_SERVICE] = {
		.name = "open_ports_by_service", .title = "Open ports by category and service",
		.nfields = 2, .keys = 2, .field_names = { "category", "service" }, .field_types = { S, S },
		.ncounts = 2, .count_names = { "ports", "sockets" },
		.sort_count = -1, .chart_count = -1,
	},
	[PW_TABLE_OPEN_PORTS] = {
		.name = "open_ports", .title = "Open ports at the end of the capture",
		.nfields = 11, .keys = 11,
		.field_names = { "port", "transport", "address", "scope", "category", "service",
				 "process", "pid", "user", "exe", "host" },
		.field_types = { I, S, S, S, S, S, S, I, S, S, S },
		.ncounts = 1, .count_names = { "sockets" },
		.sort_count = -1, .chart_count = -1,
	},
	[PW_TABLE_LISTENERS] = {
		.name = "listeners", .title = "Listeners by process and user",
		.nfields = 4, .keys = 3, .field_names = { "process", "exe", "user", "ports" },
		.field_types = { S, S, S, S },
		.ncounts = 2, .count_names = { "sockets", "open" },
		.sort_count = 0, .chart_count = 0,
	},
	[PW_TABLE_ALERTS] = {
		.name = "alerts", .title = "Alerts",
		.nfields = 2, .keys = 2, .field_names = { "rule", "reason" }, .field_types = { S, S },
		.ncounts = 1, .count_names = { "alerts" },
		.sort_count = 0, .chart_count = 0,
	},
	[PW_TABLE_REMOTE_PORTS] = {
		.name = "remote_ports", .title = "Busiest remote ports (outbound)",
		.nfields = 4, .keys = 2, .field_names = { "port", "transport", "service", "category" },
		.field_types = { I, S, S, S },
		.ncounts = 3, .count_names = { "connects", "connected", "failed" },
		.sort_count = 0, .chart_count = 0, .top_only = true,
	},
	[PW_TABLE_PEERS] = {
		.name = "peers", .title = "Busiest peers",
		.nfields = 1, .keys = 1, .field_names = { "address" }, .field_types = { S },
		.ncounts = 4, .count_names = { "connections", "outbound", "inbound", "failed" },
		.sort_count = 0, .chart_count = 0, .top_only = true,
	},
	[PW_TABLE_CONNECT_FAILURES] = {
		.name = "connect_failures", .title = "Connect failures by remote",
		.nfields = 4, .keys = 4, .field_names = { "address", "port", "service", "process" },
		.field_types = { S, I, S, S },
		.ncounts = 1, .count_names = { "failures" },
		.sort_count = 0, .chart_count = -1, .top_only = true,
	},
	[PW_TABLE_LOSS] = {
		.name = "loss", .title = "Events lost in the kernel",
		.nfields = 1, .keys = 1, .field_names = { "reason" }, .field_types = { S },
		.ncounts = 2, .count_names = { "reports", "lost" },
		.sort_count = 1, .chart_count = -1,
	},
	[PW_TABLE_HOSTS] = {
		.name = "hosts", .title = "Hosts",
		.nfields = 1, .keys = 1, .field_names = { "host" }, .field_types = { S },
		.ncounts = 1, .count_names = { "events" },
		.sort_count = 0, .chart_count = -1,
	},
	[PW_TABLE_SOCKETS] = {
		.name = "sockets", .title = "Sockets",
		.nfields = 12, .keys = 2,
		.field_names = { "host", "id", "port", "transport", "address", "scope", "category",
				 "service", "process", "pid", "user", "exe" },
		.field_types = { S, S, I, S, S, S, S, S, S, I, S, S },
		.ncounts = 2, .count_names = { "opens", "open" },
		.sort_count = -1, .chart_count = -1,
	},
	[PW_TABLE_LISTENER_PORTS] = {
		.name = "listener_ports", .title = "Listener ports",
		.nfields = 5, .keys = 5, .field_names = { "process", "exe", "user", "port", "transport" },
		.field_types = { S, S, S, I, S },
		.ncounts = 1, .count_names = { "sockets" },
		.sort_count = -1, .chart_count = -1,
	},
};

/* Distinct (host, transport, port) of the open sockets: a port open on
 * IPv4 and IPv6, or by several SO_REUSEPORT workers, is one port. */
static const struct pw_report_table_spec distinct_port_spec = {
	.name = "distinct_ports", .title = "Distinct ports",
	.nfields = 3, .keys = 3, .field_names = { "host", "transport", "port" },
	.field_types = { S, S, I }, .ncounts = 0, .sort_count = -1, .chart_count = -1,
};

#undef S
#undef I

/* Columns of SOCKETS and OPEN_PORTS, named for readability. */
enum { SK_HOST, SK_ID, SK_PORT, SK_TRANSPORT, SK_ADDRESS, SK_SCOPE, SK_CATEGORY, SK_SERVICE,
       SK_PROCESS, SK_PID, SK_USER, SK_EXE };
enum { SK_OPENS, SK_OPEN };

/* Cells --------------------------------------------------------------- */

static struct pw_report_value str_value(const char *s)
{
	struct pw_report_value v = { .known = s != NULL, .s = (char *)s };

	return v;
}

static struct pw_report_value int_value(bool known, int64_t i)
{
	struct pw_report_value v = { .known = known, .i = i };

	return v;
}

static bool values_equal(enum pw_report_field_type type, const struct pw_report_value *a,
			 const struct pw_report_value *b)
{
	if (a->known != b->known)
		return false;
	if (!a->known)
		return true;
	return type == PW_FIELD_INT ? a->i == b->i : strcmp(a->s, b->s) == 0;
}

static int compare_values(enum pw_report_field_type type, const struct pw_report_value *a,
			  const struct pw_report_value *b)
{
	if (!a->known || !b->known)
		return (int)b->known - (int)a->known; /* unknown last */
	if (type == PW_FIELD_INT)
		return (a->i > b->i) - (a->i < b->i);
	return strcmp(a->s, b->s);
}

/* A copy the table owns. */
static int own_value(enum pw_report_field_type type, struct pw_report_value *dst,
		     const struct pw_report_value *src)
{
	*dst = *src;
	if (type == PW_FIELD_STRING && src->known) {
		dst->s = strdup(src->s);
		if (!dst->s)
			return -ENOMEM;
	}
	return 0;
}

static int set_field(const struct pw_report_table *t, struct pw_report_row *row, unsigned int f,
		     struct pw_report_value v)
{
	struct pw_report_value copy;
	int err = own_value(t->spec->field_types[f], &copy, &v);

	if (err)
		return err;
	if (t->spec->field_types[f] == PW_FIELD_STRING)
		free(row->fields[f].s);
	row->fields[f] = copy;
	return 0;
}

/* Tables --------------------------------------------------------------- */

static void table_init(struct pw_report_table *t, const struct pw_report_table_spec *spec)
{
	memset(t, 0, sizeof(*t));
	t->spec = spec;
}

static void table_free(struct pw_report_table *t)
{
	size_t i;
	unsigned int f;

	for (i = 0; i < t->nrows; i++)
		for (f = 0; f < t->spec->nfields; f++)
			if (t->spec->field_types[f] == PW_FIELD_STRING)
				free(t->rows[i].fields[f].s);
	free(t->rows);
	free(t->index);
	t->rows = NULL;
	t->index = NULL;
	t->nrows = t->cap = t->index_cap = 0;
}

static uint64_t hash_keys(const struct pw_report_table_spec *spec,
			  const struct pw_report_value *keys)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const unsigned char *p;
	unsigned int f;
	size_t n, i;

	for (f = 0; f < spec->keys; f++) {
		h = (h ^ (keys[f].known ? 0x5a : 0xa5)) * 0x100000001b3ull;
		if (!keys[f].known)
			continue;
		if (spec->field_types[f] == PW_FIELD_INT) {
			p = (const unsigned char *)&keys[f].i;
			n = sizeof(keys[f].i);
		} else {
			p = (const unsigned char *)keys[f].s;
			n = strlen(keys[f].s) + 1;
		}
		for (i = 0; i < n; i++)
			h = (h ^ p[i]) * 0x100000001b3ull;
	}
	return h;
}

static bool row_matches(const struct pw_report_table_spec *spec, const struct pw_report_row *row,
			const struct pw_report_value *keys)
{
	unsigned int f;

	for (f = 0; f < spec->keys; f++)
		if (!values_equal(spec->field_types[f], &row->fields[f], &keys[f]))
			return false;
	return true;
}

static void index_insert(struct pw_report_table *t, size_t row)
{
	size_t mask = t->index_cap - 1;
	size_t slot = (size_t)hash_keys(t->spec, t->rows[row].fields) & mask;

	while (t->index[slot])
		slot = (slot + 1) & mask;
	t->index[slot] = (uint32_t)(row + 1);
}

static int index_rebuild(struct pw_report_table *t, size_t cap)
{
	uint32_t *index = calloc(cap, sizeof(*index));
	size_t i;

	if (!index)
		return -ENOMEM;
	free(t->index);
	t->index = index;
	t->index_cap = cap;
	for (i = 0; i < t->nrows; i++)
		index_insert(t, i);
	return 0;
}

static struct pw_report_row *table_find(const struct pw_report_table *t,
					const struct pw_report_value *keys)
{
	size_t mask, slot;

	if (!t->index_cap)
		return NULL;
	mask = t->index_cap - 1;
	for (slot = (size_t)hash_keys(t->spec, keys) & mask; t->index[slot];
	     slot = (slot + 1) & mask) {
		struct pw_report_row *row = &t->rows[t->index[slot] - 1];

		if (row_matches(t->spec, row, keys))
			return row;
	}
	return NULL;
}

/* The row with these keys, added with zero counts when new. */
static int table_get(struct pw_report_table *t, const struct pw_report_value *keys,
		     struct pw_report_row **out, bool *added)
{
	struct pw_report_row *row = table_find(t, keys);
	unsigned int f;
	int err;

	if (added)
		*added = row == NULL;
	if (row) {
		*out = row;
		return 0;
	}
	if (t->nrows >= UINT32_MAX - 1)
		return -ENOMEM;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct pw_report_row *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		t->rows = rows;
		t->cap = cap;
	}
	row = &t->rows[t->nrows];
	memset(row, 0, sizeof(*row));
	for (f = 0; f < t->spec->keys; f++) {
		err = own_value(t->spec->field_types[f], &row->fields[f], &keys[f]);
		if (err) {
			while (f--)
				if (t->spec->field_types[f] == PW_FIELD_STRING)
					free(row->fields[f].s);
			return err;
		}
	}
	t->nrows++;
	/* Keep the index at most half full. */
	if (t->nrows * 2 > t->index_cap) {
		err = index_rebuild(t, t->index_cap ? t->index_cap * 2 : 32);
		if (err) {
			t->nrows--;
			for (f = 0; f < t->spec->keys; f++)
				if (t->spec->field_types[f] == PW_FIELD_STRING)
					free(row->fields[f].s);
			return err;
		}
	} else {
		index_insert(t, t->nrows - 1);
	}
	*out = row;
	return 0;
}

/* Add to counter c of the row with these keys. */
static int table_count(struct pw_report_table *t, const struct pw_report_value *keys,
		       unsigned int c, uint64_t n)
{
	struct pw_report_row *row;
	int err = table_get(t, keys, &row, NULL);

	if (!err)
		row->counts[c] += n;
	return err;
}

static int compare_rows(const void *pa, const void *pb, void *arg)
{
	const struct pw_report_table_spec *spec = arg;
	const struct pw_report_row *a = pa, *b = pb;
	unsigned int f;
	int c;

	if (spec->sort_count >= 0) {
		uint64_t x = a->counts[spec->sort_count], y = b->counts[spec->sort_count];

		if (x != y)
			return x > y ? -1 : 1;
	}
	for (f = 0; f < spec->nfields; f++) {
		c = compare_values(spec->field_types[f], &a->fields[f], &b->fields[f]);
		if (c)
			return c;
	}
	return 0;
}

static int table_sort(struct pw_report_table *t)
{
	if (t->nrows > 1)
		qsort_r(t->rows, t->nrows, sizeof(*t->rows), compare_rows, (void *)t->spec);
	return t->index_cap ? index_rebuild(t, t->index_cap) : 0;
}

/* Report lifecycle ------------------------------------------------------- */

int pw_report_init(struct pw_report *r)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	pw_json_reader_init(&r->reader, 0);
	for (i = 0; i < PW_TABLE_COUNT; i++)
		table_init(&r->tables[i], &table_specs[i]);
	return 0;
}

void pw_report_free(struct pw_report *r)
{
	size_t i;

	pw_json_reader_free(&r->reader);
	for (i = 0; i < PW_TABLE_COUNT; i++)
		table_free(&r->tables[i]);
	for (i = 0; i < r->nfiles; i++) {
		free(r->files[i].name);
		free(r->files[i].error);
	}
	free(r->files);
	for (i = 0; i < PW_REPORT_KEPT_ERRORS; i++)
		free(r->kept[i].file);
	memset(r, 0, sizeof(*r));
}

const struct pw_report_table *pw_report_table(const struct pw_report *r,
					      enum pw_report_table_id id)
{
	return id < PW_TABLE_COUNT ? &r->tables[id] : NULL;
}

int pw_report_add_file(struct pw_report *r, const char *name, const char *format,
		       uint64_t lines, const char *error)
{
	struct pw_report_file *files, *f;

	files = realloc(r->files, (r->nfiles + 1) * sizeof(*files));
	if (!files)
		return -ENOMEM;
	r->files = files;
	f = &files[r->nfiles];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	f->error = error ? strdup(error) : NULL;
	if (!f->name || (error && !f->error)) {
		free(f->name);
		free(f->error);
		return -ENOMEM;
	}
	f->format = format;
	f->lines = lines;
	r->nfiles++;
	return 0;
}

static int keep_malformed(struct pw_report *r, const char *file, uint64_t line_no, size_t column,
			  const char *message)
{
	struct pw_report_malformed *m;

	r->malformed++;
	if (r->malformed > PW_REPORT_KEPT_ERRORS)
		return 0;
	m = &r->kept[r->malformed - 1];
	m->file = strdup(file);
	if (!m->file)
		return -ENOMEM;
	m->line = line_no;
	m->column = column;
	snprintf(m->message, sizeof(m->message), "%s", message);
	/* Messages quote recorded text: keep terminal controls out of them. */
	for (char *c = m->message; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return 0;
}

int pw_report_add_bad_line(struct pw_report *r, const char *file, uint64_t line_no,
			   const char *message)
{
	r->lines++;
	return keep_malformed(r, file, line_no, 0, message);
}

/* Time ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool take_digits(const char **p, unsigned int n, unsigned int *out)
{
	unsigned int v = 0, i;

	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + (unsigned int)((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/* RFC 3339 date-time ("2026-11-25T00:02:28.123456789Z", or with an offset)
 * as ns since the Unix epoch. */
static bool parse_rfc3339(const char *s, uint64_t *ns)
{
	static const unsigned int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned int year, mon, day, hour, min, sec, oh = 0, om = 0, digits = 0, d;
	uint64_t frac = 0;
	int64_t secs, offset = 0;
	const char *p = s;

	if (!take_digits(&p, 4, &year) || *p++ != '-' || !take_digits(&p, 2, &mon) ||
	    *p++ != '-' || !take_digits(&p, 2, &day) || (*p != 'T' && *p != 't'))
		return false;
	p++;
	if (!take_digits(&p, 2, &hour) || *p++ != ':' || !take_digits(&p, 2, &min) ||
	    *p++ != ':' || !take_digits(&p, 2, &sec))
		return false;
	if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || hour > 23 || min > 59 ||
	    sec > 60 || year < 1970)
		return false;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (digits < 9) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				digits++;
			}
			p++;
		}
		if (!digits)
			return false;
		for (d = digits; d < 9; d++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (!take_digits(&p, 2, &oh) || *p++ != ':' || !take_digits(&p, 2, &om) || oh > 23 ||
		    om > 59)
			return false;
		offset = sign * (int64_t)(oh * 3600 + om * 60);
	} else {
		return false;
	}
	if (*p)
		return false;
	secs = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - offset;
	if (secs < 0)
		return false;
	*ns = (uint64_t)secs * 1000000000ull + frac;
	return true;
}

/* One event --------------------------------------------------------------- */

struct event {
	struct pw_report *r;
	const struct pw_jval *root;
	char *error; /* what was wrong, for a malformed line */
	size_t error_len;
};

static int bad_event(struct event *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad_event(struct event *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->error, e->error_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A string field, NULL when absent or null. */
static int get_string(struct event *e, const char *path, const char **out)
{
	const struct pw_jval *v = pw_jval_path(&e->r->reader, e->root, path);
	size_t len;

	*out = NULL;
	if (!v || v->type == PW_JVAL_NULL)
		return 0;
	if (v->type != PW_JVAL_STRING)
		return bad_event(e, "%s: expected a string", path);
	*out = pw_jval_string(&e->r->reader, v, &len);
	/* No field of the contract holds a NUL; as C strings they would be cut. */
	if (strlen(*out) != len)
		return bad_event(e, "%s: NUL character in string", path);
	return 0;
}

/* An integer field in [min, max]; *known false when absent or null. */
static int get_int(struct event *e, const char *path, int64_t min, int64_t max, bool *known,
		   int64_t *out)
{
	const struct pw_jval *v = pw_jval_path(&e->r->reader, e->root, path);

	*known = false;
	*out = 0;
	if (!v || v->type == PW_JVAL_NULL)
		return 0;
	if (v->type != PW_JVAL_NUMBER || !v->is_int || v->i < min || v->i > max)
		return bad_event(e, "%s: expected an integer from %" PRId64 " to %" PRId64, path,
				 min, max);
	*known = true;
	*out = v->i;
	return 0;
}

static int get_uint(struct event *e, const char *path, bool *known, uint64_t *out)
{
	const struct pw_jval *v = pw_jval_path(&e->r->reader, e->root, path);

	*known = false;
	*out = 0;
	if (!v || v->type == PW_JVAL_NULL)
		return 0;
	if (v->type != PW_JVAL_NUMBER || !v->is_uint)
		return bad_event(e, "%s: expected an unsigned integer", path);
	*known = true;
	*out = v->u;
	return 0;
}

/* As docs/events.md defines local.scope: "any" (every interface),
 * "loopback" or "address" (one specific address). */
static const char *bind_scope(const char *ip)
{
	if (!ip)
		return NULL;
	if (!strcmp(ip, "0.0.0.0") || !strcmp(ip, "::"))
		return "any";
	if (!strncmp(ip, "127.", 4) || !strcmp(ip, "::1") || !strncmp(ip, "::ffff:127.", 11))
		return "loopback";
	return "address";
}

/* What the socket fields of an event say, checked for type. */
struct socket_fields {
	const char *host, *action, *transport, *local_ip, *local_scope, *remote_ip, *local_service,
		*remote_service, *comm, *exe, *user, *new_state;
	bool has_local_port, has_remote_port, has_pid, has_uid, has_cookie, has_errno;
	int64_t local_port, remote_port, pid, uid, bind_errno;
	uint64_t cookie;
	char uid_name[32]; /* "uid N" when the user name is unknown */
};

static int read_socket_fields(struct event *e, struct socket_fields *f)
{
	int err = 0;

	memset(f, 0, sizeof(*f));
	err = err ?: get_string(e, "host", &f->host);
	err = err ?: get_string(e, "action", &f->action);
	err = err ?: get_string(e, "transport", &f->transport);
	err = err ?: get_string(e, "local.ip", &f->local_ip);
	err = err ?: get_string(e, "local.service", &f->local_service);
	err = err ?: get_string(e, "local.scope", &f->local_scope);
	err = err ?: get_int(e, "local.port", 0, 65535, &f->has_local_port, &f->local_port);
	err = err ?: get_string(e, "remote.ip", &f->remote_ip);
	err = err ?: get_string(e, "remote.service", &f->remote_service);
	err = err ?: get_int(e, "remote.port", 0, 65535, &f->has_remote_port, &f->remote_port);
	err = err ?: get_string(e, "process.comm", &f->comm);
	err = err ?: get_string(e, "process.exe", &f->exe);
	err = err ?: get_string(e, "process.user", &f->user);
	err = err ?: get_int(e, "process.pid", 0, INT32_MAX, &f->has_pid, &f->pid);
	err = err ?: get_int(e, "process.uid", 0, UINT32_MAX, &f->has_uid, &f->uid);
	err = err ?: get_uint(e, "sock_cookie", &f->has_cookie, &f->cookie);
	err = err ?: get_string(e, "tcp.new_state", &f->new_state);
	err = err ?: get_int(e, "bind.errno", INT32_MIN, INT32_MAX, &f->has_errno, &f->bind_errno);
	if (err)
		return err;
	if (!f->action)
		return bad_event(e, "action: missing");
	if (!f->local_scope)
		f->local_scope = bind_scope(f->local_ip);
	if (!f->user && f->has_uid) {
		snprintf(f->uid_name, sizeof(f->uid_name), "uid %" PRId64, f->uid);
		f->user = f->uid_name;
	}
	return 0;
}

static const char *category_of(bool known, int64_t port)
{
	return known ? pw_port_category((uint16_t)port) : NULL;
}

/* A socket is named by its cookie where the kernel gave one, else by its
 * local endpoint and owner. */
static void socket_id(const struct socket_fields *f, bool by_cookie, char *id, size_t len)
{
	if (by_cookie)
		snprintf(id, len, "cookie %" PRIu64, f->cookie);
	else
		snprintf(id, len, "%s %s port %" PRId64 " pid %" PRId64, f->transport ?: "-",
			 f->local_ip ?: "-", f->local_port, f->has_pid ? f->pid : -1);
}

/* Fill a field only with something known: a later event with less to say
 * (a snapshot after the owner exited) keeps what an earlier one knew. */
static int describe(const struct pw_report_table *t, struct pw_report_row *row, unsigned int f,
		    struct pw_report_value v)
{
	return v.known ? set_field(t, row, f, v) : 0;
}

static int open_socket(struct pw_report *r, const struct socket_fields *f)
{
	struct pw_report_table *t = &r->tables[PW_TABLE_SOCKETS];
	struct pw_report_value keys[2];
	struct pw_report_row *row;
	char id[160];
	int err = 0;

	if (!f->has_local_port)
		return 0;
	socket_id(f, f->has_cookie, id, sizeof(id));
	keys[0] = str_value(f->host);
	keys[1] = str_value(id);
	err = table_get(t, keys, &row, NULL);
	if (err)
		return err;
	if (!row->counts[SK_OPEN]) {
		row->counts[SK_OPENS]++;
		row->counts[SK_OPEN] = 1;
	}
	err = err ?: describe(t, row, SK_PORT, int_value(true, f->local_port));
	err = err ?: describe(t, row, SK_TRANSPORT, str_value(f->transport));
	err = err ?: describe(t, row, SK_ADDRESS, str_value(f->local_ip));
	err = err ?: describe(t, row, SK_SCOPE, str_value(f->local_scope));
	err = err ?: describe(t, row, SK_CATEGORY, str_value(category_of(true, f->local_port)));
	err = err ?: describe(t, row, SK_SERVICE, str_value(f->local_service));
	err = err ?: describe(t, row, SK_PROCESS, str_value(f->comm));
	err = err ?: describe(t, row, SK_PID, int_value(f->has_pid, f->pid));
	err = err ?: describe(t, row, SK_USER, str_value(f->user));
	err = err ?: describe(t, row, SK_EXE, str_value(f->exe));
	return err;
}

/* A TCP socket reached CLOSE. Only a listener's close is matched by its
 * endpoint when there is no cookie: an accepted connection shares the
 * listener's local endpoint and owner, and must not close it. */
static void close_socket(struct pw_report *r, const struct socket_fields *f, bool listener)
{
	struct pw_report_table *t = &r->tables[PW_TABLE_SOCKETS];
	struct pw_report_value keys[2];
	struct pw_report_row *row = NULL;
	char id[160];

	keys[0] = str_value(f->host);
	keys[1] = str_value(id);
	if (f->has_cookie) {
		socket_id(f, true, id, sizeof(id));
		row = table_find(t, keys);
	}
	if (!row && listener && f->has_local_port) {
		socket_id(f, false, id, sizeof(id));
		row = table_find(t, keys);
	}
	if (row)
		row->counts[SK_OPEN] = 0;
}

/* A snapshot socket is an open port when it is not a connection: a TCP
 * socket in LISTEN, or any UDP socket. */
static int snapshot_is_open_port(struct event *e, const struct socket_fields *f, bool *open)
{
	const char *state;
	int err = get_string(e, "tcp.state", &state);

	if (err)
		return err;
	if (f->transport && !strcmp(f->transport, "tcp"))
		*open = state ? !strcmp(state, "LISTEN") : !(f->has_remote_port && f->remote_port);
	else
		*open = true;
	return 0;
}

/* Columns of REMOTE_PORTS and PEERS counts. */
enum { RP_CONNECTS, RP_CONNECTED, RP_FAILED };
enum { PEER_CONNECTIONS, PEER_OUTBOUND, PEER_INBOUND, PEER_FAILED };

static int count_peer(struct pw_report *r, const struct socket_fields *f, unsigned int column)
{
	struct pw_report_value keys[1] = { str_value(f->remote_ip) };
	int err;

	if (!f->remote_ip)
		return 0;
	err = table_count(&r->tables[PW_TABLE_PEERS], keys, column, 1);
	if (!err && (column == PEER_OUTBOUND || column == PEER_INBOUND))
		err = table_count(&r->tables[PW_TABLE_PEERS], keys, PEER_CONNECTIONS, 1);
	return err;
}

/* connect, connected or connect_failed: column of REMOTE_PORTS. */
static int count_outbound(struct pw_report *r, const struct socket_fields *f, unsigned int column)
{
	struct pw_report_table *ports = &r->tables[PW_TABLE_REMOTE_PORTS];
	struct pw_report_value keys[4];
	struct pw_report_row *row;
	bool added;
	int err;

	keys[0] = int_value(f->has_remote_port, f->remote_port);
	keys[1] = str_value(f->transport);
	err = table_get(ports, keys, &row, &added);
	if (err)
		return err;
	row->counts[column]++;
	if (added)
		err = set_field(ports, row, 2, str_value(f->remote_service)) ?:
		      set_field(ports, row, 3, str_value(category_of(f->has_remote_port, f->remote_port)));
	if (err)
		return err;
	if (column == RP_CONNECTS)
		return count_peer(r, f, PEER_OUTBOUND);
	if (column != RP_FAILED)
		return 0;
	keys[0] = str_value(f->remote_ip);
	keys[1] = int_value(f->has_remote_port, f->remote_port);
	keys[2] = str_value(f->remote_service);
	keys[3] = str_value(f->comm);
	return count_peer(r, f, PEER_FAILED) ?:
	       table_count(&r->tables[PW_TABLE_CONNECT_FAILURES], keys, 0, 1);
}

/* An outbound connection counts once as a connection, at its connect:
 * connected and connect_failed say how it ended. */
static int count_connection(struct pw_report *r, const struct socket_fields *f)
{
	if (!strcmp(f->action, "connect"))
		return count_outbound(r, f, RP_CONNECTS);
	if (!strcmp(f->action, "connected"))
		return count_outbound(r, f, RP_CONNECTED);
	if (!strcmp(f->action, "connect_failed"))
		return count_outbound(r, f, RP_FAILED);
	if (!strcmp(f->action, "accepted"))
		return count_peer(r, f, PEER_INBOUND);
	return 0;
}

static int account_socket_event(struct event *e, const char *type)
{
	struct pw_report *r = e->r;
	struct socket_fields f;
	const char *rule, *reason;
	struct pw_report_value keys[2];
	int err;

	err = read_socket_fields(e, &f);
	if (err)
		return err;
	if (!strcmp(type, "alert")) {
		err = get_string(e, "rule", &rule) ?: get_string(e, "reason", &reason);
		if (err)
			return err;
		keys[0] = str_value(rule);
		keys[1] = str_value(reason);
		return table_count(&r->tables[PW_TABLE_ALERTS], keys, 0, 1);
	}
	if (!strcmp(type, "snapshot")) {
		bool open;

		err = snapshot_is_open_port(e, &f, &open);
		if (err || !open || strcmp(f.action, "existing"))
			return err;
		return open_socket(r, &f);
	}
	if (!strcmp(f.action, "listen") || (!strcmp(type, "bind") && !strcmp(f.action, "bind"))) {
		err = open_socket(r, &f);
		if (err)
			return err;
	}
	if (!strcmp(type, "state") && f.new_state && !strcmp(f.new_state, "CLOSE"))
		close_socket(r, &f, !strcmp(f.action, "listen_close"));
	return count_connection(r, &f);
}

static int account_loss(struct event *e)
{
	struct pw_report_value keys[1];
	const char *reason;
	bool known;
	uint64_t lost;
	int err;

	err = get_uint(e, "lost", &known, &lost) ?: get_string(e, "reason", &reason);
	if (err)
		return err;
	if (!known)
		return bad_event(e, "lost: missing");
	e->r->lost += lost;
	keys[0] = str_value(reason);
	err = table_count(&e->r->tables[PW_TABLE_LOSS], keys, 0, 1);
	return err ?: table_count(&e->r->tables[PW_TABLE_LOSS], keys, 1, lost);
}

static void account_time(struct pw_report *r, const char *time, uint64_t ns)
{
	if (!r->have_time || ns < r->first_ns) {
		r->first_ns = ns;
		snprintf(r->first_time, sizeof(r->first_time), "%s", time);
	}
	if (!r->have_time || ns > r->last_ns) {
		r->last_ns = ns;
		snprintf(r->last_time, sizeof(r->last_time), "%s", time);
	}
	r->have_time = true;
}

static int account_event(struct event *e)
{
	const char *type, *action = NULL, *time, *host;
	struct pw_report_value keys[2];
	bool known;
	int64_t version;
	uint64_t ns;
	int err;

	if (e->root->type != PW_JVAL_OBJECT)
		return bad_event(e, "not a JSON object");
	err = get_int(e, "schema_version", 0, INT32_MAX, &known, &version);
	if (err)
		return err;
	if (!known)
		return bad_event(e, "schema_version: missing");
	if (version != 1)
		return bad_event(e, "schema_version %" PRId64 " is not supported (this report reads 1)",
				 version);
	err = get_string(e, "type", &type) ?: get_string(e, "time", &time) ?:
	      get_string(e, "host", &host);
	if (err)
		return err;
	if (!type)
		return bad_event(e, "type: missing");
	if (!time || !parse_rfc3339(time, &ns))
		return bad_event(e, "time: expected an RFC 3339 date-time");

	if (!strcmp(type, "state") || !strcmp(type, "bind") || !strcmp(type, "snapshot") ||
	    !strcmp(type, "alert"))
		err = account_socket_event(e, type);
	else if (!strcmp(type, "loss"))
		err = account_loss(e);
	else if (strcmp(type, "stats"))
		return bad_event(e, "type: unknown type \"%.40s\"", type);
	if (err)
		return err;

	get_string(e, "action", &action);
	keys[0] = str_value(type);
	keys[1] = str_value(action);
	err = table_count(&e->r->tables[PW_TABLE_EVENTS], keys, 0, 1);
	keys[0] = str_value(host);
	err = err ?: table_count(&e->r->tables[PW_TABLE_HOSTS], keys, 0, 1);
	if (err)
		return err;
	account_time(e->r, time, ns);
	e->r->events++;
	return 0;
}

static bool is_blank(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
			return false;
	return true;
}

int pw_report_add_line(struct pw_report *r, const char *file, uint64_t line_no,
		       const char *text, size_t len)
{
	char message[128];
	struct event e = { .r = r, .error = message, .error_len = sizeof(message) };
	int err;

	r->lines++;
	if (is_blank(text, len)) {
		r->blank_lines++;
		return 0;
	}
	err = pw_json_read(&r->reader, text, len);
	if (err == -EINVAL)
		return keep_malformed(r, file, line_no, r->reader.error_column, r->reader.error);
	if (err)
		return err;
	e.root = pw_json_root(&r->reader);
	err = account_event(&e);
	if (err == -EINVAL)
		return keep_malformed(r, file, line_no, 0, message);
	return err;
}

/* Derived tables ------------------------------------------------------------ */

static int append_port(struct pw_report_table *listeners, struct pw_report_row *row,
		       const struct pw_report_row *port_row)
{
	const char *old = row->fields[3].known ? row->fields[3].s : "";
	char *joined;
	int n;

	/* Enough to recognise a process; the full list is in open_ports. */
	if (strlen(old) > 120) {
		size_t len = strlen(old);

		if (len >= 4 && !strcmp(old + len - 4, " ..."))
			return 0;
		n = asprintf(&joined, "%s ...", old);
		goto set;
	}
	n = asprintf(&joined, "%s%s%" PRId64 "/%s", old, *old ? " " : "",
		     port_row->fields[3].i, port_row->fields[4].known ? port_row->fields[4].s : "-");
set:
	if (n < 0)
		return -ENOMEM;
	n = set_field(listeners, row, 3, str_value(joined));
	free(joined);
	return n;
}

static int build_listeners(struct pw_report *r)
{
	struct pw_report_table *sockets = &r->tables[PW_TABLE_SOCKETS];
	struct pw_report_table *listeners = &r->tables[PW_TABLE_LISTENERS];
	struct pw_report_table *ports = &r->tables[PW_TABLE_LISTENER_PORTS];
	struct pw_report_value keys[5];
	struct pw_report_row *row;
	size_t i;
	int err;

	for (i = 0; i < sockets->nrows; i++) {
		const struct pw_report_row *s = &sockets->rows[i];

		keys[0] = s->fields[SK_PROCESS];
		keys[1] = s->fields[SK_EXE];
		keys[2] = s->fields[SK_USER];
		keys[3] = s->fields[SK_PORT];
		keys[4] = s->fields[SK_TRANSPORT];
		err = table_get(listeners, keys, &row, NULL);
		if (err)
			return err;
		row->counts[0] += s->counts[SK_OPENS];
		row->counts[1] += s->counts[SK_OPEN];
		err = table_count(ports, keys, 0, s->counts[SK_OPENS]);
		if (err)
			return err;
	}
	err = table_sort(ports);
	for (i = 0; !err && i < ports->nrows; i++) {
		row = table_find(listeners, ports->rows[i].fields);
		if (row)
			err = append_port(listeners, row, &ports->rows[i]);
	}
	return err;
}

static int build_open_ports(struct pw_report *r)
{
	struct pw_report_table *sockets = &r->tables[PW_TABLE_SOCKETS];
	struct pw_report_table distinct;
	struct pw_report_value keys[11];
	struct pw_report_row *row;
	bool added;
	size_t i;
	int err = 0;

	table_init(&distinct, &distinct_port_spec);
	for (i = 0; !err && i < sockets->nrows; i++) {
		const struct pw_report_row *s = &sockets->rows[i];

		if (!s->counts[SK_OPEN])
			continue;
		keys[0] = s->fields[SK_PORT];
		keys[1] = s->fields[SK_TRANSPORT];
		keys[2] = s->fields[SK_ADDRESS];
		keys[3] = s->fields[SK_SCOPE];
		keys[4] = s->fields[SK_CATEGORY];
		keys[5] = s->fields[SK_SERVICE];
		keys[6] = s->fields[SK_PROCESS];
		keys[7] = s->fields[SK_PID];
		keys[8] = s->fields[SK_USER];
		keys[9] = s->fields[SK_EXE];
		keys[10] = s->fields[SK_HOST];
		err = table_count(&r->tables[PW_TABLE_OPEN_PORTS], keys, 0, 1);
		if (err)
			break;
		keys[0] = s->fields[SK_HOST];
		keys[1] = s->fields[SK_TRANSPORT];
		keys[2] = s->fields[SK_PORT];
		err = table_get(&distinct, keys, &row, &added);
		if (err)
			break;
		keys[0] = s->fields[SK_CATEGORY];
		keys[1] = s->fields[SK_SERVICE];
		err = table_count(&r->tables[PW_TABLE_OPEN_BY_SERVICE], keys, 0, added) ?:
		      table_count(&r->tables[PW_TABLE_OPEN_BY_SERVICE], keys, 1, 1) ?:
		      table_count(&r->tables[PW_TABLE_OPEN_BY_CATEGORY], keys, 0, added) ?:
		      table_count(&r->tables[PW_TABLE_OPEN_BY_CATEGORY], keys, 1, 1);
	}
	table_free(&distinct);
	return err;
}

int pw_report_finish(struct pw_report *r)
{
	unsigned int i;
	int err;

	if (r->finished)
		return 0;
	err = build_open_ports(r) ?: build_listeners(r);
	for (i = 0; !err && i < PW_TABLE_COUNT; i++)
		err = table_sort(&r->tables[i]);
	if (!err)
		r->finished = true;
	return err;
}
