/* Unit tests for the allowlist policy: every parser message (with its line
 * and column), and the matcher's decisions and sentences on made-up records. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "policy.h"
#include "portwarden.h"
#include "record.h"

/* Parse text as "t.policy"; the error message, or "" when it parsed. */
static const char *parse_error(const char *text)
{
	static char err[512];
	struct pw_policy *p = NULL;
	int code = pw_policy_parse("t.policy", text, &p, err, sizeof(err));

	if (code == 0) {
		assert_non_null(p);
		pw_policy_free(p);
		return "";
	}
	assert_int_equal(code, -EINVAL);
	assert_null(p);
	return err;
}

static struct pw_policy *parse_ok(const char *text)
{
	struct pw_policy *p = NULL;
	char err[512];
	int code = pw_policy_parse("t.policy", text, &p, err, sizeof(err));

	if (code)
		fail_msg("unexpected error: %s", err);
	return p;
}

/* A socket event owned by a process, and its annotations. */
struct fixture {
	struct pw_event ev;
	struct pw_record rec;
};

static void make_event(struct fixture *f, enum pw_record_type type, uint8_t protocol,
		       uint16_t family, const char *local_ip, uint16_t port)
{
	memset(f, 0, sizeof(*f));
	f->ev.family = family;
	f->ev.protocol = protocol;
	f->ev.sport = port;
	assert_int_equal(inet_pton(family, local_ip, f->ev.saddr), 1);
	f->ev.owner.pid = 123;
	f->ev.owner.tid = 123;
	f->ev.owner.uid = 0;
	strcpy(f->ev.owner.comm, "smbd");
	f->rec.type = type;
	f->rec.ev = &f->ev;
	f->rec.proc.user = "root";
	f->rec.proc.exe = "/usr/sbin/smbd";
}

/* A live TCP listen (CLOSE -> LISTEN). */
static void make_listen(struct fixture *f, const char *ip, uint16_t port)
{
	make_event(f, PW_REC_STATE, IPPROTO_TCP, strchr(ip, ':') ? AF_INET6 : AF_INET, ip, port);
	f->ev.type = PW_EVENT_STATE;
	f->ev.old_state = PW_TCP_CLOSE;
	f->ev.new_state = PW_TCP_LISTEN;
	f->ev.direction = PW_DIR_LISTEN;
}

/* A successful UDP bind asking for the port. */
static void make_udp_bind(struct fixture *f, const char *ip, uint16_t port)
{
	make_event(f, PW_REC_BIND, IPPROTO_UDP, strchr(ip, ':') ? AF_INET6 : AF_INET, ip, port);
	f->ev.type = PW_EVENT_BIND;
	f->ev.requested_port = port;
}

/* An outgoing TCP connect (CLOSE -> SYN_SENT) to ip:port. */
static void make_connect(struct fixture *f, const char *ip, uint16_t port)
{
	uint16_t family = strchr(ip, ':') ? AF_INET6 : AF_INET;

	make_event(f, PW_REC_STATE, IPPROTO_TCP, family, family == AF_INET6 ? "::" : "0.0.0.0", 0);
	f->ev.type = PW_EVENT_STATE;
	f->ev.old_state = PW_TCP_CLOSE;
	f->ev.new_state = PW_TCP_SYN_SENT;
	f->ev.direction = PW_DIR_OUTBOUND;
	f->ev.dport = port;
	assert_int_equal(inet_pton(family, ip, f->ev.daddr), 1);
	strcpy(f->ev.owner.comm, "curl");
	f->rec.proc.exe = "/usr/bin/curl";
}

/* Parser: accepted forms ------------------------------------------------- */

