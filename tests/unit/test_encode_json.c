/* Unit tests for the JSON line encoder (encode.c) on what the annotator
 * hands it: process strings measured once per process (pw_json_shape) must
 * give exactly the line that measuring them per event gives, escaped where
 * they need it; and the encoder's cache (pw_json_cache: the second of the
 * time, addresses, the owner's ids and comm) must give exactly the lines
 * that encoding without it gives. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "encode.h"
#include "record.h"

static struct pw_event storm_event(void)
{
	struct pw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = PW_EVENT_STATE;
	ev.family = AF_INET;
	ev.protocol = IPPROTO_TCP;
	ev.saddr[0] = 127;
	ev.saddr[3] = 1;
	ev.daddr[0] = 127;
	ev.daddr[3] = 1;
	ev.sport = 40000;
	ev.dport = 8080;
	ev.old_state = PW_TCP_SYN_SENT;
	ev.new_state = PW_TCP_ESTABLISHED;
	ev.attribution = PW_ATTR_SOCKET;
	ev.owner.pid = 4242;
	ev.owner.tid = 4242;
	strcpy(ev.owner.comm, "client");
	return ev;
}

static void encode(struct pw_buf *out, const struct pw_record *rec)
{
	pw_buf_reset(out);
	assert_int_equal(pw_encode_json(out, rec), 0);
}

static void measure(struct pw_process *proc)
{
	proc->exe_shape = pw_json_shape_of(proc->exe);
	proc->cmdline_shape = pw_json_shape_of(proc->cmdline);
	proc->cgroup_shape = pw_json_shape_of(proc->cgroup);
	proc->container_id_shape = pw_json_shape_of(proc->container_id);
}

/* As a record made without the annotator: the encoder measures. */
static void unmeasure(struct pw_process *proc)
{
	proc->exe_shape = proc->cmdline_shape = proc->cgroup_shape = proc->container_id_shape =
		(struct pw_json_shape){ 0 };
}

static void test_measured_strings_give_the_same_line(void **state)
{
	static const char *const cmdlines[] = {
		"bench/storm client -n 40000",
		"sh -c \"echo hi\"\tand a \x01 control",
		"caf\xc3\xa9 \xff bad byte and a long plain run after it, well past sixteen",
		"",
	};
	struct pw_event ev = storm_event();
	struct pw_record rec = { .type = PW_REC_STATE, .seq = 1, .host = "web1", .ev = &ev };
	struct pw_buf plain_line, measured_line;
	size_t i;

	(void)state;
	pw_buf_init(&plain_line);
	pw_buf_init(&measured_line);
	rec.proc.user = "root";
	rec.proc.exe = "/work/build/bench/storm";
	rec.proc.cgroup = "/user.slice/\"quoted\".scope";
	rec.proc.container_id = NULL;
	for (i = 0; i < sizeof(cmdlines) / sizeof(cmdlines[0]); i++) {
		rec.proc.cmdline = cmdlines[i];
		unmeasure(&rec.proc);
		encode(&plain_line, &rec);
		measure(&rec.proc);
		encode(&measured_line, &rec);
		assert_string_equal(measured_line.data, plain_line.data);
	}
	/* And escaped where needed: the last line is of the empty command line. */
	assert_non_null(strstr(measured_line.data, "\"cgroup\":\"/user.slice/\\\"quoted\\\".scope\""));
	assert_non_null(strstr(measured_line.data, "\"cmdline\":\"\",\"cgroup\""));
	assert_non_null(strstr(measured_line.data, "\"container_id\":null"));
	rec.proc.cmdline = cmdlines[1];
	measure(&rec.proc);
	encode(&measured_line, &rec);
	assert_non_null(strstr(measured_line.data,
			       "\"cmdline\":\"sh -c \\\"echo hi\\\"\\tand a \\u0001 control\""));
	pw_buf_free(&plain_line);
	pw_buf_free(&measured_line);
}

/* xorshift64: the same sequence on every run. */
static uint64_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Owners whose pids share the cache's slots (pid % 8), comms that need
 * escaping, one comm of all 16 bytes (no NUL). */
