/* Unit tests for delivery: the RFC 5424 header, RFC 6587 octet counting,
 * the --output spec parser and its messages, the bounded line queue, the
 * file sink's rotation into gzip files, and the TCP sink's reconnect with
 * replay against a real loopback listener. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>
#include <cmocka.h>
#include "buf.h"
#include "file_sink.h"
#include "line_queue.h"
#include "output.h"
#include "output_spec.h"
#include "syslog_sink.h"

#define TIME_NS 1795642718438966340ull /* 2026-11-25T21:38:38.438966340Z */

/* RFC 5424 header ---------------------------------------------------------- */

static void test_header_exact(void **state)
{
	struct pw_buf b;

	(void)state;
	pw_buf_init(&b);
	assert_int_equal(pw_syslog_header(&b, 3, PW_SYSLOG_NOTICE, TIME_NS, "web1", "portwarden",
					  4242),
			 0);
	/* daemon(3) * 8 + notice(5) = 29; microseconds, not nanoseconds. */
	assert_string_equal(b.data, "<29>1 2026-11-25T21:38:38.438966Z web1 portwarden 4242 - - ");
	pw_buf_reset(&b);
	assert_int_equal(pw_syslog_header(&b, 16, PW_SYSLOG_WARNING, 1000, "h", "portwarden", 1),
			 0);
	assert_string_equal(b.data, "<132>1 1970-01-01T00:00:00.000001Z h portwarden 1 - - ");
	pw_buf_free(&b);
}

