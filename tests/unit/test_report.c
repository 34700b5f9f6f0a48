/* Unit tests for `portwarden report`: which sockets count as open ports,
 * the counts of every table, malformed lines, and escaping in each view. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "json_reader.h"
#include "report.h"

static int setup(void **state)
{
	static struct pw_report report;

	assert_int_equal(pw_report_init(&report), 0);
	*state = &report;
	return 0;
}

static int teardown(void **state)
{
	pw_report_free(*state);
	return 0;
}

static uint64_t line_no;

static void add(struct pw_report *r, const char *line)
{
	assert_int_equal(pw_report_add_line(r, "cap.ndjson", ++line_no, line, strlen(line)), 0);
}

/* A socket event in the shape of docs/events.md. cookie 0 writes null. */
static void add_socket(struct pw_report *r, const char *type, const char *action, const char *comm,
		       int pid, const char *transport, const char *lip, int lport, const char *rip,
		       int rport, const char *new_state, unsigned long long cookie)
{
	char line[2048], cookie_s[32] = "null", remote[128] = "{\"ip\":null,\"port\":null}",
			 tcp[128] = "";

	if (cookie)
		snprintf(cookie_s, sizeof(cookie_s), "%llu", cookie);
	if (rip)
		snprintf(remote, sizeof(remote), "{\"ip\":\"%s\",\"port\":%d,\"service\":null}", rip,
			 rport);
	if (new_state)
		snprintf(tcp, sizeof(tcp), ",\"tcp\":{\"old_state\":\"X\",\"new_state\":\"%s\"}",
			 new_state);
	snprintf(line, sizeof(line),
		 "{\"schema_version\":1,\"seq\":%llu,\"time\":\"2026-11-20T09:00:%02llu.5Z\","
		 "\"host\":\"h1\",\"type\":\"%s\",\"action\":\"%s\",\"process\":{\"pid\":%d,"
		 "\"uid\":1000,\"comm\":\"%s\",\"user\":\"alice\",\"exe\":\"/usr/bin/%s\"},"
		 "\"transport\":\"%s\",\"local\":{\"ip\":\"%s\",\"port\":%d,\"service\":null},"
		 "\"remote\":%s,\"sock_cookie\":%s%s}",
		 (unsigned long long)line_no + 1, (unsigned long long)(line_no % 60), type, action,
		 pid, comm, comm, transport, lip, lport, remote, cookie_s, tcp);
	add(r, line);
}

static const struct pw_report_row *find_row(const struct pw_report *r, enum pw_report_table_id id,
					    const char *field0, int64_t int0)
{
	const struct pw_report_table *t = pw_report_table(r, id);
	size_t i;

	for (i = 0; i < t->nrows; i++) {
		const struct pw_report_value *v = &t->rows[i].fields[0];

		if (!v->known)
			continue;
		if (t->spec->field_types[0] == PW_FIELD_INT ? v->i == int0 : !strcmp(v->s, field0))
			return &t->rows[i];
	}
	return NULL;
}