static void pick_owner(struct pw_task *t, uint64_t r)
{
	static const uint32_t pids[] = { 8, 16, 24, 3, 11, 4242, 4250, 0 };
	static const char *const comms[] = {
		"client", "server", "a\"quote", "ctl\x01\x1b", "bad\xff\xfe", "caf\xc3\xa9",
		"fifteen-chars-x",
	};

	memset(t, 0, sizeof(*t));
	t->pid = pids[r % 8];
	/* Mostly the pool's fixed ids, sometimes another thread or user of
	 * the same pid: a cached head that ignored them would show. */
	t->tid = (r >> 8) % 4 ? t->pid : t->pid + 1 + (uint32_t)((r >> 10) % 3);
	t->ppid = (r >> 12) % 8 ? 1 : 2;
	t->uid = (r >> 15) % 8 ? 0 : 1000;
	t->gid = (r >> 18) % 8 ? 0 : 1000;
	t->cgroup_id = (r >> 21) % 2 ? 1 : 77;
	if ((r >> 22) % 16 == 0)
		memset(t->comm, 'z', sizeof(t->comm));
	else
		strcpy(t->comm, comms[(r >> 26) % 7]);
}

/* Addresses whose last bytes share the cache's slots, in both families,
 * and an IPv6 one that starts as an IPv4 one does. */
static void pick_address(uint16_t family, uint8_t addr[PW_ADDR_LEN], uint64_t r)
{
	memset(addr, 0, PW_ADDR_LEN);
	if (family == AF_INET) {
		addr[0] = r % 2 ? 127 : 10;
		addr[3] = (uint8_t)(1 + 4 * ((r >> 1) % 3));
	} else {
		addr[0] = 0xfd;
		addr[15] = (uint8_t)(1 + 4 * ((r >> 1) % 3));
		if (r % 5 == 0)
			memset(addr, 0, PW_ADDR_LEN - 1);
		/* 7f00:1::1: the first four bytes of 127.0.0.1, in the same slot. */
		if (r % 5 == 1) {
			addr[0] = 127;
			addr[3] = 1;
			addr[15] = 1;
		}
	}
}

static void test_cached_lines_are_the_lines(void **state)
{
	static const enum pw_record_type types[] = {
		PW_REC_STATE, PW_REC_STATE, PW_REC_STATE, PW_REC_STATE, PW_REC_BIND,
		PW_REC_SNAPSHOT, PW_REC_ALERT, PW_REC_LOSS, PW_REC_STATS,
	};
	static struct pw_json_cache cache;
	struct pw_buf plain_line, cached_line;
	uint64_t x = 0x9e3779b97f4a7c15ull, time_ns = 1795000000000000000ull, r;
	unsigned int same_pid_again = 0, seconds_changed = 0;
	struct pw_event ev;
	struct pw_record rec;
	int i;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	pw_buf_init(&plain_line);
	pw_buf_init(&cached_line);
	for (i = 0; i < 20000; i++) {
		uint64_t before = time_ns;
		uint32_t pid_before = ev.owner.pid;

		r = next_random(&x);
		memset(&ev, 0, sizeof(ev));
		memset(&rec, 0, sizeof(rec));
		rec.type = types[r % 9];
		rec.seq = (uint64_t)i + 1;
		rec.host = "web1";
		/* Mostly within the second, sometimes across seconds and days,
		 * sometimes back (the wall clock stepped). */
		switch ((r >> 4) % 16) {
		case 0:
			time_ns += 86400ull * 1000000000ull + (r >> 20) % 1000000000ull;
			break;
		case 1:
			time_ns -= (r >> 20) % 5000000000ull;
			break;
		case 2:
		case 3:
			time_ns += (r >> 20) % 3000000000ull;
			break;
		default:
			time_ns += (r >> 20) % 2000000ull;
			break;
		}
		seconds_changed += time_ns / 1000000000ull != before / 1000000000ull;
		rec.time_ns = time_ns;
		if (rec.type == PW_REC_LOSS) {
			rec.loss.lost = r >> 40;
			rec.loss.reason = "ringbuf_full";
		} else if (rec.type == PW_REC_STATS) {
			rec.stats.events = r >> 30;
		} else {
			r = next_random(&x);
			ev.type = rec.type == PW_REC_BIND ? PW_EVENT_BIND : PW_EVENT_STATE;
			ev.family = r % 3 ? AF_INET : AF_INET6;
			ev.protocol = IPPROTO_TCP;
			pick_address(ev.family, ev.saddr, r >> 2);
			pick_address(ev.family, ev.daddr, r >> 6);
			ev.sport = (uint16_t)(r >> 10);
			ev.dport = (r >> 26) % 4 ? 8080 : 0;
			ev.old_state = PW_TCP_SYN_SENT;
			ev.new_state = PW_TCP_ESTABLISHED;
			ev.attribution = PW_ATTR_SOCKET;
			ev.netns = 4026531840u;
			ev.sock_cookie = r >> 20;
			pick_owner(&ev.owner, next_random(&x));
			same_pid_again += ev.owner.pid == pid_before;
			rec.ev = &ev;
			rec.proc.user = ev.owner.uid ? "alice" : "root";
			rec.proc.exe = "/usr/bin/storm";
			rec.proc.cmdline = (r >> 30) % 2 ? "storm -n 1" : "storm \"quoted\"";
			measure(&rec.proc);
			if (rec.type == PW_REC_ALERT) {
				rec.alert.rule = "no-smb";
				rec.alert.reason = "port 445";
			}
		}
		pw_buf_reset(&plain_line);
		pw_buf_reset(&cached_line);
		assert_int_equal(pw_encode_json(&plain_line, &rec), 0);
		assert_int_equal(pw_encode_json_cached(&cache, &cached_line, &rec), 0);
		assert_int_equal(cached_line.len, plain_line.len);
		assert_memory_equal(cached_line.data, plain_line.data, plain_line.len);
	}
	/* The sequence did what it is for: the same pid many times over (a
	 * cached head reused, or replaced when the ids differ), and seconds
	 * that changed. */
	assert_true(same_pid_again > 1000);
	assert_true(seconds_changed > 1000);
	pw_buf_free(&plain_line);
	pw_buf_free(&cached_line);
}