static void test_parse_accepts_the_documented_forms(void **state)
{
	struct pw_policy *p;

	(void)state;
	p = parse_ok("# a server\n"
		     "\n"
		     "   \t\n"
		     "allow listen tcp 22 exe=/usr/sbin/sshd   # remote login\n"
		     "allow listen tcp,udp 53 user=bind scope=loopback\n"
		     "allow listen tcp registered comm=postgres\n"
		     "allow listen any 8000-8999 container=*\n"
		     "allow listen udp well-known,dynamic,123 user=0 name=ntp\n"
		     "deny listen tcp any comm=nc* name=no-netcat\n"
		     "allow connect tcp 443,80\r\n"
		     "allow connect any any scope=loopback");
	assert_int_equal(pw_policy_rule_count(p), 8);
	assert_true(pw_policy_has_connect_rules(p));
	assert_string_equal(pw_policy_name(p), "t.policy");
	pw_policy_free(p);

	p = parse_ok("allow listen tcp 22");
	assert_int_equal(pw_policy_rule_count(p), 1);
	assert_false(pw_policy_has_connect_rules(p));
	pw_policy_free(p);

	p = parse_ok("");
	assert_int_equal(pw_policy_rule_count(p), 0);
	pw_policy_free(p);

	/* A UTF-8 byte order mark is not part of the first word. */
	p = parse_ok("\xef\xbb\xbf" "allow listen tcp 22\n");
	assert_int_equal(pw_policy_rule_count(p), 1);
	pw_policy_free(p);
}

/* Parser: every message -------------------------------------------------- */

static void test_error_action(void **state)
{
	(void)state;
	assert_string_equal(parse_error("allow listen tcp 22\n  permit listen tcp 22\n"),
			    "t.policy:2:3: expected 'allow' or 'deny', found 'permit'");
}

static void test_error_verb(void **state)
{
	(void)state;
	assert_string_equal(parse_error("allow bind tcp 22"),
			    "t.policy:1:7: expected 'listen' or 'connect' after 'allow', found 'bind'");
	assert_string_equal(parse_error("deny   "),
			    "t.policy:1:8: expected 'listen' or 'connect' after 'deny', found end of line");
	assert_string_equal(parse_error("allow # listen tcp 22"),
			    "t.policy:1:7: expected 'listen' or 'connect' after 'allow', found end of line");
}

static void test_error_transport(void **state)
{
	(void)state;
	assert_string_equal(parse_error("allow listen sctp 22"),
			    "t.policy:1:14: expected a transport (tcp, udp, tcp,udp or any) after "
			    "'listen', found 'sctp'");
	assert_string_equal(parse_error("allow listen tcp,icmp 22"),
			    "t.policy:1:18: expected a transport (tcp, udp, tcp,udp or any) after "
			    "',', found 'icmp'");
	assert_string_equal(parse_error("allow listen tcp, 22"),
			    "t.policy:1:18: expected a transport (tcp, udp, tcp,udp or any) after "
			    "',', found nothing");
	assert_string_equal(parse_error("allow connect"),
			    "t.policy:1:14: expected a transport (tcp, udp, tcp,udp or any) after "
			    "'connect', found end of line");
}

static void test_error_port(void **state)
{
	(void)state;
	/* The example of the issue, word for word. */
	assert_string_equal(parse_error("allow listen tcp x"),
			    "t.policy:1:18: expected a port, range or category after 'tcp', found 'x'");
	assert_string_equal(parse_error("allow listen tcp"),
			    "t.policy:1:17: expected a port, range or category after 'tcp', found end of line");
	assert_string_equal(parse_error("allow listen udp 53,ssh"),
			    "t.policy:1:21: expected a port, range or category after ',', found 'ssh'");
	assert_string_equal(parse_error("allow listen udp 53,"),
			    "t.policy:1:21: expected a port, range or category after ',', found nothing");
	assert_string_equal(parse_error("allow listen tcp 80-"),
			    "t.policy:1:18: expected a port, range or category after 'tcp', found '80-'");
	assert_string_equal(parse_error("allow listen tcp -80"),
			    "t.policy:1:18: expected a port, range or category after 'tcp', found '-80'");
	assert_string_equal(parse_error("allow listen tcp 1-2-3"),
			    "t.policy:1:18: expected a port, range or category after 'tcp', found '1-2-3'");
}

