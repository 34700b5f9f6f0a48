/* Unit tests for the ring record decoder: a record that is not exactly a
 * well-formed pw_event never reaches the encoders. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "decode.h"

static struct pw_event valid_event(void)
{
	struct pw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = PW_EVENT_STATE;
	ev.family = AF_INET;
	ev.old_state = PW_TCP_CLOSE;
	ev.new_state = PW_TCP_LISTEN;
	ev.attribution = PW_ATTR_SYSCALL;
	ev.direction = PW_DIR_LISTEN;
	ev.owner.pid = 42;
	strcpy(ev.owner.comm, "nginx");
	return ev;
}

static void test_valid(void **state)
{
	struct pw_event in = valid_event(), out;

	(void)state;
	assert_int_equal(pw_decode(&in, sizeof(in), &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	in.type = PW_EVENT_BIND;
	in.family = AF_INET6;
	in.bind_errno = 98;
	assert_int_equal(pw_decode(&in, sizeof(in), &out), 0);
}

static void test_wrong_size(void **state)
{
	struct pw_event in = valid_event(), out;
	char big[sizeof(in) + 8] = { 0 };

	(void)state;
	assert_int_equal(pw_decode(&in, sizeof(in) - 1, &out), -EINVAL);
	assert_int_equal(pw_decode(&in, 0, &out), -EINVAL);
	assert_int_equal(pw_decode(big, sizeof(big), &out), -EINVAL);
	assert_int_equal(pw_decode(NULL, sizeof(in), &out), -EINVAL);
}

static void test_bad_fields(void **state)
{
	struct pw_event in, out;

	(void)state;
	in = valid_event();
	in.type = 0;
	assert_int_equal(pw_decode(&in, sizeof(in), &out), -EINVAL);
	in = valid_event();
	in.type = 77;
	assert_int_equal(pw_decode(&in, sizeof(in), &out), -EINVAL);
	in = valid_event();
	in.family = AF_UNIX;
	assert_int_equal(pw_decode(&in, sizeof(in), &out), -EINVAL);
	in = valid_event();
	in.new_state = PW_TCP_MAX_STATES;
	assert_int_equal(pw_decode(&in, sizeof(in), &out), -EINVAL);
	in = valid_event();
	in.old_state = 255;
	assert_int_equal(pw_decode(&in, sizeof(in), &out), -EINVAL);
	in = valid_event();
	in.attribution = PW_ATTR_CURRENT + 1;
	assert_int_equal(pw_decode(&in, sizeof(in), &out), -EINVAL);
	in = valid_event();
	in.direction = 9;
	assert_int_equal(pw_decode(&in, sizeof(in), &out), -EINVAL);
	in = valid_event();
	in.bind_errno = -1;
	assert_int_equal(pw_decode(&in, sizeof(in), &out), -EINVAL);
}

static void test_comm_is_terminated(void **state)
{
	struct pw_event in = valid_event(), out;

	(void)state;
	memset(in.owner.comm, 'A', sizeof(in.owner.comm));
	assert_int_equal(pw_decode(&in, sizeof(in), &out), 0);
	assert_int_equal(strlen(out.owner.comm), PW_COMM_LEN - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_wrong_size),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_comm_is_terminated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
