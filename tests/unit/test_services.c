/* Unit tests for port naming: IANA range categories at their boundaries,
 * the embedded IANA service table (tcp and udp differ), and the names an
 * /etc/services file adds for ports IANA does not name. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "names.h"
#include "services.h"

static void test_port_category_boundaries(void **state)
{
	(void)state;
	assert_string_equal(pw_port_category(0), "well-known");
	assert_string_equal(pw_port_category(1023), "well-known");
	assert_string_equal(pw_port_category(1024), "registered");
	assert_string_equal(pw_port_category(49151), "registered");
	assert_string_equal(pw_port_category(49152), "dynamic");
	assert_string_equal(pw_port_category(65535), "dynamic");
}

static void assert_service(uint16_t port, uint8_t protocol, const char *want)
{
	const char *got = pw_iana_service_name(port, protocol);

	if (!want && got)
		fail_msg("%u/%u: want no name, got %s", port, protocol, got);
	if (want && (!got || strcmp(got, want) != 0))
		fail_msg("%u/%u: want %s, got %s", port, protocol, want, got ? got : "NULL");
}

static void test_iana_tcp_and_udp(void **state)
{
	(void)state;
	/* Same name on both transports. */
	assert_service(53, IPPROTO_TCP, "domain");
	assert_service(53, IPPROTO_UDP, "domain");
	assert_service(5353, IPPROTO_UDP, "mdns");
	assert_service(22, IPPROTO_TCP, "ssh");
	assert_service(443, IPPROTO_UDP, "https");
	/* The primary name, not one of its aliases (www, www-http). */
	assert_service(80, IPPROTO_TCP, "http");
	/* Different services on the two transports. */
	assert_service(514, IPPROTO_TCP, "shell");
	assert_service(514, IPPROTO_UDP, "syslog");
	assert_service(512, IPPROTO_TCP, "exec");
	assert_service(512, IPPROTO_UDP, "biff");
	/* Assigned for one transport only. */
	assert_service(143, IPPROTO_TCP, "imap");
	assert_service(143, IPPROTO_UDP, NULL);
	assert_service(993, IPPROTO_TCP, "imaps");
	assert_service(993, IPPROTO_UDP, NULL);
	assert_service(4789, IPPROTO_UDP, "vxlan");
	assert_service(4789, IPPROTO_TCP, NULL);
	/* Ranges in the registry become one entry per port. */
	assert_service(6000, IPPROTO_TCP, "x11");
	assert_service(6063, IPPROTO_TCP, "x11");
	/* The table's first and last ports, and what lies outside it. */
	assert_service(1, IPPROTO_TCP, "tcpmux");
	assert_service(0, IPPROTO_TCP, NULL);
	assert_service(65535, IPPROTO_TCP, NULL);
	assert_service(49152, IPPROTO_UDP, NULL);
	/* Only tcp and udp are in the table. */
	assert_service(80, IPPROTO_SCTP, NULL);
	assert_service(53, 0, NULL);
}

/* Every port on both transports answers exactly as the committed data file
 * says: the generated table, its block index and the search agree. */
static void test_embedded_table_matches_data_file(void **state)
{
	static char want[65536][2][16];
	char line[128], proto[8], name[32];
	unsigned int port, lines = 0;
	FILE *f;

	(void)state;
	memset(want, 0, sizeof(want));
	f = fopen("data/iana-services.tsv", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%u\t%7s\t%31s", &port, proto, name), 3);
		assert_true(port <= 65535 && strlen(name) < 16);
		strcpy(want[port][strcmp(proto, "udp") == 0], name);
		lines++;
	}
	fclose(f);
	assert_true(lines > 10000);
	for (port = 0; port <= 65535; port++) {
		assert_service((uint16_t)port, IPPROTO_TCP, want[port][0][0] ? want[port][0] : NULL);
		assert_service((uint16_t)port, IPPROTO_UDP, want[port][1][0] ? want[port][1] : NULL);
	}
}

static void test_embedded_table_without_file(void **state)
{
	struct pw_services *s = NULL;

	(void)state;
	assert_int_equal(pw_services_new(&s, NULL), 0);
	assert_string_equal(pw_service_name(s, 8080, IPPROTO_TCP), "http-alt");
	assert_null(pw_service_name(s, 61000, IPPROTO_TCP));
	pw_services_free(s);

	/* A missing file is no error: the embedded table is enough. */
	assert_int_equal(pw_services_new(&s, "/nonexistent/services"), 0);
	assert_string_equal(pw_service_name(s, 53, IPPROTO_UDP), "domain");
	pw_services_free(s);

	/* Something that exists but cannot be read as a file is. */
	assert_int_not_equal(pw_services_new(&s, "/"), 0);
	assert_null(s);
}

static void test_services_file_adds_names(void **state)
{
	static const char text[] =
		"# local additions\n"
		"myapp\t\t61000/tcp\tmyapp-alias\t# our app\n"
		"other\t\t61000/tcp\n"        /* later duplicate: the first wins */
		"mystats 61001/udp\n"
		"notssh\t\t22/tcp\n"           /* IANA names 22/tcp already */
		"sctponly\t61002/sctp\n"       /* not tcp or udp */
		"broken 61003\n"
		"badport 70000/tcp\n"
		"neg -1/tcp\n"
		"\n"
		"   \t  \n";
	char path[] = "/tmp/pw-test-services-XXXXXX";
	struct pw_services *s = NULL;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(pw_services_new(&s, path), 0);
	unlink(path);

	assert_string_equal(pw_service_name(s, 61000, IPPROTO_TCP), "myapp");
	assert_null(pw_service_name(s, 61000, IPPROTO_UDP));
	assert_string_equal(pw_service_name(s, 61001, IPPROTO_UDP), "mystats");
	assert_null(pw_service_name(s, 61001, IPPROTO_TCP));
	assert_string_equal(pw_service_name(s, 22, IPPROTO_TCP), "ssh");
	assert_null(pw_service_name(s, 61002, IPPROTO_TCP));
	assert_null(pw_service_name(s, 61003, IPPROTO_TCP));
	assert_string_equal(pw_service_name(s, 514, IPPROTO_UDP), "syslog");
	pw_services_free(s);
}

/* A file with no usable line leaves no local table at all: the embedded
 * names still work (under SANITIZE=1 this once failed in qsort). */
static void test_services_file_without_entries(void **state)
{
	static const char text[] = "# comments only\nbroken 1\n\n";
	char path[] = "/tmp/pw-test-services-XXXXXX";
	struct pw_services *s = NULL;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(pw_services_new(&s, path), 0);
	unlink(path);
	assert_string_equal(pw_service_name(s, 22, IPPROTO_TCP), "ssh");
	assert_null(pw_service_name(s, 61000, IPPROTO_TCP));
	pw_services_free(s);
}

static void test_system_services_file_loads(void **state)
{
	struct pw_services *s = NULL;

	(void)state;
	if (access("/etc/services", R_OK) != 0)
		skip();
	assert_int_equal(pw_services_new(&s, "/etc/services"), 0);
	assert_string_equal(pw_service_name(s, 443, IPPROTO_TCP), "https");
	pw_services_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_category_boundaries),
		cmocka_unit_test(test_iana_tcp_and_udp),
		cmocka_unit_test(test_embedded_table_matches_data_file),
		cmocka_unit_test(test_embedded_table_without_file),
		cmocka_unit_test(test_services_file_adds_names),
		cmocka_unit_test(test_services_file_without_entries),
		cmocka_unit_test(test_system_services_file_loads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