static void test_open_ports(void **state)
{
	struct pw_report *r = *state;
	const struct pw_report_table *open;
	const struct pw_report_row *row;

	/* bind then listen of one socket (same cookie) is one socket. */
	add_socket(r, "bind", "bind", "nginx", 10, "tcp", "0.0.0.0", 80, NULL, 0, NULL, 101);
	add_socket(r, "state", "listen", "nginx", 10, "tcp", "0.0.0.0", 80, NULL, 0, "LISTEN", 101);
	/* A listener without cookies: its accepted connection closes with the
	 * same local endpoint and owner, and must not close the listener. */
	add_socket(r, "state", "listen", "nc", 20, "tcp", "0.0.0.0", 4444, NULL, 0, "LISTEN", 0);
	add_socket(r, "state", "accepted", "nc", 20, "tcp", "0.0.0.0", 4444, "10.0.0.9", 5000,
		   "ESTABLISHED", 0);
	add_socket(r, "state", "close", "nc", 20, "tcp", "0.0.0.0", 4444, "10.0.0.9", 5000, "CLOSE", 0);
	/* Closed listeners: one by cookie, one by endpoint. */
	add_socket(r, "state", "listen", "redis", 30, "tcp", "127.0.0.1", 6379, NULL, 0, "LISTEN", 301);
	add_socket(r, "state", "listen_close", "redis", 30, "tcp", "127.0.0.1", 6379, NULL, 0, "CLOSE", 301);
	add_socket(r, "state", "listen", "tmp", 40, "tcp", "::1", 7000, NULL, 0, "LISTEN", 0);
	add_socket(r, "state", "listen_close", "tmp", 40, "tcp", "::1", 7000, NULL, 0, "CLOSE", 0);
	/* A failed bind opens nothing; a UDP bind does. */
	add_socket(r, "bind", "bind_failed", "nginx", 11, "tcp", "0.0.0.0", 80, NULL, 0, NULL, 102);
	add_socket(r, "bind", "bind", "dhclient", 50, "udp", "0.0.0.0", 68, NULL, 0, NULL, 501);
	/* Snapshot: a listener and a UDP socket count, a connection does not. */
	add_socket(r, "snapshot", "existing", "sshd", 60, "tcp", "::", 22, NULL, 0, NULL, 601);
	add_socket(r, "snapshot", "existing", "sshd", 61, "tcp", "10.0.0.5", 22, "10.0.0.9", 6000,
		   NULL, 602);
	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:00:00Z\",\"type\":\"snapshot\","
	       "\"action\":\"existing\",\"transport\":\"tcp\",\"local\":{\"ip\":\"0.0.0.0\",\"port\":25},"
	       "\"sock_cookie\":603,\"tcp\":{\"state\":\"ESTABLISHED\"}}");
	/* The same listener seen again in a second run's snapshot: still one. */
	add_socket(r, "snapshot", "existing", "nginx", 10, "tcp", "0.0.0.0", 80, NULL, 0, NULL, 101);
	assert_int_equal(pw_report_finish(r), 0);
	assert_int_equal(r->malformed, 0);

	open = pw_report_table(r, PW_TABLE_OPEN_PORTS);
	assert_int_equal(open->nrows, 4);
	/* Sorted by port. */
	assert_int_equal(open->rows[0].fields[0].i, 22);
	assert_string_equal(open->rows[0].fields[3].s, "any");
	assert_int_equal(open->rows[1].fields[0].i, 68);
	assert_string_equal(open->rows[1].fields[1].s, "udp");
	assert_int_equal(open->rows[2].fields[0].i, 80);
	assert_string_equal(open->rows[2].fields[6].s, "nginx");
	assert_int_equal(open->rows[2].counts[0], 1);
	assert_int_equal(open->rows[3].fields[0].i, 4444);

	row = find_row(r, PW_TABLE_OPEN_BY_CATEGORY, "well-known", 0);
	assert_non_null(row);
	assert_int_equal(row->counts[0], 3);
	row = find_row(r, PW_TABLE_OPEN_BY_CATEGORY, "registered", 0);
	assert_int_equal(row->counts[0], 1);
	assert_null(find_row(r, PW_TABLE_OPEN_BY_CATEGORY, "dynamic", 0));

	row = find_row(r, PW_TABLE_LISTENERS, "redis", 0);
	assert_non_null(row);
	assert_int_equal(row->counts[0], 1); /* sockets */
	assert_int_equal(row->counts[1], 0); /* open */
	assert_string_equal(row->fields[3].s, "6379/tcp");
	row = find_row(r, PW_TABLE_LISTENERS, "nginx", 0);
	assert_int_equal(row->counts[0], 1);
	assert_int_equal(row->counts[1], 1);
	assert_string_equal(row->fields[2].s, "alice");
	row = find_row(r, PW_TABLE_LISTENERS, "tmp", 0);
	assert_int_equal(row->counts[1], 0);
}

