/* Unit tests for the SIEM encoders: every action's ECS categorisation and
 * OCSF activity, source/destination by direction, loss and stats records,
 * and that every line is strict, duplicate-free JSON. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "buf.h"
#include "encode_siem.h"
#include "json_reader.h"
#include "record.h"

#define TIME_NS 1795642718438966340ull /* 2026-11-25T21:38:38.438966340Z */

struct fixture {
	struct pw_event ev;
	struct pw_record rec;
	struct pw_buf buf;
	struct pw_json_reader reader;
	const struct pw_jval *root;
};

static struct fixture fx;

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	pw_buf_init(&fx.buf);
	pw_json_reader_init(&fx.reader, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pw_buf_free(&fx.buf);
	pw_json_reader_free(&fx.reader);
	return 0;
}

/* A TCP/IPv4 socket event 10.0.0.5:port_l <-> 10.0.0.9:port_r. */
static void make_state(unsigned int old_state, unsigned int new_state, unsigned int direction,
		       uint16_t sport, uint16_t dport)
{
	memset(&fx.ev, 0, sizeof(fx.ev));
	memset(&fx.rec, 0, sizeof(fx.rec));
	fx.ev.type = PW_EVENT_STATE;
	fx.ev.family = AF_INET;
	fx.ev.protocol = IPPROTO_TCP;
	fx.ev.old_state = old_state;
	fx.ev.new_state = new_state;
	fx.ev.direction = direction;
	fx.ev.sport = sport;
	fx.ev.dport = dport;
	inet_pton(AF_INET, "10.0.0.5", fx.ev.saddr);
	if (dport)
		inet_pton(AF_INET, "10.0.0.9", fx.ev.daddr);
	fx.ev.sock_cookie = 4242;
	fx.ev.owner.pid = 812;
	fx.ev.owner.tid = 813;
	fx.ev.owner.ppid = 1;
	fx.ev.owner.uid = 33;
	strcpy(fx.ev.owner.comm, "nginx");
	fx.ev.duration_ns = 5000000000ull;
	fx.ev.bytes_sent = 100;
	fx.ev.bytes_received = 7;
	fx.rec.type = PW_REC_STATE;
	fx.rec.seq = 17;
	fx.rec.time_ns = TIME_NS;
	fx.rec.host = "web1";
	fx.rec.ev = &fx.ev;
	fx.rec.proc.user = "www-data";
	fx.rec.proc.exe = "/usr/sbin/nginx";
	fx.rec.proc.cmdline = "nginx: worker process";
	fx.rec.local_service = "http";
}

static void make_bind(int err)
{
	make_state(0, 0, PW_DIR_NONE, 80, 0);
	fx.ev.type = PW_EVENT_BIND;
	fx.ev.bind_errno = err;
	fx.ev.requested_port = 80;
	fx.rec.type = PW_REC_BIND;
}

static void encode(int (*fn)(struct pw_buf *, const struct pw_record *))
{
	pw_buf_reset(&fx.buf);
	assert_int_equal(fn(&fx.buf, &fx.rec), 0);
	assert_true(fx.buf.len > 1);
	assert_int_equal(fx.buf.data[fx.buf.len - 1], '\n');
	assert_null(memchr(fx.buf.data, '\n', fx.buf.len - 1));
	if (pw_json_read(&fx.reader, fx.buf.data, fx.buf.len - 1))
		fail_msg("not strict JSON at column %zu: %s\n%s", fx.reader.error_column,
			 fx.reader.error, fx.buf.data);
	fx.root = pw_json_root(&fx.reader);
}

static const struct pw_jval *at(const char *path)
{
	return pw_jval_path(&fx.reader, fx.root, path);
}

static const char *str(const char *path)
{
	const struct pw_jval *v = at(path);

	if (!v || v->type != PW_JVAL_STRING)
		fail_msg("%s is not a string in %s", path, fx.buf.data);
	return fx.reader.store + v->str;
}