static void test_error_port_range(void **state)
{
	(void)state;
	assert_string_equal(parse_error("allow listen tcp 70000"),
			    "t.policy:1:18: expected ports from 1 to 65535, found '70000'");
	assert_string_equal(parse_error("allow listen tcp 0"),
			    "t.policy:1:18: expected ports from 1 to 65535, found '0'");
	assert_string_equal(parse_error("allow listen tcp 22,1-99999999999"),
			    "t.policy:1:21: expected ports from 1 to 65535, found '1-99999999999'");
	assert_string_equal(parse_error("allow listen tcp 9000-8000"),
			    "t.policy:1:18: expected a range FIRST-LAST with FIRST <= LAST, found '9000-8000'");
}

static void test_error_condition(void **state)
{
	(void)state;
	assert_string_equal(parse_error("allow listen tcp 22 sshd"),
			    "t.policy:1:21: expected a condition (exe=, comm=, user=, container=, "
			    "scope= or name=), found 'sshd'");
	assert_string_equal(parse_error("allow listen tcp 22 pid=1"),
			    "t.policy:1:21: expected a condition (exe=, comm=, user=, container=, "
			    "scope= or name=), found 'pid=1'");
	assert_string_equal(parse_error("allow listen tcp 22 =x"),
			    "t.policy:1:21: expected a condition (exe=, comm=, user=, container=, "
			    "scope= or name=), found '=x'");
	assert_string_equal(parse_error("allow listen tcp 22 comm=a comm=b"),
			    "t.policy:1:28: expected each condition once, found a second 'comm='");
	assert_string_equal(parse_error("allow listen tcp 22 user="),
			    "t.policy:1:26: expected a value after 'user=', found nothing");
}

static void test_error_condition_values(void **state)
{
	(void)state;
	assert_string_equal(parse_error("allow listen tcp 22 exe=sshd"),
			    "t.policy:1:25: expected an absolute path or a pattern after 'exe=', found 'sshd'");
	assert_string_equal(parse_error("allow listen tcp 22 comm=a-very-long-daemon-name"),
			    "t.policy:1:26: expected a command name of at most 15 characters after "
			    "'comm=' (the kernel keeps no more), found 'a-very-long-daemon-name'");
	assert_string_equal(parse_error("allow listen tcp 22 scope=local"),
			    "t.policy:1:27: expected loopback, any or address after 'scope=', found 'local'");
	assert_string_equal(parse_error("allow listen tcp 22 name=my/rule"),
			    "t.policy:1:26: expected a rule name of letters, digits, '-', '_' or '.' "
			    "after 'name=', found 'my/rule'");
	assert_string_equal(parse_error("allow listen tcp 22 name=ssh\nallow listen tcp 2222 name=ssh"),
			    "t.policy:2:28: expected a rule name not used before, found 'ssh' "
			    "(already the name of line 1)");
	assert_string_equal(parse_error("allow listen tcp 22 user=99999999999"),
			    "t.policy:1:26: expected a user name or a uid below 4294967295 after "
			    "'user=', found '99999999999'");
	/* A long pattern is fine for comm=: the match is on the kernel's 15. */
	assert_string_equal(parse_error("allow listen tcp 22 comm=a-very-long-daemon*"), "");
}

static void test_error_long_words_are_cut(void **state)
{
	char text[400], expect[400];

	(void)state;
	memset(text, 0, sizeof(text));
	strcpy(text, "allow listen tcp ");
	memset(text + strlen(text), 'x', 200);
	snprintf(expect, sizeof(expect),
		 "t.policy:1:18: expected a port, range or category after 'tcp', found '%.60s'",
		 text + 17);
	assert_string_equal(parse_error(text), expect);
}