static void test_connections(void **state)
{
	struct pw_report *r = *state;
	const struct pw_report_table *ports;
	const struct pw_report_row *row;
	int i;

	for (i = 0; i < 3; i++) {
		add_socket(r, "state", "connect", "curl", 5, "tcp", "0.0.0.0", 0, "1.2.3.4", 443,
			   "SYN_SENT", 900 + i);
		add_socket(r, "state", "connected", "curl", 5, "tcp", "10.0.0.5", 50000 + i,
			   "1.2.3.4", 443, "ESTABLISHED", 900 + i);
	}
	add_socket(r, "state", "connect", "psql", 6, "tcp", "0.0.0.0", 0, "10.0.0.9", 5432,
		   "SYN_SENT", 950);
	add_socket(r, "state", "connect_failed", "psql", 6, "tcp", "10.0.0.5", 51000, "10.0.0.9",
		   5432, "CLOSE", 950);
	for (i = 0; i < 5; i++)
		add_socket(r, "state", "accepted", "nginx", 7, "tcp", "10.0.0.5", 443, "9.9.9.9",
			   40000 + i, "ESTABLISHED", 960 + i);
	assert_int_equal(pw_report_finish(r), 0);

	/* Remote ports count outbound connections only, busiest first. */
	ports = pw_report_table(r, PW_TABLE_REMOTE_PORTS);
	assert_int_equal(ports->nrows, 2);
	assert_int_equal(ports->rows[0].fields[0].i, 443);
	assert_int_equal(ports->rows[0].counts[0], 3);
	assert_int_equal(ports->rows[0].counts[1], 3);
	assert_int_equal(ports->rows[0].counts[2], 0);
	assert_string_equal(ports->rows[0].fields[3].s, "well-known");
	assert_int_equal(ports->rows[1].fields[0].i, 5432);
	assert_int_equal(ports->rows[1].counts[2], 1);

	row = pw_report_table(r, PW_TABLE_PEERS)->rows;
	assert_string_equal(row[0].fields[0].s, "9.9.9.9");
	assert_int_equal(row[0].counts[0], 5);
	assert_int_equal(row[0].counts[2], 5);
	row = find_row(r, PW_TABLE_PEERS, "10.0.0.9", 0);
	assert_int_equal(row->counts[0], 1);
	assert_int_equal(row->counts[1], 1);
	assert_int_equal(row->counts[3], 1);

	row = find_row(r, PW_TABLE_CONNECT_FAILURES, "10.0.0.9", 0);
	assert_non_null(row);
	assert_int_equal(row->fields[1].i, 5432);
	assert_string_equal(row->fields[3].s, "psql");
	assert_int_equal(row->counts[0], 1);

	row = find_row(r, PW_TABLE_EVENTS, "state", 0);
	assert_non_null(row);
	assert_int_equal(r->events, 13);
	assert_int_equal(pw_report_table(r, PW_TABLE_OPEN_PORTS)->nrows, 0);
}

