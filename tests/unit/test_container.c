/* Unit tests for container ids in cgroup paths: each runtime's naming, and
 * the look-alikes that are not containers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "container.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define POD "pod3f2a1b4c-5d6e-7f80-9a1b-2c3d4e5f6a7b"

static const char *id_of(const char *path)
{
	static char buf[PW_CONTAINER_ID_LEN + 1];

	memset(buf, 'z', sizeof(buf));
	return pw_container_id(path, buf);
}

static void test_runtimes(void **state)
{
	static const char *const paths[] = {
		"/docker/" ID,                                      /* docker, cgroupfs */
		"/system.slice/docker-" ID ".scope",                /* docker, systemd */
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod3f2a1b4c_5d6e.slice/"
		"cri-containerd-" ID ".scope",                      /* k8s + containerd, systemd */
		"/kubepods/burstable/" POD "/" ID,                  /* k8s, cgroupfs, qos class */
		"/kubepods/" POD "/" ID,                            /* k8s, cgroupfs, guaranteed */
		"/kubepods.slice/kubepods-pod3f2a1b4c_5d6e.slice/docker-" ID ".scope", /* k8s + docker */
		"/kubepods.slice/kubepods-pod3f2a1b4c_5d6e.slice/crio-" ID ".scope",   /* cri-o */
		"/machine.slice/libpod-" ID ".scope",               /* podman, root */
		"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope/container",
		"/libpod_parent/libpod-" ID,                        /* podman, cgroupfs */
		"/system.slice/docker-" ID ".scope/init.scope",     /* systemd inside the container */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *got = id_of(paths[i]);

		if (!got)
			fail_msg("no container id in %s", paths[i]);
		assert_string_equal(got, ID);
	}
}

static void test_innermost_wins(void **state)
{
	(void)state;
	/* docker in docker: the inner container is the process's own. */
	assert_string_equal(id_of("/docker/" ID "/docker/" ID2), ID2);
}

static void test_not_containers(void **state)
{
	static const char *const paths[] = {
		"/",
		"",
		"/user.slice/user-0.slice/session-1.scope",
		"/system.slice/docker.service",                      /* dockerd itself */
		"/machine.slice/libpod-conmon-" ID ".scope",          /* podman's monitor */
		"/kubepods.slice/crio-conmon-" ID ".scope",           /* cri-o's monitor */
		"/system.slice/docker-" ID ".service",                /* not a scope */
		"/system.slice/docker-" ID "0.scope",                 /* 65 hex digits */
		"/system.slice/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.scope",
		"/docker/0123456789abcdef",                           /* short id */
		"/mygroup/" ID,                                       /* bare id, unknown parent */
		"/podcasts/" ID,                                      /* "pod" outside kubepods */
		"/system.slice/containerd-" ID ".scope",
	};
	size_t i;

	(void)state;
	assert_null(pw_container_id(NULL, (char[PW_CONTAINER_ID_LEN + 1]){ 0 }));
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (id_of(paths[i]))
			fail_msg("container id found in %s", paths[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtimes),
		cmocka_unit_test(test_innermost_wins),
		cmocka_unit_test(test_not_containers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