static void test_load_from_file(void **state)
{
	char path[] = "/tmp/pw-policy-XXXXXX", err[512], expect[600];
	struct pw_policy *p = NULL;
	FILE *file;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	file = fdopen(fd, "w");
	assert_non_null(file);
	fputs("allow listen tcp 22\n# comment\nallow listen udp 53 scope=lan\n", file);
	fclose(file);
	assert_int_equal(pw_policy_load(path, &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
	snprintf(expect, sizeof(expect),
		 "%s:3:27: expected loopback, any or address after 'scope=', found 'lan'", path);
	assert_string_equal(err, expect);

	file = fopen(path, "w");
	assert_non_null(file);
	fputs("allow listen tcp 22\n", file);
	fclose(file);
	assert_int_equal(pw_policy_load(path, &p, err, sizeof(err)), 0);
	assert_non_null(p);
	assert_string_equal(pw_policy_name(p), path);
	pw_policy_free(p);

	file = fopen(path, "w");
	assert_non_null(file);
	fwrite("allow\0listen", 1, 12, file);
	fclose(file);
	assert_int_equal(pw_policy_load(path, &p, err, sizeof(err)), -EINVAL);
	snprintf(expect, sizeof(expect), "cannot read %s: it holds NUL bytes, not a policy", path);
	assert_string_equal(err, expect);

	unlink(path);
	assert_int_equal(pw_policy_load(path, &p, err, sizeof(err)), -ENOENT);
	assert_null(p);
	snprintf(expect, sizeof(expect), "cannot read %s: No such file or directory", path);
	assert_string_equal(err, expect);
}

/* Matcher ---------------------------------------------------------------- */

static void test_listen_not_allowed_reason(void **state)
{
	struct pw_policy *p = parse_ok("allow listen tcp 22\n");
	struct pw_policy_verdict v;
	struct pw_record alert;
	struct fixture f;

	(void)state;
	make_listen(&f, "0.0.0.0", 445);
	f.rec.local_service = "microsoft-ds";
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.rule, "default");
	assert_string_equal(v.reason, "tcp port 445 (microsoft-ds) opened for listening on 0.0.0.0 "
				      "(all interfaces) by smbd (pid 123, user root) is not allowed by "
				      "t.policy");
	pw_policy_alert_record(&f.rec, &v, &alert);
	assert_int_equal(alert.type, PW_REC_ALERT);
	assert_ptr_equal(alert.ev, &f.ev);
	assert_string_equal(alert.alert.rule, "default");
	assert_ptr_equal(alert.alert.reason, v.reason);
	assert_string_equal(alert.proc.exe, "/usr/sbin/smbd");
	assert_false(alert.alert.existing);

	make_listen(&f, "0.0.0.0", 22);
	assert_false(pw_policy_check(p, &f.rec, &v));
	pw_policy_free(p);
}

static void test_ports_ranges_categories_transports(void **state)
{
	struct pw_policy *p = parse_ok("allow listen tcp 22,8000-8999\n"
				       "allow listen udp registered\n"
				       "allow listen any 53\n");
	struct pw_policy_verdict v;
	struct fixture f;

	(void)state;
	make_listen(&f, "0.0.0.0", 8000);
	assert_false(pw_policy_check(p, &f.rec, &v));
	make_listen(&f, "0.0.0.0", 8999);
	assert_false(pw_policy_check(p, &f.rec, &v));
	make_listen(&f, "0.0.0.0", 9000);
	assert_true(pw_policy_check(p, &f.rec, &v));
	make_listen(&f, "::", 53);
	assert_false(pw_policy_check(p, &f.rec, &v));
	/* udp registered does not cover tcp. */
	make_listen(&f, "0.0.0.0", 5000);
	assert_true(pw_policy_check(p, &f.rec, &v));
	make_udp_bind(&f, "0.0.0.0", 5000);
	assert_false(pw_policy_check(p, &f.rec, &v));
	make_udp_bind(&f, "0.0.0.0", 1023);
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.reason, "udp port 1023 bound on 0.0.0.0 (all interfaces) by smbd "
				      "(pid 123, user root) is not allowed by t.policy");
	make_udp_bind(&f, "0.0.0.0", 49152);
	assert_true(pw_policy_check(p, &f.rec, &v));
	make_udp_bind(&f, "::", 53);
	assert_false(pw_policy_check(p, &f.rec, &v));
	pw_policy_free(p);
}

