/* Unit tests for the JSON line encoder (encode.c) on what the annotator
 * hands it: process strings measured once per process (pw_json_shape) must
 * give exactly the line that measuring them per event gives, escaped where
 * they need it. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measured_strings_give_the_same_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