static void test_header_nil_and_sanitized_host(void **state)
{
	struct pw_buf b;
	char long_host[400];

	(void)state;
	pw_buf_init(&b);
	assert_int_equal(pw_syslog_header(&b, 3, PW_SYSLOG_INFO, 0, "", "portwarden", 7), 0);
	assert_string_equal(b.data, "<30>1 - - portwarden 7 - - ");
	pw_buf_reset(&b);
	/* A space in HOSTNAME would shift every later field. */
	assert_int_equal(pw_syslog_header(&b, 3, PW_SYSLOG_NOTICE, 0, "we b\x01\xc3\xa9", "portwarden", 7),
			 0);
	assert_string_equal(b.data, "<29>1 - we_b___ portwarden 7 - - ");
	pw_buf_reset(&b);
	memset(long_host, 'a', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	assert_int_equal(pw_syslog_header(&b, 3, PW_SYSLOG_NOTICE, 0, long_host, "portwarden", 7), 0);
	assert_int_equal(strlen(b.data), strlen("<29>1 - ") + 255 + strlen(" portwarden 7 - - "));
	pw_buf_reset(&b);
	assert_int_equal(pw_syslog_header(&b, 24, PW_SYSLOG_NOTICE, 0, "h", "portwarden", 7),
			 -EINVAL);
	assert_int_equal(pw_syslog_header(&b, -1, PW_SYSLOG_NOTICE, 0, "h", "portwarden", 7),
			 -EINVAL);
	assert_int_equal(b.len, 0);
	pw_buf_free(&b);
}

static void test_severity_by_record_type(void **state)
{
	(void)state;
	assert_int_equal(pw_syslog_severity_of(PW_REC_STATE), PW_SYSLOG_NOTICE);
	assert_int_equal(pw_syslog_severity_of(PW_REC_BIND), PW_SYSLOG_NOTICE);
	assert_int_equal(pw_syslog_severity_of(PW_REC_SNAPSHOT), PW_SYSLOG_NOTICE);
	assert_int_equal(pw_syslog_severity_of(PW_REC_ALERT), PW_SYSLOG_WARNING);
	assert_int_equal(pw_syslog_severity_of(PW_REC_LOSS), PW_SYSLOG_WARNING);
	assert_int_equal(pw_syslog_severity_of(PW_REC_STATS), PW_SYSLOG_INFO);
}

/* RFC 6587 octet counting -------------------------------------------------- */

static void test_octet_counting(void **state)
{
	struct pw_buf b;
	const char *utf8 = "h\xc3\xa9"; /* 3 bytes, 2 characters: LEN counts octets */

	(void)state;
	pw_buf_init(&b);
	assert_int_equal(pw_syslog_frame(&b, "<29>1 - - portwarden 1 - - {}", 29), 0);
	assert_int_equal(pw_syslog_frame(&b, utf8, 3), 0);
	assert_int_equal(pw_syslog_frame(&b, "", 0), 0);
	assert_string_equal(b.data, "29 <29>1 - - portwarden 1 - - {}3 h\xc3\xa9" "0 ");
	pw_buf_free(&b);
}

/* --output spec parser ----------------------------------------------------- */

static void test_spec_valid(void **state)
{
	struct pw_output_spec s;
	char err[256];

	(void)state;
	assert_int_equal(pw_output_spec_parse("-", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, PW_OUTPUT_STDOUT);
	assert_int_equal(s.format, PW_OUTPUT_FORMAT_DEFAULT);

	assert_int_equal(pw_output_spec_parse("file:/var/log/pw.json,format=ecs,max-size=50M,keep=7",
					      &s, err, sizeof(err)),
			 0);
	assert_int_equal(s.kind, PW_OUTPUT_FILE);
	assert_string_equal(s.path, "/var/log/pw.json");
	assert_int_equal(s.format, PW_OUTPUT_FORMAT_ECS);
	assert_int_equal(s.max_size, 50ull << 20);
	assert_int_equal(s.keep, 7);
	assert_int_equal(s.queue_lines, PW_OUTPUT_DEFAULT_QUEUE_LINES);

	assert_int_equal(pw_output_spec_parse("file:rel.log", &s, err, sizeof(err)), 0);
	assert_int_equal(s.max_size, 0);
	assert_int_equal(s.keep, PW_OUTPUT_DEFAULT_KEEP);

	assert_int_equal(pw_output_spec_parse("udp://127.0.0.1:514", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, PW_OUTPUT_UDP);
	assert_string_equal(s.host, "127.0.0.1");
	assert_string_equal(s.port, "514");
	assert_int_equal(s.facility, PW_SYSLOG_FACILITY_DAEMON);

	assert_int_equal(pw_output_spec_parse("tcp://[::1]:6514,format=ocsf,facility=local3,queue=16",
					      &s, err, sizeof(err)),
			 0);
	assert_int_equal(s.kind, PW_OUTPUT_TCP);
	assert_string_equal(s.host, "::1");
	assert_string_equal(s.port, "6514");
	assert_int_equal(s.format, PW_OUTPUT_FORMAT_OCSF);
	assert_int_equal(s.facility, 19);
	assert_int_equal(s.queue_lines, 16);

	assert_int_equal(pw_output_spec_parse("tcp://logs.example.com:601,format=text", &s, err,
					      sizeof(err)),
			 0);
	assert_string_equal(s.host, "logs.example.com");
	assert_int_equal(s.format, PW_OUTPUT_FORMAT_TEXT);
	assert_int_equal(pw_output_spec_parse("file:x,max-size=4096,keep=0", &s, err, sizeof(err)), 0);
	assert_int_equal(s.max_size, 4096);
	assert_int_equal(s.keep, 0);
	assert_int_equal(pw_output_spec_parse("file:x,max-size=512k", &s, err, sizeof(err)), 0);
	assert_int_equal(s.max_size, 512 << 10);
	assert_int_equal(pw_output_spec_parse("file:x,max-size=1G", &s, err, sizeof(err)), 0);
	assert_int_equal(s.max_size, 1ull << 30);
}

static void check_error(const char *spec, const char *want)
{
	struct pw_output_spec s;
	char err[256] = "";

	assert_int_equal(pw_output_spec_parse(spec, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
}

static void test_spec_errors(void **state)
{
	(void)state;
	check_error("bogus", "--output 'bogus': unknown destination 'bogus' (expected -, "
			     "file:PATH, udp://HOST:PORT or tcp://HOST:PORT)");
	check_error("", "--output '': unknown destination '' (expected -, file:PATH, "
			"udp://HOST:PORT or tcp://HOST:PORT)");
	check_error("http://x:1", "--output 'http://x:1': unknown destination 'http://x:1' "
				  "(expected -, file:PATH, udp://HOST:PORT or tcp://HOST:PORT)");
	check_error("file:", "--output 'file:': file: needs a path (file:PATH)");
	check_error("file:,format=json", "--output 'file:,format=json': file: needs a path (file:PATH)");
	check_error("udp://127.0.0.1", "--output 'udp://127.0.0.1': missing ':PORT' after the host");
	check_error("udp://:514", "--output 'udp://:514': missing host before ':PORT'");
	check_error("tcp://h:", "--output 'tcp://h:': missing or bad port after ':'");
	check_error("tcp://h:0", "--output 'tcp://h:0': port '0' is not a number in 1..65535");
	check_error("tcp://h:65536", "--output 'tcp://h:65536': port '65536' is not a number in 1..65535");
	check_error("tcp://h:5x", "--output 'tcp://h:5x': port '5x' is not a number in 1..65535");
	check_error("tcp://::1:514", "--output 'tcp://::1:514': an IPv6 address needs brackets: [ADDR]:PORT");
	check_error("tcp://[::1:514", "--output 'tcp://[::1:514': IPv6 address without closing ']'");
	check_error("tcp://[::1]514", "--output 'tcp://[::1]514': missing ':PORT' after the address");
	check_error("-,format=xml", "--output '-,format=xml': format 'xml' is not one of text, json, ecs, ocsf");
	check_error("-,format", "--output '-,format': option 'format' needs a value (KEY=VALUE)");
	check_error("-,format=", "--output '-,format=': bad option 'format='");
	check_error("-,,format=json", "--output '-,,format=json': empty option after ','");
	check_error("-,colour=red", "--output '-,colour=red': unknown option 'colour' (known: format, "
				    "max-size, keep, facility, queue)");
	check_error("-,max-size=1M", "--output '-,max-size=1M': max-size applies to file outputs only");
	check_error("udp://h:1,keep=3", "--output 'udp://h:1,keep=3': keep applies to file outputs only");
	check_error("file:x,max-size=0", "--output 'file:x,max-size=0': max-size '0' is not a size "
					 "above 0 (e.g. 4096, 512K, 10M, 1G)");
	check_error("file:x,max-size=10T", "--output 'file:x,max-size=10T': max-size '10T' is not a "
					   "size above 0 (e.g. 4096, 512K, 10M, 1G)");
	check_error("file:x,max-size=-1", "--output 'file:x,max-size=-1': max-size '-1' is not a "
					  "size above 0 (e.g. 4096, 512K, 10M, 1G)");
	check_error("file:x,keep=101", "--output 'file:x,keep=101': keep '101' is not a number in 0..100");
	check_error("file:x,facility=daemon", "--output 'file:x,facility=daemon': facility applies "
					      "to syslog outputs only");
	check_error("udp://h:1,facility=kern", "--output 'udp://h:1,facility=kern': facility 'kern' "
					       "is not one of user, daemon, auth, authpriv, local0..local7");
	check_error("-,queue=10", "--output '-,queue=10': queue does not apply to stdout");
	check_error("file:x,queue=0", "--output 'file:x,queue=0': queue '0' is not a number in 1..1000000");
}

/* Line queue --------------------------------------------------------------- */

static void test_queue_caps_and_order(void **state)
{
	struct pw_line_queue q;
	struct pw_line out[8];
	size_t n;

	(void)state;
	assert_int_equal(pw_line_queue_init(&q, 3, 10), 0);
	assert_int_equal(pw_line_queue_push(&q, "aaaa", 4, 0), 0);
	assert_int_equal(pw_line_queue_push(&q, "bbbb", 4, 0), 0);
	/* 8 + 4 bytes would pass the 10-byte cap. */
	assert_int_equal(pw_line_queue_push(&q, "cccc", 4, 0), -ENOBUFS);
	assert_false(pw_line_queue_has_room(&q, 4));
	assert_true(pw_line_queue_has_room(&q, 2));
	assert_int_equal(pw_line_queue_push(&q, "cc", 2, 5), 0);
	/* Three lines: the line cap. */
	assert_int_equal(pw_line_queue_push(&q, "d", 1, 0), -ENOBUFS);
	pw_line_queue_flush(&q);
	n = pw_line_queue_pop(&q, out, 2, 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out[0].data, "aaaa", 4);
	assert_memory_equal(out[1].data, "bbbb", 4);
	pw_line_queue_release(&q, n);
	n = pw_line_queue_pop(&q, out, 8, 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].carried_lost, 5);
	pw_line_queue_release(&q, n);
	/* An empty queue takes a line larger than the byte cap, alone. */
	assert_int_equal(pw_line_queue_push(&q, "0123456789abcdef", 16, 0), 0);
	assert_int_equal(pw_line_queue_push(&q, "x", 1, 0), -ENOBUFS);
	assert_int_equal(pw_line_queue_discard(&q), 1);
	pw_line_queue_close(&q);
	assert_int_equal(pw_line_queue_push(&q, "x", 1, 0), -EPIPE);
	/* Closed and empty: pop returns at once instead of waiting. */
	assert_int_equal(pw_line_queue_pop(&q, out, 8, 60000), 0);
	pw_line_queue_destroy(&q);
}

/* File sink ------------------------------------------------------------------ */

static char *make_tmpdir(void)
{
	static char dir[64];

	strcpy(dir, "/tmp/pw-test-syslog.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static size_t gunzip_file(const char *path, char *out, size_t cap)
{
	gzFile gz = gzopen(path, "rb");
	int n;

	assert_non_null(gz);
	n = gzread(gz, out, (unsigned int)cap);
	assert_true(n >= 0);
	assert_int_equal(gzclose(gz), Z_OK);
	return (size_t)n;
}

static void test_file_rotation_gzip(void **state)
{
	struct pw_file_sink fs;
	struct pw_line lines[10];
	char *dir = make_tmpdir(), path[128], name[160], text[10][16], back[4096];
	struct stat st;
	size_t n;
	int err;

	(void)state;
	snprintf(path, sizeof(path), "%s/pw.log", dir);
	/* Each line is 10 bytes; 25-byte files hold two lines. */
	assert_int_equal(pw_file_sink_open(&fs, path, 25, 2, back, sizeof(back)), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(text[i], sizeof(text[i]), "line %04d\n", i);
		lines[i] = (struct pw_line){ .data = text[i], .len = 10 };
	}
	n = pw_file_sink_write(&fs, lines, 10, &err);
	assert_int_equal(n, 10);
	assert_int_equal(err, 0);
	assert_int_equal(fs.rotations, 4);
	pw_file_sink_settle(&fs);
	/* Current file: the last two lines; .1.gz the two before; .2.gz the
	 * two before those; older ones fell off (keep=2). */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 20);
	snprintf(name, sizeof(name), "%s.1.gz", path);
	n = gunzip_file(name, back, sizeof(back));
	assert_int_equal(n, 20);
	assert_memory_equal(back, "line 0006\nline 0007\n", 20);
	snprintf(name, sizeof(name), "%s.2.gz", path);
	n = gunzip_file(name, back, sizeof(back));
	assert_memory_equal(back, "line 0004\nline 0005\n", 20);
	snprintf(name, sizeof(name), "%s.3.gz", path);
	assert_int_equal(stat(name, &st), -1);
	snprintf(name, sizeof(name), "%s.rotating-4", path);
	assert_int_equal(stat(name, &st), -1);

	/* Re-open after an outside rename (logrotate): a new file. */
	snprintf(name, sizeof(name), "%s.moved", path);
	assert_int_equal(rename(path, name), 0);
	assert_int_equal(pw_file_sink_reopen(&fs), 0);
	n = pw_file_sink_write(&fs, lines, 1, &err);
	assert_int_equal(n, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 10);
	assert_int_equal(stat(name, &st), 0);
	assert_int_equal(st.st_size, 20);
	pw_file_sink_close(&fs);
	snprintf(name, sizeof(name), "rm -rf '%s'", dir);
	assert_int_equal(system(name), 0);
}

static void test_file_open_errors(void **state)
{
	struct pw_file_sink fs;
	char err[256];

	(void)state;
	assert_int_equal(pw_file_sink_open(&fs, "/nonexistent-dir/pw.json", 0, 5, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "cannot open output file /nonexistent-dir/pw.json: No such file "
				 "or directory");
	pw_file_sink_close(&fs);
	assert_int_equal(pw_file_sink_open(&fs, "/tmp", 0, 5, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "cannot open output file /tmp: Is a directory");
	pw_file_sink_close(&fs);
}

/* TCP sink against a real listener ----------------------------------------- */

static int listener(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (*port)
		a.sin_port = htons(*port);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Read octet-counted frames from fd until want bytes of frames arrived. */
static void read_exact(int fd, char *out, size_t want)
{
	size_t got = 0;

	while (got < want) {
		ssize_t n = recv(fd, out + got, want - got, 0);

		assert_true(n > 0);
		got += (size_t)n;
	}
	out[got] = '\0';
}

/* A line as the queue hands it out: a view the sink must not keep. */
static struct pw_line line_of(char *s)
{
	return (struct pw_line){ .data = s, .len = strlen(s) };
}

static void test_tcp_send_reconnect_replay(void **state)
{
	struct pw_syslog_sink s;
	struct pw_output_spec spec;
	struct pw_line lines[2], *kept;
	char err[256], got[256], one[] = "one", two[] = "two!", three[] = "three";
	uint16_t port = 0;
	int lfd, conn, rc;
	size_t sent;

	(void)state;
	lfd = listener(&port);
	snprintf(err, sizeof(err), "tcp://127.0.0.1:%u", port);
	assert_int_equal(pw_output_spec_parse(err, &spec, err, sizeof(err)), 0);
	assert_int_equal(pw_syslog_sink_open(&s, &spec, err, sizeof(err)), 0);
	assert_int_equal(pw_syslog_tcp_connect(&s), 0);
	conn = accept(lfd, NULL, NULL);
	assert_true(conn >= 0);
	lines[0] = line_of(one);
	lines[1] = line_of(two);
	sent = pw_syslog_tcp_send(&s, lines, 2, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(sent, 2);
	/* The replay window keeps copies: the queue reuses its lines. */
	assert_int_equal(s.window_count, 2);
	kept = &s.window[s.window_head];
	assert_true(kept->data != one);
	strcpy(one, "ONE");
	assert_memory_equal(kept->data, "one", 3);
	read_exact(conn, got, strlen("3 one4 two!"));
	assert_string_equal(got, "3 one4 two!");

	/* The collector goes away: the next send notices the closed
	 * connection before writing into a dead socket. */
	close(conn);
	close(lfd);
	lines[0] = line_of(three);
	sent = pw_syslog_tcp_send(&s, lines, 1, &rc);
	assert_int_equal(sent, 0);
	assert_int_equal(rc, -ECONNRESET);
	assert_false(s.connected);
	/* Refused while it is down; then the backoff holds attempts back. */
	rc = pw_syslog_tcp_connect(&s);
	assert_int_equal(rc, -ECONNREFUSED);
	assert_int_equal(pw_syslog_tcp_connect(&s), -EAGAIN);
	assert_true(pw_syslog_retry_in_ms(&s) > 0);
	assert_true(pw_syslog_retry_in_ms(&s) <= PW_SYSLOG_BACKOFF_MIN_MS);

	/* Back on the same port: reconnect replays the window, then the
	 * line that was waiting goes out. */
	lfd = listener(&port);
	while (pw_syslog_retry_in_ms(&s)) {
		struct timespec ts = { 0, 20 * 1000000L };

		nanosleep(&ts, NULL);
	}
	assert_int_equal(pw_syslog_tcp_connect(&s), 0);
	assert_int_equal(s.replayed, 2);
	assert_int_equal(s.connects, 2);
	conn = accept(lfd, NULL, NULL);
	assert_true(conn >= 0);
	sent = pw_syslog_tcp_send(&s, lines, 1, &rc);
	assert_int_equal(sent, 1);
	read_exact(conn, got, strlen("3 one4 two!5 three"));
	assert_string_equal(got, "3 one4 two!5 three");
	close(conn);
	close(lfd);
	pw_syslog_sink_close(&s);
}

static void test_udp_one_datagram_per_message(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	struct pw_syslog_sink s;
	struct pw_output_spec spec;
	struct pw_line l1 = { .data = "<29>1 - - portwarden 1 - - {\"a\":1}", .len = 34 };
	struct pw_line l2 = { .data = "second", .len = 6 };
	char err[256], got[128];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	(void)state;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(err, sizeof(err), "udp://127.0.0.1:%u", ntohs(a.sin_port));
	assert_int_equal(pw_output_spec_parse(err, &spec, err, sizeof(err)), 0);
	assert_int_equal(pw_syslog_sink_open(&s, &spec, err, sizeof(err)), 0);
	assert_int_equal(pw_syslog_udp_send(&s, &l1), 0);
	assert_int_equal(pw_syslog_udp_send(&s, &l2), 0);
	n = recv(fd, got, sizeof(got), 0);
	assert_int_equal(n, 34);
	assert_memory_equal(got, l1.data, 34);
	n = recv(fd, got, sizeof(got), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(got, "second", 6);
	/* A batch: one system call, still one datagram per message. */
	{
		struct pw_line batch[2] = { l2, l1 };
		int batch_err;

		assert_int_equal(pw_syslog_udp_send_batch(&s, batch, 2, &batch_err), 2);
		assert_int_equal(batch_err, 0);
		assert_int_equal(recv(fd, got, sizeof(got), 0), 6);
		assert_int_equal(recv(fd, got, sizeof(got), 0), 34);
		assert_memory_equal(got, l1.data, 34);
	}
	close(fd);
	pw_syslog_sink_close(&s);
}

static void test_unresolvable_host(void **state)
{
	struct pw_syslog_sink s;
	struct pw_output_spec spec;
	char err[256];

	(void)state;
	assert_int_equal(pw_output_spec_parse("udp://no-such-host.invalid:514", &spec, err,
					      sizeof(err)),
			 0);
	assert_int_equal(pw_syslog_sink_open(&s, &spec, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "output udp://no-such-host.invalid:514: cannot resolve "
				    "'no-such-host.invalid'"));
	pw_syslog_sink_close(&s);
}

/* Output set --------------------------------------------------------------- */

static size_t count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void emit_stats(struct pw_outputs *set, uint64_t events)
{
	struct pw_record rec = { .type = PW_REC_STATS, .time_ns = TIME_NS, .host = "h" };

	rec.stats.events = events;
	assert_int_equal(pw_outputs_emit(set, &rec), 0);
}

/* Without its writer running, a file output's queue fills: what does not
 * fit is counted, spends its seq, and is reported by a loss record as soon
 * as there is room again, before the next line. */
static void test_outputs_queue_full_loss_record(void **state)
{
	char *dir = make_tmpdir(), spec[160], path[128], err[256], *summary = NULL;
	const char *specs[1] = { spec };
	struct pw_outputs_config cfg = { .specs = specs, .n_specs = 1, .host = "h" };
	struct pw_outputs *set;
	size_t summary_len = 0;
	char line[512];
	uint64_t seqs[8];
	size_t n = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/out.json", dir);
	snprintf(spec, sizeof(spec), "file:%s,queue=3", path);
	assert_int_equal(pw_outputs_open(&set, &cfg, err, sizeof(err)), 0);
	for (uint64_t i = 1; i <= 5; i++)
		emit_stats(set, i);
	assert_int_equal(pw_outputs_lost(set), 2);
	assert_int_equal(pw_outputs_start(set, err, sizeof(err)), 0);
	for (int i = 0; i < 500 && count_lines(path) < 3; i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	assert_int_equal(count_lines(path), 3);
	pw_outputs_flush(set); /* room again: the loss record goes first */
	emit_stats(set, 6);
	pw_outputs_close(set);
	f = open_memstream(&summary, &summary_len);
	pw_outputs_summary(set, f);
	fclose(f);
	snprintf(line, sizeof(line), "portwarden: output file:%s (json): 5 delivered, 2 lost, 0 rotations\n",
		 path);
	assert_string_equal(summary, line);
	free(summary);
	pw_outputs_free(set);

	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) && n < 8) {
		char *p = strstr(line, "\"seq\":");

		assert_non_null(p);
		seqs[n] = strtoull(p + 6, NULL, 10);
		if (n == 3) {
			assert_non_null(strstr(line, "\"type\":\"loss\""));
			assert_non_null(strstr(line, "\"lost\":2,\"reason\":\"output_queue_full\""));
		} else {
			assert_non_null(strstr(line, "\"type\":\"stats\""));
		}
		n++;
	}
	fclose(f);
	assert_int_equal(n, 5);
	/* Lines 4 and 5 were lost: their seqs are the gap the loss covers. */
	assert_int_equal(seqs[0], 1);
	assert_int_equal(seqs[1], 2);
	assert_int_equal(seqs[2], 3);
	assert_int_equal(seqs[3], 6);
	assert_int_equal(seqs[4], 7);
	snprintf(line, sizeof(line), "rm -rf '%s'", dir);
	assert_int_equal(system(line), 0);
}

static void test_outputs_open_errors(void **state)
{
	const char *twice[2] = { "-", "-,format=json" };
	const char *bad[1] = { "file:/nonexistent-dir/x.json" };
	struct pw_outputs_config cfg = { .specs = twice, .n_specs = 2, .host = "h" };
	struct pw_outputs *set = (struct pw_outputs *)1;
	char err[256];

	(void)state;
	assert_int_equal(pw_outputs_open(&set, &cfg, err, sizeof(err)), -EINVAL);
	assert_null(set);
	assert_string_equal(err, "--output: stdout given twice");
	cfg.specs = bad;
	cfg.n_specs = 1;
	assert_int_equal(pw_outputs_open(&set, &cfg, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "cannot open output file /nonexistent-dir/x.json: No such file or "
				 "directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_exact),
		cmocka_unit_test(test_header_nil_and_sanitized_host),
		cmocka_unit_test(test_severity_by_record_type),
		cmocka_unit_test(test_octet_counting),
		cmocka_unit_test(test_spec_valid),
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_queue_caps_and_order),
		cmocka_unit_test(test_file_rotation_gzip),
		cmocka_unit_test(test_file_open_errors),
		cmocka_unit_test(test_tcp_send_reconnect_replay),
		cmocka_unit_test(test_udp_one_datagram_per_message),
		cmocka_unit_test(test_unresolvable_host),
		cmocka_unit_test(test_outputs_queue_full_loss_record),
		cmocka_unit_test(test_outputs_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