static void test_conditions(void **state)
{
	struct pw_policy *p = parse_ok("allow listen tcp 22 exe=/usr/sbin/sshd\n"
				       "allow listen tcp 5432 comm=postgres*\n"
				       "allow listen tcp 53 user=bind scope=loopback\n"
				       "allow listen tcp 54 user=0\n"
				       "allow listen tcp 8080 container=*\n"
				       "allow listen tcp 8081 container=0123456789ab\n"
				       "allow listen tcp 8082 container=none\n"
				       "allow listen tcp 9000 scope=address\n");
	struct pw_policy_verdict v;
	struct fixture f;

	(void)state;
	make_listen(&f, "0.0.0.0", 22);
	assert_true(pw_policy_check(p, &f.rec, &v)); /* exe is /usr/sbin/smbd */
	f.rec.proc.exe = "/usr/sbin/sshd";
	assert_false(pw_policy_check(p, &f.rec, &v));
	f.rec.proc.exe = NULL; /* unreadable exe matches no exe= */
	assert_true(pw_policy_check(p, &f.rec, &v));

	make_listen(&f, "0.0.0.0", 5432);
	assert_true(pw_policy_check(p, &f.rec, &v));
	strcpy(f.ev.owner.comm, "postgres: main");
	assert_false(pw_policy_check(p, &f.rec, &v));

	make_listen(&f, "127.0.0.1", 53);
	f.rec.proc.user = "bind";
	f.ev.owner.uid = 4242;
	assert_false(pw_policy_check(p, &f.rec, &v));
	make_listen(&f, "::ffff:127.0.0.53", 53);
	f.rec.proc.user = "bind";
	assert_false(pw_policy_check(p, &f.rec, &v));
	make_listen(&f, "0.0.0.0", 53); /* bind user, but every interface */
	f.rec.proc.user = "bind";
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.reason, "tcp port 53 opened for listening on 0.0.0.0 (all interfaces) "
				      "by smbd (pid 123, user bind) is not allowed by t.policy");
	make_listen(&f, "::1", 53); /* loopback, but root */
	assert_true(pw_policy_check(p, &f.rec, &v));

	make_listen(&f, "0.0.0.0", 54);
	assert_false(pw_policy_check(p, &f.rec, &v));
	f.ev.owner.uid = 1000;
	f.rec.proc.user = NULL;
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.reason, "tcp port 54 opened for listening on 0.0.0.0 (all interfaces) "
				      "by smbd (pid 123, user uid 1000) is not allowed by t.policy");

	make_listen(&f, "0.0.0.0", 8080);
	assert_true(pw_policy_check(p, &f.rec, &v));
	f.rec.proc.container_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	assert_false(pw_policy_check(p, &f.rec, &v));
	make_listen(&f, "0.0.0.0", 8081);
	f.rec.proc.container_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	assert_false(pw_policy_check(p, &f.rec, &v));
	f.rec.proc.container_id = "fedcba9876543210";
	assert_true(pw_policy_check(p, &f.rec, &v));
	make_listen(&f, "0.0.0.0", 8082);
	assert_false(pw_policy_check(p, &f.rec, &v));
	f.rec.proc.container_id = "fedcba9876543210";
	assert_true(pw_policy_check(p, &f.rec, &v));

	make_listen(&f, "10.0.0.5", 9000);
	assert_false(pw_policy_check(p, &f.rec, &v));
	make_listen(&f, "::", 9000);
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.reason, "tcp port 9000 opened for listening on :: (all interfaces) by "
				      "smbd (pid 123, user root) is not allowed by t.policy");
	make_listen(&f, "10.0.0.5", 9000);
	f.ev.owner.pid = 0; /* an unowned socket fails every owner condition */
	assert_false(pw_policy_check(p, &f.rec, &v));
	pw_policy_free(p);
}