static void test_alerts_loss_time(void **state)
{
	struct pw_report *r = *state;
	const struct pw_report_row *row;

	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T10:00:00.25+01:00\",\"type\":\"loss\","
	       "\"lost\":17,\"reason\":\"ringbuf_full\"}");
	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T08:59:59Z\",\"type\":\"loss\","
	       "\"lost\":5,\"reason\":\"ringbuf_full\"}");
	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:30:00.000000001Z\",\"type\":\"alert\","
	       "\"rule\":\"default\",\"reason\":\"not allowed\",\"action\":\"listen\","
	       "\"local\":{\"ip\":\"0.0.0.0\",\"port\":4444}}");
	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:31:00Z\",\"type\":\"alert\","
	       "\"rule\":\"default\",\"reason\":\"not allowed\",\"action\":\"listen\"}");
	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:32:00Z\",\"type\":\"alert\","
	       "\"rule\":\"smtp\",\"reason\":\"port 25\",\"action\":\"connect\"}");
	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:33:00Z\",\"type\":\"stats\","
	       "\"events\":4,\"lost\":22,\"filtered\":0}");
	add(r, "   ");
	assert_int_equal(pw_report_finish(r), 0);

	assert_int_equal(r->lost, 22);
	row = find_row(r, PW_TABLE_LOSS, "ringbuf_full", 0);
	assert_int_equal(row->counts[0], 2);
	assert_int_equal(row->counts[1], 22);
	row = pw_report_table(r, PW_TABLE_ALERTS)->rows;
	assert_int_equal(pw_report_table(r, PW_TABLE_ALERTS)->nrows, 2);
	assert_string_equal(row[0].fields[0].s, "default");
	assert_int_equal(row[0].counts[0], 2);
	assert_int_equal(row[1].counts[0], 1);
	/* Alerts are not open ports: the socket event they accompany is. */
	assert_int_equal(pw_report_table(r, PW_TABLE_OPEN_PORTS)->nrows, 0);

	/* 10:00:00.25+01:00 is 09:00:00.25Z: the span is 1.25 s, whatever the order. */
	assert_string_equal(r->first_time, "2026-11-20T08:59:59Z");
	assert_string_equal(r->last_time, "2026-11-20T09:33:00Z");
	assert_true(r->last_ns - r->first_ns == 33 * 60 * 1000000000ull + 1000000000ull);
	assert_int_equal(r->events, 6);
	assert_int_equal(r->blank_lines, 1);
	assert_int_equal(r->lines, 7);
}

static void test_malformed(void **state)
{
	struct pw_report *r = *state;
	static const char *const bad[] = {
		"{\"schema_version\":1,\"type\":\"state\"",
		"{\"schema_version\":1,\"time\":\"2026-11-20T09:00:00Z\",\"type\":\"bind\","
		"\"action\":\"bind\",\"local\":{\"port\":\"80\"}}",
		"{\"schema_version\":2,\"time\":\"2026-11-20T09:00:00Z\",\"type\":\"state\"}",
		"{\"schema_version\":1,\"time\":\"2026-11-20 09:00:00\",\"type\":\"state\"}",
		"[1,2]",
		"{\"schema_version\":1,\"time\":\"2026-11-20T09:00:00Z\",\"type\":\"x\\u001b[31m\"}",
		"{\"schema_version\":1,\"time\":\"2026-11-20T09:00:00Z\"}",
	};
	size_t i;

	line_no = 0;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		add(r, bad[i]);
	assert_int_equal(pw_report_add_bad_line(r, "cap.ndjson", ++line_no, "line too long"), 0);
	assert_int_equal(pw_report_finish(r), 0);

	assert_int_equal(r->malformed, 8);
	assert_int_equal(r->events, 0);
	assert_int_equal(r->lines, 8);
	assert_string_equal(r->kept[0].file, "cap.ndjson");
	assert_int_equal(r->kept[0].line, 1);
	assert_int_equal(r->kept[0].column, 35);
	assert_string_equal(r->kept[0].message, "unexpected end of input, expected ',' or '}'");
	assert_int_equal(r->kept[1].line, 2);
	assert_int_equal(r->kept[1].column, 0);
	assert_string_equal(r->kept[1].message, "local.port: expected an integer from 0 to 65535");
	assert_string_equal(r->kept[2].message,
			    "schema_version 2 is not supported (this report reads 1)");
	assert_string_equal(r->kept[3].message, "time: expected an RFC 3339 date-time");
	assert_string_equal(r->kept[4].message, "not a JSON object");
	/* Only the first few are kept; the rest are counted. */
	assert_int_equal(PW_REPORT_KEPT_ERRORS, 5);
	assert_int_equal(pw_report_table(r, PW_TABLE_EVENTS)->nrows, 0);
}