static uint64_t num(const char *path)
{
	const struct pw_jval *v = at(path);

	if (!v || v->type != PW_JVAL_NUMBER || !v->is_uint)
		fail_msg("%s is not an unsigned integer in %s", path, fx.buf.data);
	return v->u;
}

/* event.type as "a" or "a,b". */
static void assert_ecs_types(const char *want)
{
	const struct pw_jval *arr = at("event.type"), *v;
	char got[64] = "";

	assert_non_null(arr);
	assert_int_equal(arr->type, PW_JVAL_ARRAY);
	for (v = arr->child ? &fx.reader.nodes[arr->child] : NULL; v;
	     v = v->next ? &fx.reader.nodes[v->next] : NULL) {
		if (got[0])
			strcat(got, ",");
		strcat(got, fx.reader.store + v->str);
	}
	assert_string_equal(got, want);
}

struct action_case {
	const char *name;
	unsigned int old_state, new_state, direction;
	uint16_t sport, dport;
	const char *ecs_types, *ecs_outcome;
	uint64_t ocsf_activity, ocsf_status;
	const char *ocsf_activity_name;
	bool local_is_source; /* else local is the destination */
};

static const struct action_case cases[] = {
	{ "listen", PW_TCP_CLOSE, PW_TCP_LISTEN, PW_DIR_LISTEN, 80, 0, "start", "success", 7, 1,
	  "Listen", false },
	{ "listen_close", PW_TCP_LISTEN, PW_TCP_CLOSE, PW_DIR_LISTEN, 80, 0, "end", "success", 2,
	  1, "Close", false },
	{ "connect", PW_TCP_CLOSE, PW_TCP_SYN_SENT, PW_DIR_OUTBOUND, 0, 443,
	  "connection,start", "unknown", 1, 0, "Open", true },
	{ "connected", PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, PW_DIR_OUTBOUND, 51544, 443,
	  "connection", "success", 1, 1, "Open", true },
	{ "connect_failed", PW_TCP_SYN_SENT, PW_TCP_CLOSE, PW_DIR_OUTBOUND, 51544, 443,
	  "connection,end", "failure", 5, 2, "Refuse", true },
	{ "accepted", PW_TCP_SYN_RECV, PW_TCP_ESTABLISHED, PW_DIR_INBOUND, 80, 51544,
	  "connection,start", "success", 1, 1, "Open", false },
	{ "close", PW_TCP_LAST_ACK, PW_TCP_CLOSE, PW_DIR_INBOUND, 80, 51544, "connection,end",
	  "success", 2, 1, "Close", false },
	{ "transition", PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, PW_DIR_OUTBOUND, 51544, 443,
	  "connection,info", "unknown", 99, 0, "Transition", true },
};

static void test_ecs_each_state_action(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct action_case *c = &cases[i];
		const char *local = c->local_is_source ? "source" : "destination";
		const char *remote = c->local_is_source ? "destination" : "source";

		make_state(c->old_state, c->new_state, c->direction, c->sport, c->dport);
		encode(pw_encode_ecs);
		assert_string_equal(str("event.action"), c->name);
		assert_string_equal(str("event.kind"), "event");
		assert_non_null(strstr(fx.buf.data, "\"category\":[\"network\"]"));
		assert_ecs_types(c->ecs_types);
		assert_string_equal(str("event.outcome"), c->ecs_outcome);
		assert_string_equal(str("event.dataset"), "portwarden.state");
		assert_int_equal(num("event.sequence"), 17);
		assert_string_equal(str("@timestamp"), "2026-11-25T21:38:38.438966340Z");
		assert_string_equal(str("host.name"), "web1");
		assert_string_equal(str("network.transport"), "tcp");
		assert_string_equal(str("network.type"), "ipv4");
		assert_int_equal(num("process.pid"), 812);
		assert_int_equal(num("process.ppid"), 1);
		assert_string_equal(str("process.name"), "nginx");
		assert_string_equal(str("process.executable"), "/usr/sbin/nginx");
		assert_string_equal(str("process.command_line"), "nginx: worker process");
		assert_string_equal(str("process.user.name"), "www-data");
		assert_string_equal(str("process.user.id"), "33");
		/* The local end sits where the direction puts it. */
		char path[64];

		snprintf(path, sizeof(path), "%s.ip", local);
		assert_string_equal(str(path), "10.0.0.5");
		if (c->dport) {
			snprintf(path, sizeof(path), "%s.ip", remote);
			assert_string_equal(str(path), "10.0.0.9");
			snprintf(path, sizeof(path), "%s.port", remote);
			assert_int_equal(num(path), c->dport);
		} else {
			assert_null(at(remote));
		}
		snprintf(path, sizeof(path), "%s.port", local);
		if (c->sport)
			assert_int_equal(num(path), c->sport);
		else
			assert_null(at(path)); /* port 0: not assigned yet */
		if (c->direction == PW_DIR_INBOUND)
			assert_string_equal(str("network.direction"), "ingress");
		else if (c->direction == PW_DIR_OUTBOUND)
			assert_string_equal(str("network.direction"), "egress");
		else
			assert_null(at("network.direction"));
		assert_string_equal(str("portwarden.action"), c->name);
		assert_int_equal(num("portwarden.seq"), 17);
		assert_int_equal(num("portwarden.sock_cookie"), 4242);
	}
}

