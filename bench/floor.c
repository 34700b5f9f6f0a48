/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Loader of the benchmark floor (floor.bpf.c): attaches do-nothing programs
 * to portwarden's hooks and, with --ring, drains their records every 10 ms
 * the way portwarden does. Runs until SIGINT or SIGTERM, then prints
 *   floor: summary: N events received, M lost in the kernel (ring full)
 * on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

#define FLOOR_POLL_MS 10

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

/* The cgroup v2 root, where portwarden attaches its sock_create program too. */
static int open_cgroup2_root(void)
{
	FILE *mounts = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	int fd = -ENOENT;

	if (!mounts)
		return -errno;
	while ((m = getmntent(mounts))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			fd = open(m->mnt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				fd = -errno;
			break;
		}
	}
	endmntent(mounts);
	return fd;
}

static int count_record(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(unsigned long long *)ctx)++;
	return 0;
}

static int attach_all(struct floor_bpf *skel, int cgroup_fd, struct bpf_link **links, int max)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_link *link;

		if (n == max)
			return -E2BIG;
		if (bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SOCK)
			link = bpf_program__attach_cgroup(prog, cgroup_fd);
		else
			link = bpf_program__attach(prog);
		if (!link) {
			fprintf(stderr, "floor: cannot attach %s: %s\n", bpf_program__name(prog),
				strerror(errno));
			return -errno;
		}
		links[n++] = link;
	}
	return n;
}

static unsigned long long lost_in_kernel(struct floor_bpf *skel)
{
	int ncpus = libbpf_num_possible_cpus();
	unsigned long long values[1024] = { 0 }, total = 0;
	__u32 key = 1;
	int i;

	if (ncpus <= 0 || ncpus > 1024 ||
	    bpf_map__lookup_elem(skel->maps.counters, &key, sizeof(key), values,
				 sizeof(values[0]) * (size_t)ncpus, 0))
		return 0;
	for (i = 0; i < ncpus; i++)
		total += values[i];
	return total;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[16] = { 0 };
	struct ring_buffer *ring = NULL;
	struct floor_bpf *skel = NULL;
	unsigned long long received = 0;
	bool ring_mode = argc == 2 && !strcmp(argv[1], "--ring");
	int cgroup_fd = -1, n_links = 0, i, code, exit_code = 1;

	if (argc > 2 || (argc == 2 && !ring_mode)) {
		fprintf(stderr, "Usage: floor [--ring]\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: cannot open the BPF object: %s\n", strerror(errno));
		goto cleanup;
	}
	skel->rodata->deliver = ring_mode;
	code = floor_bpf__load(skel);
	if (code) {
		fprintf(stderr, "floor: cannot load: %s\n", strerror(-code));
		goto cleanup;
	}
	cgroup_fd = open_cgroup2_root();
	if (cgroup_fd < 0) {
		fprintf(stderr, "floor: no cgroup v2 mount: %s\n", strerror(-cgroup_fd));
		goto cleanup;
	}
	n_links = attach_all(skel, cgroup_fd, links, 16);
	if (n_links < 0)
		goto cleanup;
	ring = ring_buffer__new(bpf_map__fd(skel->maps.events), count_record, &received, NULL);
	if (!ring) {
		fprintf(stderr, "floor: cannot open the ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}
	fprintf(stderr, "floor: attached %d programs (%s)\n", n_links,
		ring_mode ? "ring records, no wake-up" : "return only");
	while (!exiting) {
		code = ring_buffer__poll(ring, FLOOR_POLL_MS);
		if (code < 0 && code != -EINTR) {
			fprintf(stderr, "floor: poll: %s\n", strerror(-code));
			goto cleanup;
		}
		ring_buffer__consume(ring);
	}
	ring_buffer__consume(ring);
	fprintf(stderr, "floor: summary: %llu events received, %llu lost in the kernel (ring full)\n",
		received, lost_in_kernel(skel));
	exit_code = 0;

cleanup:
	ring_buffer__free(ring);
	for (i = 0; i < n_links; i++)
		bpf_link__destroy(links[i]);
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	floor_bpf__destroy(skel);
	return exit_code;
}