static void test_first_match_wins_and_deny(void **state)
{
	struct pw_policy *p = parse_ok("deny listen tcp 23 name=no-telnet\n"
				       "deny listen tcp 2323\n"
				       "allow listen tcp well-known\n"
				       "deny listen tcp 80\n");
	struct pw_policy_verdict v;
	struct fixture f;

	(void)state;
	make_listen(&f, "0.0.0.0", 23);
	strcpy(f.ev.owner.comm, "telnetd");
	f.rec.local_service = "telnet";
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.rule, "no-telnet");
	assert_string_equal(v.reason, "tcp port 23 (telnet) opened for listening on 0.0.0.0 (all "
				      "interfaces) by telnetd (pid 123, user root) is denied by "
				      "t.policy:1 (rule no-telnet)");
	make_listen(&f, "0.0.0.0", 2323);
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.rule, "t.policy:2");
	assert_string_equal(v.reason, "tcp port 2323 opened for listening on 0.0.0.0 (all "
				      "interfaces) by smbd (pid 123, user root) is denied by t.policy:2");
	/* allow well-known comes before deny 80. */
	make_listen(&f, "0.0.0.0", 80);
	assert_false(pw_policy_check(p, &f.rec, &v));
	pw_policy_free(p);
}

static void test_what_is_checked(void **state)
{
	struct pw_policy *p = parse_ok("allow listen tcp 22\n");
	struct pw_policy_verdict v;
	struct fixture f;

	(void)state;
	/* A TCP bind is not a door until it listens. */
	make_event(&f, PW_REC_BIND, IPPROTO_TCP, AF_INET, "0.0.0.0", 445);
	f.ev.type = PW_EVENT_BIND;
	f.ev.requested_port = 445;
	assert_false(pw_policy_check(p, &f.rec, &v));
	/* UDP: a failed bind, and a bind to port 0 (a client), are not doors. */
	make_udp_bind(&f, "0.0.0.0", 445);
	f.ev.bind_errno = EADDRINUSE;
	assert_false(pw_policy_check(p, &f.rec, &v));
	make_udp_bind(&f, "0.0.0.0", 40000);
	f.ev.requested_port = 0;
	assert_false(pw_policy_check(p, &f.rec, &v));
	/* Other state changes: accepted, close, listen_close. */
	make_listen(&f, "0.0.0.0", 445);
	f.ev.old_state = PW_TCP_SYN_RECV;
	f.ev.new_state = PW_TCP_ESTABLISHED;
	assert_false(pw_policy_check(p, &f.rec, &v));
	make_listen(&f, "0.0.0.0", 445);
	f.ev.old_state = PW_TCP_LISTEN;
	f.ev.new_state = PW_TCP_CLOSE;
	assert_false(pw_policy_check(p, &f.rec, &v));
	/* Without connect rules, connects are not checked. */
	make_connect(&f, "192.0.2.1", 443);
	assert_false(pw_policy_check(p, &f.rec, &v));
	/* Loss and stats records, and no policy at all. */
	make_listen(&f, "0.0.0.0", 445);
	f.rec.type = PW_REC_LOSS;
	assert_false(pw_policy_check(p, &f.rec, &v));
	f.rec.type = PW_REC_STATE;
	assert_false(pw_policy_check(NULL, &f.rec, &v));
	f.ev.protocol = IPPROTO_SCTP;
	assert_false(pw_policy_check(p, &f.rec, &v));
	pw_policy_free(p);
}

static void test_connect_rules(void **state)
{
	struct pw_policy *p = parse_ok("allow listen tcp any\n"
				       "allow connect tcp 443,80\n"
				       "allow connect tcp any scope=loopback\n");
	struct pw_policy_verdict v;
	struct fixture f;

	(void)state;
	make_connect(&f, "192.0.2.1", 443);
	assert_false(pw_policy_check(p, &f.rec, &v));
	make_connect(&f, "127.0.0.1", 6379);
	assert_false(pw_policy_check(p, &f.rec, &v));
	make_connect(&f, "2001:db8::1", 25);
	f.rec.remote_service = "smtp";
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.rule, "default");
	assert_string_equal(v.reason, "tcp connection to 2001:db8::1 port 25 (smtp) by curl (pid 123, "
				      "user root) is not allowed by t.policy");
	pw_policy_free(p);
}