/* The cache keys on everything the head shows: another thread, user or comm
 * of a pid already cached is written as itself. */
static void test_cached_head_follows_the_owner(void **state)
{
	static struct pw_json_cache cache;
	struct pw_event ev = storm_event();
	struct pw_record rec = { .type = PW_REC_STATE, .seq = 1, .host = "web1", .ev = &ev };
	struct pw_buf line, plain;
	int i;

	(void)state;
	pw_buf_init(&line);
	pw_buf_init(&plain);
	rec.proc.user = "root";
	assert_int_equal(pw_encode_json_cached(&cache, &line, &rec), 0);
	assert_non_null(strstr(line.data, "\"pid\":4242,\"tid\":4242,"));
	ev.owner.tid = 4243;
	strcpy(ev.owner.comm, "worker");
	pw_buf_reset(&line);
	assert_int_equal(pw_encode_json_cached(&cache, &line, &rec), 0);
	assert_non_null(strstr(line.data, "\"pid\":4242,\"tid\":4243,"));
	assert_non_null(strstr(line.data, "\"comm\":\"worker\""));
	ev.owner.uid = 1000;
	pw_buf_reset(&line);
	assert_int_equal(pw_encode_json_cached(&cache, &line, &rec), 0);
	assert_non_null(strstr(line.data, "\"uid\":1000,"));
	/* The longest head there is (ten-digit ids, sixteen control bytes of
	 * comm): written whole, and the same again from the cache. */
	ev.owner.pid = ev.owner.tid = ev.owner.ppid = ev.owner.uid = ev.owner.gid = 4294967295u;
	memset(ev.owner.comm, '\x01', sizeof(ev.owner.comm));
	pw_buf_reset(&plain);
	assert_int_equal(pw_encode_json(&plain, &rec), 0);
	for (i = 0; i < 2; i++) {
		pw_buf_reset(&line);
		assert_int_equal(pw_encode_json_cached(&cache, &line, &rec), 0);
		assert_string_equal(line.data, plain.data);
	}
	assert_non_null(strstr(line.data, "\"gid\":4294967295,\"comm\":\"\\u0001\\u0001"));
	pw_buf_free(&line);
	pw_buf_free(&plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measured_strings_give_the_same_line),
		cmocka_unit_test(test_cached_lines_are_the_lines),
		cmocka_unit_test(test_cached_head_follows_the_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