static void test_ocsf_each_state_action(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct action_case *c = &cases[i];
		const char *local = c->local_is_source ? "src_endpoint" : "dst_endpoint";
		const char *remote = c->local_is_source ? "dst_endpoint" : "src_endpoint";
		char path[64];

		make_state(c->old_state, c->new_state, c->direction, c->sport, c->dport);
		encode(pw_encode_ocsf);
		assert_int_equal(num("class_uid"), 4001);
		assert_int_equal(num("category_uid"), 4);
		assert_int_equal(num("activity_id"), c->ocsf_activity);
		assert_string_equal(str("activity_name"), c->ocsf_activity_name);
		assert_int_equal(num("type_uid"), 4001 * 100 + c->ocsf_activity);
		assert_int_equal(num("status_id"), c->ocsf_status);
		assert_int_equal(num("time"), TIME_NS / 1000000);
		assert_int_equal(num("severity_id"), 1);
		assert_string_equal(str("metadata.product.name"), "portwarden");
		assert_string_equal(str("metadata.version"), PW_OCSF_VERSION);
		assert_int_equal(num("metadata.sequence"), 17);
		assert_string_equal(str("device.hostname"), "web1");
		assert_int_equal(num("actor.process.pid"), 812);
		assert_string_equal(str("actor.process.name"), "nginx");
		assert_string_equal(str("actor.process.file.path"), "/usr/sbin/nginx");
		assert_string_equal(str("actor.process.file.name"), "nginx");
		assert_string_equal(str("actor.process.user.name"), "www-data");
		assert_int_equal(num("connection_info.protocol_num"), IPPROTO_TCP);
		assert_int_equal(num("connection_info.protocol_ver_id"), 4);
		assert_string_equal(str("connection_info.uid"), "4242");
		assert_int_equal(num("connection_info.direction_id"),
				 c->direction == PW_DIR_INBOUND	   ? 1
				 : c->direction == PW_DIR_OUTBOUND ? 2
								   : 0);
		snprintf(path, sizeof(path), "%s.ip", local);
		assert_string_equal(str(path), "10.0.0.5");
		if (c->dport) {
			snprintf(path, sizeof(path), "%s.port", remote);
			assert_int_equal(num(path), c->dport);
		} else {
			assert_null(at(remote));
		}
		assert_string_equal(str("unmapped.action"), c->name);
	}
}

