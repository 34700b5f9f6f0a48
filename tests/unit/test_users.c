/* Unit tests for the uid -> user name cache: names and misses are both
 * remembered, so the user database is asked once per uid. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "users.h"

/* The stub database: uid 1000 is "alice", uid 70000 has a 200-byte name,
 * everyone else is unknown. Counts how often it is asked. */
struct stub {
	unsigned int calls;
};

static struct stub *current_stub;

static int stub_lookup(uint32_t uid, char *buf, size_t len)
{
	current_stub->calls++;
	if (uid == 1000) {
		snprintf(buf, len, "alice");
		return 0;
	}
	if (uid == 70000) {
		if (len <= 200)
			return -ERANGE;
		memset(buf, 'u', 200);
		buf[200] = '\0';
		return 0;
	}
	return -ENOENT;
}

static void test_names_and_misses_cached(void **state)
{
	struct stub stub = { 0 };
	struct pw_users *u = NULL;
	int i;

	(void)state;
	current_stub = &stub;
	assert_int_equal(pw_users_new(&u, 0, stub_lookup), 0);
	for (i = 0; i < 10; i++) {
		assert_string_equal(pw_user_name(u, 1000), "alice");
		assert_null(pw_user_name(u, 4242));
	}
	assert_int_equal(stub.calls, 2);
	assert_int_equal(strlen(pw_user_name(u, 70000)), 200);
	assert_int_equal(stub.calls, 3);
	pw_users_free(u);
}

static void test_full_cache_starts_afresh(void **state)
{
	struct stub stub = { 0 };
	struct pw_users *u = NULL;
	uint32_t uid;

	(void)state;
	current_stub = &stub;
	assert_int_equal(pw_users_new(&u, 4, stub_lookup), 0);
	for (uid = 1; uid <= 4; uid++)
		assert_null(pw_user_name(u, uid));
	assert_string_equal(pw_user_name(u, 1000), "alice"); /* fifth: table emptied first */
	assert_int_equal(stub.calls, 5);
	assert_string_equal(pw_user_name(u, 1000), "alice");
	assert_int_equal(stub.calls, 5);
	assert_null(pw_user_name(u, 1)); /* forgotten, asked again */
	assert_int_equal(stub.calls, 6);
	pw_users_free(u);
}

static void test_system_database(void **state)
{
	char name[64];
	struct pw_users *u = NULL;

	(void)state;
	assert_int_equal(pw_user_lookup_passwd(0, name, sizeof(name)), 0);
	assert_string_equal(name, "root");
	assert_int_equal(pw_user_lookup_passwd(0, name, 3), -ERANGE);
	assert_int_equal(pw_user_lookup_passwd(4000000000u, name, sizeof(name)), -ENOENT);
	assert_int_equal(pw_users_new(&u, 0, NULL), 0);
	assert_string_equal(pw_user_name(u, 0), "root");
	assert_null(pw_user_name(u, 4000000000u));
	pw_users_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_misses_cached),
		cmocka_unit_test(test_full_cache_starts_afresh),
		cmocka_unit_test(test_system_database),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
