// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Test peer: bind and listen on a TCP port through io_uring (IORING_OP_BIND,
 * IORING_OP_LISTEN: Linux 6.11+), never calling bind(2) or listen(2), so a
 * tracer built on syscall hooks alone would not see the port open.
 *
 *   uring_listen PORT     prints "pid N", "bound PORT", "listening PORT",
 *                         then holds the socket until stdin reaches EOF.
 * Exit 77, saying why on stderr, when the kernel lacks these io_uring
 * operations: the ring's own probe (IORING_REGISTER_PROBE) says which it
 * has. Where the probe says they exist, any error of theirs is a failure. */
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OP_BIND 56   /* IORING_OP_BIND, newer than these headers may be */
#define OP_LISTEN 57 /* IORING_OP_LISTEN */
#define EXIT_UNSUPPORTED 77
#define PROBE_OPS 256

enum op_support { OP_UNKNOWN, OP_MISSING, OP_PRESENT };

struct ring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int ring_open(struct ring *r)
{
	struct io_uring_params p;
	void *sq, *cq;

	memset(&p, 0, sizeof(p));
	r->fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (r->fd < 0)
		return -errno;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
		return -errno;
	r->sq_tail = (unsigned *)((char *)sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)((char *)sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)((char *)sq + p.sq_off.array);
	r->cq_head = (unsigned *)((char *)cq + p.cq_off.head);
	r->cq_tail = (unsigned *)((char *)cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)((char *)cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes);
	return 0;
}

/* What the kernel says of an io_uring opcode; OP_UNKNOWN when it cannot
 * say (no IORING_REGISTER_PROBE, before Linux 5.6). */
static enum op_support ring_supports(const struct ring *r, unsigned opcode)
{
	struct io_uring_probe *probe;
	enum op_support support = OP_UNKNOWN;

	probe = calloc(1, sizeof(*probe) + PROBE_OPS * sizeof(struct io_uring_probe_op));
	if (!probe)
		return OP_UNKNOWN;
	if (syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_PROBE, probe, PROBE_OPS) == 0) {
		if (opcode <= probe->last_op && opcode < probe->ops_len &&
		    (probe->ops[opcode].flags & IO_URING_OP_SUPPORTED))
			support = OP_PRESENT;
		else
			support = OP_MISSING;
	}
	free(probe);
	return support;
}

/* Submit one operation and wait for its result (the cqe's res). */
static int ring_run(struct ring *r, const struct io_uring_sqe *op)
{
	unsigned tail = *r->sq_tail, index = tail & *r->sq_mask, head;
	int res;

	r->sqes[index] = *op;
	r->sq_array[index] = index;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -errno;
	head = *r->cq_head;
	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	struct io_uring_sqe op;
	struct ring ring;
	enum op_support bind_support, listen_support;
	char buf[64];
	int fd, res;

	if (argc != 2) {
		fprintf(stderr, "usage: uring_listen PORT\n");
		return 2;
	}
	printf("pid %d\n", getpid());
	fflush(stdout);
	addr.sin_port = htons((unsigned short)atoi(argv[1]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || ring_open(&ring)) {
		perror("uring_listen: setup");
		return 1;
	}
	bind_support = ring_supports(&ring, OP_BIND);
	listen_support = ring_supports(&ring, OP_LISTEN);
	if (bind_support == OP_MISSING || listen_support == OP_MISSING) {
		fprintf(stderr, "io_uring probe: this kernel lacks IORING_OP_%s (Linux 6.11+)\n",
			bind_support == OP_MISSING ? "BIND" : "LISTEN");
		return EXIT_UNSUPPORTED;
	}
	memset(&op, 0, sizeof(op));
	op.opcode = OP_BIND;
	op.fd = fd;
	op.addr = (unsigned long)&addr;
	op.addr2 = sizeof(addr);
	res = ring_run(&ring, &op);
	if (bind_support == OP_UNKNOWN && (res == -EINVAL || res == -EOPNOTSUPP)) {
		fprintf(stderr, "uring_listen: this kernel has no IORING_OP_BIND (%s)\n", strerror(-res));
		return EXIT_UNSUPPORTED;
	}
	if (res < 0) {
		fprintf(stderr, "uring_listen: IORING_OP_BIND: %s\n", strerror(-res));
		return 1;
	}
	getsockname(fd, (struct sockaddr *)&addr, &len);
	printf("bound %u\n", ntohs(addr.sin_port));
	memset(&op, 0, sizeof(op));
	op.opcode = OP_LISTEN;
	op.fd = fd;
	op.len = 16;
	res = ring_run(&ring, &op);
	if (res < 0) {
		fprintf(stderr, "uring_listen: IORING_OP_LISTEN: %s\n", strerror(-res));
		return 1;
	}
	printf("listening %u\n", ntohs(addr.sin_port));
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return 0;
}