static void test_close_carries_bytes_by_role(void **state)
{
	(void)state;
	/* Inbound close: the remote end is the source and sent what we received. */
	make_state(PW_TCP_LAST_ACK, PW_TCP_CLOSE, PW_DIR_INBOUND, 80, 51544);
	encode(pw_encode_ecs);
	assert_int_equal(num("source.bytes"), 7);
	assert_int_equal(num("destination.bytes"), 100);
	assert_int_equal(num("network.bytes"), 107);
	assert_int_equal(num("event.duration"), 5000000000ull);
	encode(pw_encode_ocsf);
	assert_int_equal(num("traffic.bytes_out"), 7); /* source -> destination */
	assert_int_equal(num("traffic.bytes_in"), 100);
	assert_int_equal(num("duration"), 5000);

	/* Outbound close: local is the source. */
	make_state(PW_TCP_FIN_WAIT2, PW_TCP_CLOSE, PW_DIR_OUTBOUND, 51544, 443);
	encode(pw_encode_ocsf);
	assert_int_equal(num("traffic.bytes_out"), 100);
	assert_int_equal(num("traffic.bytes_in"), 7);

	/* listen_close is not a connection: no bytes. */
	make_state(PW_TCP_LISTEN, PW_TCP_CLOSE, PW_DIR_LISTEN, 80, 0);
	encode(pw_encode_ecs);
	assert_null(at("destination.bytes"));
	assert_null(at("network.bytes"));
}

static void test_bind_and_bind_failed(void **state)
{
	(void)state;
	make_bind(0);
	encode(pw_encode_ecs);
	assert_string_equal(str("event.action"), "bind");
	assert_ecs_types("info");
	assert_string_equal(str("event.outcome"), "success");
	assert_string_equal(str("event.dataset"), "portwarden.bind");
	assert_int_equal(num("destination.port"), 80);
	assert_null(at("source"));
	assert_null(at("error"));
	encode(pw_encode_ocsf);
	assert_int_equal(num("activity_id"), 99);
	assert_string_equal(str("activity_name"), "Bind");
	assert_int_equal(num("type_uid"), 400199);
	assert_string_equal(str("type_name"), "Network Activity: Other");
	assert_int_equal(num("status_id"), 1);
	assert_int_equal(num("dst_endpoint.port"), 80);
	assert_string_equal(str("dst_endpoint.svc_name"), "http");

	make_bind(EADDRINUSE);
	encode(pw_encode_ecs);
	assert_string_equal(str("event.action"), "bind_failed");
	assert_string_equal(str("event.outcome"), "failure");
	assert_string_equal(str("error.code"), "EADDRINUSE");
	assert_string_equal(str("portwarden.bind.error"), "EADDRINUSE");
	encode(pw_encode_ocsf);
	assert_int_equal(num("activity_id"), 99);
	assert_int_equal(num("status_id"), 2);
	assert_string_equal(str("status"), "Failure");
	assert_string_equal(str("status_code"), "EADDRINUSE");
}

static void test_snapshot_and_alert(void **state)
{
	(void)state;
	make_state(PW_TCP_LISTEN, PW_TCP_LISTEN, PW_DIR_LISTEN, 22, 0);
	fx.rec.type = PW_REC_SNAPSHOT;
	encode(pw_encode_ecs);
	assert_string_equal(str("event.kind"), "state");
	assert_string_equal(str("event.action"), "existing");
	assert_string_equal(str("portwarden.tcp.state"), "LISTEN");
	encode(pw_encode_ocsf);
	assert_string_equal(str("activity_name"), "Existing");

	make_state(PW_TCP_CLOSE, PW_TCP_LISTEN, PW_DIR_LISTEN, 4444, 0);
	fx.rec.type = PW_REC_ALERT;
	fx.rec.alert.rule = "default";
	fx.rec.alert.reason = "listen on a port the policy does not allow";
	encode(pw_encode_ecs);
	assert_string_equal(str("event.kind"), "alert");
	assert_string_equal(str("rule.name"), "default");
	assert_string_equal(str("event.reason"), "listen on a port the policy does not allow");
	encode(pw_encode_ocsf);
	assert_int_equal(num("activity_id"), 7);
	assert_int_equal(num("severity_id"), 3);
	assert_string_equal(str("unmapped.rule"), "default");
}