/* Messages quote recorded text; a terminal escape in it is neutralised. */
static void test_malformed_message_is_clean(void **state)
{
	struct pw_report *r = *state;

	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:00:00Z\",\"type\":\"x\\u001b[31m\"}");
	assert_int_equal(r->malformed, 1);
	assert_string_equal(r->kept[0].message, "type: unknown type \"x?[31m\"");
}

/* A line that fails a check is not counted anywhere, not even in part. */
static void test_rejected_fields(void **state)
{
	struct pw_report *r = *state;

	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:00:00Z\",\"type\":\"state\\u0000x\"}");
	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:00:00Z\",\"type\":\"snapshot\","
	       "\"action\":\"existing\",\"transport\":\"tcp\",\"local\":{\"ip\":\"::\",\"port\":22},"
	       "\"tcp\":{\"state\":1}}");
	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:00:00Z\",\"type\":\"loss\",\"lost\":-1}");
	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:00:00Z\",\"type\":\"bind\","
	       "\"action\":\"bind\",\"local\":{\"ip\":\"::\",\"port\":22},\"sock_cookie\":-5}");
	/* An accepted connection without a remote address is no peer. */
	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:00:00Z\",\"type\":\"state\","
	       "\"action\":\"accepted\",\"transport\":\"tcp\",\"local\":{\"ip\":\"::\",\"port\":22}}");
	assert_int_equal(pw_report_finish(r), 0);
	assert_int_equal(r->malformed, 4);
	assert_string_equal(r->kept[0].message, "type: NUL character in string");
	assert_string_equal(r->kept[1].message, "tcp.state: expected a string");
	assert_string_equal(r->kept[2].message, "lost: expected an unsigned integer");
	assert_string_equal(r->kept[3].message, "sock_cookie: expected an unsigned integer");
	assert_int_equal(r->events, 1);
	assert_int_equal(r->lost, 0);
	assert_int_equal(pw_report_table(r, PW_TABLE_OPEN_PORTS)->nrows, 0);
	assert_int_equal(pw_report_table(r, PW_TABLE_LOSS)->nrows, 0);
	assert_int_equal(pw_report_table(r, PW_TABLE_PEERS)->nrows, 0);
	assert_int_equal(pw_report_table(r, PW_TABLE_EVENTS)->nrows, 1);
}

static void add_hostile(struct pw_report *r)
{
	add(r, "{\"schema_version\":1,\"time\":\"2026-11-20T09:00:00Z\",\"host\":\"h\",\"type\":\"state\","
	       "\"action\":\"listen\",\"process\":{\"pid\":1,\"comm\":\"<script>alert(1)</script>\","
	       "\"exe\":\"/tmp/a\\u001b]0;pwned\\u0007\\\"&'\"},\"transport\":\"tcp\","
	       "\"local\":{\"ip\":\"0.0.0.0\",\"port\":31337},\"sock_cookie\":1}");
}

static void test_text_view(void **state)
{
	struct pw_report *r = *state;
	struct pw_report_view v = { .top = 2 };
	struct pw_buf out;
	int i;

	add_hostile(r);
	for (i = 0; i < 5; i++)
		add_socket(r, "state", "accepted", "nginx", 7, "tcp", "10.0.0.5", 443, i % 2 ? "9.9.9.9" : "8.8.8.8",
			   40000 + i, "ESTABLISHED", 0);
	add_socket(r, "state", "accepted", "nginx", 7, "tcp", "10.0.0.5", 443, "7.7.7.7", 1, "ESTABLISHED", 0);
	assert_int_equal(pw_report_finish(r), 0);
	pw_buf_init(&out);
	assert_int_equal(pw_report_render_text(r, &v, &out), 0);
	/* No raw control character reaches the terminal. */
	for (i = 0; i < (int)out.len; i++)
		if ((unsigned char)out.data[i] < 0x20 && out.data[i] != '\n')
			fail_msg("control byte 0x%02x at %d", out.data[i], i);
	assert_non_null(strstr(out.data, "/tmp/a\\x1b]0;pwned\\x07\"&'"));
	/* Aligned: the header and the row put the counts at the same column. */
	assert_non_null(strstr(out.data, "Busiest peers\n  ADDRESS  CONNECTIONS  OUTBOUND  INBOUND  FAILED\n"
					 "  8.8.8.8            3         0        3       0\n"
					 "  9.9.9.9            2         0        2       0\n"
					 "  ... 1 more (--top 0 shows all)\n"));
	assert_non_null(strstr(out.data, "Alerts\n  (none)\n"));
	pw_buf_free(&out);
}