static void test_snapshot_records(void **state)
{
	struct pw_policy *p = parse_ok("allow listen tcp 22\nallow connect tcp 443\n");
	struct pw_policy_verdict v;
	struct fixture f;

	(void)state;
	make_event(&f, PW_REC_SNAPSHOT, IPPROTO_TCP, AF_INET, "127.0.0.1", 631);
	f.ev.type = PW_EVENT_STATE;
	f.ev.old_state = f.ev.new_state = PW_TCP_LISTEN;
	strcpy(f.ev.owner.comm, "cupsd");
	f.rec.local_service = "ipp";
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.reason, "tcp port 631 (ipp) already listening on 127.0.0.1 (loopback) "
				      "by cupsd (pid 123, user root) is not allowed by t.policy");
	{
		struct pw_record alert;

		pw_policy_alert_record(&f.rec, &v, &alert);
		assert_true(alert.alert.existing); /* its action is "existing" */
	}
	f.ev.sport = 22;
	assert_false(pw_policy_check(p, &f.rec, &v));

	make_event(&f, PW_REC_SNAPSHOT, IPPROTO_UDP, AF_INET6, "::", 5353);
	f.ev.type = PW_EVENT_STATE;
	f.ev.old_state = f.ev.new_state = PW_TCP_CLOSE;
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.reason, "udp port 5353 already bound on :: (all interfaces) by smbd "
				      "(pid 123, user root) is not allowed by t.policy");

	/* An established outgoing connection found at start-up. */
	make_event(&f, PW_REC_SNAPSHOT, IPPROTO_TCP, AF_INET, "192.0.2.2", 40000);
	f.ev.type = PW_EVENT_STATE;
	f.ev.old_state = f.ev.new_state = PW_TCP_ESTABLISHED;
	f.ev.direction = PW_DIR_OUTBOUND;
	f.ev.dport = 8443;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.9", f.ev.daddr), 1);
	f.ev.owner.pid = 0;
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.reason, "existing tcp connection to 192.0.2.9 port 8443 by no known "
				      "process is not allowed by t.policy");
	f.ev.dport = 443;
	assert_false(pw_policy_check(p, &f.rec, &v));
	/* An accepted one is no connect. */
	f.ev.dport = 8443;
	f.ev.direction = PW_DIR_INBOUND;
	assert_false(pw_policy_check(p, &f.rec, &v));
	pw_policy_free(p);
}

static void test_hostile_names_are_printable(void **state)
{
	struct pw_policy *p = parse_ok("allow listen tcp 22\n");
	struct pw_policy_verdict v;
	struct fixture f;

	(void)state;
	make_listen(&f, "0.0.0.0", 4444);
	strcpy(f.ev.owner.comm, "ev\nil\033[2J");
	f.rec.proc.user = "u\tser";
	assert_true(pw_policy_check(p, &f.rec, &v));
	assert_string_equal(v.reason, "tcp port 4444 opened for listening on 0.0.0.0 (all interfaces) "
				      "by ev?il?[2J (pid 123, user u?ser) is not allowed by t.policy");
	pw_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accepts_the_documented_forms),
		cmocka_unit_test(test_error_action),
		cmocka_unit_test(test_error_verb),
		cmocka_unit_test(test_error_transport),
		cmocka_unit_test(test_error_port),
		cmocka_unit_test(test_error_port_range),
		cmocka_unit_test(test_error_condition),
		cmocka_unit_test(test_error_condition_values),
		cmocka_unit_test(test_error_long_words_are_cut),
		cmocka_unit_test(test_load_from_file),
		cmocka_unit_test(test_listen_not_allowed_reason),
		cmocka_unit_test(test_ports_ranges_categories_transports),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_first_match_wins_and_deny),
		cmocka_unit_test(test_what_is_checked),
		cmocka_unit_test(test_connect_rules),
		cmocka_unit_test(test_snapshot_records),
		cmocka_unit_test(test_hostile_names_are_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