static void test_loss_and_stats(void **state)
{
	(void)state;
	memset(&fx.rec, 0, sizeof(fx.rec));
	fx.rec.type = PW_REC_LOSS;
	fx.rec.seq = 9;
	fx.rec.time_ns = TIME_NS;
	fx.rec.host = "web1";
	fx.rec.loss.lost = 12;
	fx.rec.loss.reason = "output_queue_full";
	encode(pw_encode_ecs);
	assert_string_equal(str("event.kind"), "pipeline_error");
	assert_string_equal(str("event.action"), "loss");
	assert_string_equal(str("event.reason"), "output_queue_full");
	assert_int_equal(num("portwarden.lost"), 12);
	assert_null(at("process"));
	encode(pw_encode_ocsf);
	assert_int_equal(num("class_uid"), 0);
	assert_int_equal(num("type_uid"), 99);
	assert_string_equal(str("activity_name"), "Loss");
	assert_string_equal(str("message"), "12 events lost (output_queue_full)");
	assert_int_equal(num("unmapped.lost"), 12);

	fx.rec.type = PW_REC_STATS;
	fx.rec.stats.events = 5;
	encode(pw_encode_ecs);
	assert_string_equal(str("event.kind"), "metric");
	assert_int_equal(num("portwarden.events"), 5);
	encode(pw_encode_ocsf);
	assert_string_equal(str("activity_name"), "Stats");
}

static void test_unknown_owner_and_ipv6(void **state)
{
	(void)state;
	make_state(PW_TCP_TIME_WAIT, PW_TCP_CLOSE, PW_DIR_NONE, 80, 51544);
	fx.ev.owner.pid = 0;
	fx.ev.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", fx.ev.saddr);
	inet_pton(AF_INET6, "::ffff:10.0.0.9", fx.ev.daddr);
	encode(pw_encode_ecs);
	assert_null(at("process"));
	assert_string_equal(str("network.type"), "ipv6");
	assert_string_equal(str("source.ip"), "2001:db8::1"); /* no direction: local started it */
	assert_string_equal(str("destination.ip"), "::ffff:10.0.0.9");
	encode(pw_encode_ocsf);
	assert_null(at("actor"));
	assert_int_equal(num("connection_info.protocol_ver_id"), 6);
}

static void test_attacker_strings_stay_one_line(void **state)
{
	(void)state;
	make_state(PW_TCP_CLOSE, PW_TCP_LISTEN, PW_DIR_LISTEN, 80, 0);
	memcpy(fx.ev.owner.comm, "ev\"il\n\x01\xff", 9);
	fx.rec.proc.cmdline = "a\nb\"}{\"injected\":1";
	encode(pw_encode_ecs);
	assert_string_equal(str("process.command_line"), "a\nb\"}{\"injected\":1");
	assert_null(at("injected"));
	encode(pw_encode_ocsf);
	assert_string_equal(str("actor.process.cmd_line"), "a\nb\"}{\"injected\":1");
}

static void test_inconsistent_records_refused(void **state)
{
	size_t before;

	(void)state;
	make_state(PW_TCP_CLOSE, PW_TCP_LISTEN, PW_DIR_LISTEN, 80, 0);
	fx.rec.type = PW_REC_BIND; /* a state event in a bind record */
	pw_buf_reset(&fx.buf);
	pw_buf_puts(&fx.buf, "keep");
	before = fx.buf.len;
	assert_int_equal(pw_encode_ecs(&fx.buf, &fx.rec), -EINVAL);
	assert_int_equal(pw_encode_ocsf(&fx.buf, &fx.rec), -EINVAL);
	fx.rec.type = PW_REC_STATE;
	fx.ev.family = 99;
	assert_int_equal(pw_encode_ecs(&fx.buf, &fx.rec), -EINVAL);
	assert_int_equal(pw_encode_ocsf(&fx.buf, &fx.rec), -EINVAL);
	fx.rec.type = (enum pw_record_type)77;
	assert_int_equal(pw_encode_ecs(&fx.buf, &fx.rec), -EINVAL);
	assert_int_equal(fx.buf.len, before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ecs_each_state_action, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ocsf_each_state_action, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_carries_bytes_by_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_and_bind_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_and_alert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loss_and_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_owner_and_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attacker_strings_stay_one_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inconsistent_records_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