static void test_html_view(void **state)
{
	struct pw_report *r = *state;
	struct pw_report_view v = { .top = 10 };
	struct pw_buf out;

	add_hostile(r);
	assert_int_equal(pw_report_finish(r), 0);
	pw_buf_init(&out);
	assert_int_equal(pw_report_render_html(r, &v, &out), 0);
	assert_null(strstr(out.data, "<script"));
	assert_non_null(strstr(out.data, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(out.data, "/tmp/a&#xFFFD;]0;pwned&#xFFFD;&quot;&amp;&#39;"));
	/* Self-contained: nothing that would fetch from anywhere. */
	assert_null(strstr(out.data, "src="));
	assert_null(strstr(out.data, "href="));
	assert_null(strstr(out.data, "url("));
	assert_non_null(strstr(out.data, "default-src 'none'"));
	assert_non_null(strstr(out.data, "<svg class=\"chart\""));
	assert_non_null(strstr(out.data, "</html>\n"));
	pw_buf_free(&out);
}

/* The JSON view reads back with the strict reader, counts intact. */
static void test_json_view(void **state)
{
	struct pw_report *r = *state;
	struct pw_json_reader reader;
	const struct pw_jval *root, *v;
	struct pw_buf out;

	add_hostile(r);
	add(r, "not json");
	assert_int_equal(pw_report_finish(r), 0);
	pw_buf_init(&out);
	assert_int_equal(pw_report_render_json(r, &out), 0);
	assert_int_equal(out.data[out.len - 1], '\n');
	pw_json_reader_init(&reader, 0);
	if (pw_json_read(&reader, out.data, out.len))
		fail_msg("column %zu: %s in %s", reader.error_column, reader.error, out.data);
	root = pw_json_root(&reader);
	assert_int_equal(pw_jval_member(&reader, root, "report_version")->i, 1);
	assert_int_equal(pw_jval_member(&reader, root, "events")->i, 1);
	assert_int_equal(pw_jval_path(&reader, root, "malformed.count")->i, 1);
	v = pw_jval_first(&reader, pw_jval_path(&reader, root, "malformed.first"));
	assert_int_equal(pw_jval_member(&reader, v, "line")->i, line_no);
	assert_int_equal(pw_jval_member(&reader, v, "column")->i, 1);
	v = pw_jval_first(&reader, pw_jval_member(&reader, root, "open_ports"));
	assert_non_null(v);
	assert_int_equal(pw_jval_member(&reader, v, "port")->i, 31337);
	assert_string_equal(pw_jval_string(&reader, pw_jval_member(&reader, v, "process"), NULL),
			    "<script>alert(1)</script>");
	assert_string_equal(pw_jval_string(&reader, pw_jval_member(&reader, v, "exe"), NULL),
			    "/tmp/a\x1b]0;pwned\x07\"&'");
	assert_int_equal(pw_jval_member(&reader, v, "service")->type, PW_JVAL_NULL);
	assert_int_equal(pw_jval_member(&reader, root, "alerts")->count, 0);
	pw_json_reader_free(&reader);
	pw_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts_loss_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_message_is_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_view, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
