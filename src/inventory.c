/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The open-socket inventory: a sock_diag dump per family and transport, then
 * one walk of /proc/PID/fd to find which process holds each socket inode
 * (what `ss -p` does), then the owners' identity from /proc/PID/stat. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "addr.h"
#include "cgroup.h"
#include "clock.h"
#include "inventory.h"

#define DIAG_RECV_BYTES 32768

/* The sockets found so far; inodes[i] belongs to events[i]. */
struct socket_list {
	struct pw_event *events;
	uint64_t *inodes;
	size_t len, cap;
};

/* inode -> index into socket_list, open addressing, 0 marks a free slot
 * (socket inodes are never 0; sockets without one are not inserted). */
struct inode_index {
	uint64_t *keys;
	size_t *values;
	size_t cap; /* a power of two */
};

__attribute__((format(printf, 3, 4))) static void fail(char *err, size_t err_len, const char *fmt,
						       ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

static int list_push(struct socket_list *list, const struct pw_event *ev, uint64_t inode)
{
	if (list->len == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 64;
		struct pw_event *events = realloc(list->events, cap * sizeof(*events));
		uint64_t *inodes;

		if (!events)
			return -ENOMEM;
		list->events = events;
		inodes = realloc(list->inodes, cap * sizeof(*inodes));
		if (!inodes)
			return -ENOMEM;
		list->inodes = inodes;
		list->cap = cap;
	}
	list->events[list->len] = *ev;
	list->inodes[list->len] = inode;
	list->len++;
	return 0;
}

static void list_free(struct socket_list *list)
{
	free(list->events);
	free(list->inodes);
}

/* One inet_diag_msg as an event record (no owner yet). */
/* The families every dump asks for, one request each. */
static const uint16_t inet_families[] = { AF_INET, AF_INET6 };
#define N_INET_FAMILIES (sizeof(inet_families) / sizeof(inet_families[0]))

/* The cookie sock_diag reports is sock_gen_cookie(), the same number
 * bpf_get_socket_cookie() and the tracer's sock_cookie give. */
static uint64_t diag_cookie(const struct inet_diag_msg *msg)
{
	return (uint64_t)msg->id.idiag_cookie[0] | (uint64_t)msg->id.idiag_cookie[1] << 32;
}

static void event_from_diag(const struct inet_diag_msg *msg, uint8_t protocol, uint32_t netns,
			    uint64_t now, struct pw_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = PW_EVENT_STATE;
	ev->ts_ns = now;
	ev->family = msg->idiag_family;
	ev->protocol = protocol;
	ev->sock_type = protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	ev->old_state = ev->new_state = msg->idiag_state;
	ev->sport = ntohs(msg->id.idiag_sport);
	ev->dport = ntohs(msg->id.idiag_dport);
	/* idiag_src/dst are 4 32-bit words in network order: byte for byte
	 * the address, IPv4 in the first word. */
	memcpy(ev->saddr, msg->id.idiag_src, PW_ADDR_LEN);
	memcpy(ev->daddr, msg->id.idiag_dst, PW_ADDR_LEN);
	if (ev->family == AF_INET) {
		memset(ev->saddr + 4, 0, PW_ADDR_LEN - 4);
		memset(ev->daddr + 4, 0, PW_ADDR_LEN - 4);
	}
	ev->sock_cookie = diag_cookie(msg);
	ev->netns = netns;
	ev->owner.uid = msg->idiag_uid; /* replaced by the owner's uid once found */
	if (msg->idiag_state == PW_TCP_LISTEN)
		ev->direction = PW_DIR_LISTEN;
}

static const char *protocol_word(uint8_t protocol)
{
	return protocol == IPPROTO_TCP ? "tcp" : "udp";
}

/* NLMSG_OK and NLMSG_NEXT without their signed/unsigned mix: a message fits
 * when its header and its whole length are inside what is left. */
static bool netlink_message_fits(const struct nlmsghdr *h, size_t left)
{
	return left >= sizeof(*h) && h->nlmsg_len >= sizeof(*h) && h->nlmsg_len <= left;
}

static struct nlmsghdr *next_netlink_message(struct nlmsghdr *h, size_t *left)
{
	size_t step = NLMSG_ALIGN(h->nlmsg_len);

	step = step < *left ? step : *left;
	*left -= step;
	return (struct nlmsghdr *)((char *)h + step);
}

/* A NETLINK_SOCK_DIAG socket, or a negative errno with err set. */
static int open_diag_socket(char *err, size_t err_len)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0) {
		fd = -errno;
		fail(err, err_len, "sock_diag: cannot open a NETLINK_SOCK_DIAG socket: %s",
		     strerror(-fd));
	}
	return fd;
}

/* Called for every inet socket of a dump's answer; non-zero stops the dump
 * (and is returned) after err is set. */
typedef int (*diag_socket_fn)(void *ctx, const struct inet_diag_msg *msg, char *err,
			      size_t err_len);

/* Send one dump request and hand every IPv4 or IPv6 socket of the answer
 * to each. */
static int diag_dump(int fd, uint32_t seq, uint16_t family, uint8_t protocol, uint32_t states,
		     diag_socket_fn each, void *ctx, char *err, size_t err_len)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} request;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char *buf;
	int code = 0;

	memset(&request, 0, sizeof(request));
	request.nlh.nlmsg_len = sizeof(request);
	request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	request.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	request.nlh.nlmsg_seq = seq;
	request.req.sdiag_family = (uint8_t)family;
	request.req.sdiag_protocol = protocol;
	request.req.idiag_states = states;

	buf = malloc(DIAG_RECV_BYTES);
	if (!buf)
		return -ENOMEM;
	if (sendto(fd, &request, sizeof(request), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		code = -errno;
		fail(err, err_len, "sock_diag: cannot send the %s dump request: %s",
		     protocol_word(protocol), strerror(errno));
		goto cleanup;
	}
	for (;;) {
		struct nlmsghdr *h;
		ssize_t got = recv(fd, buf, DIAG_RECV_BYTES, 0);
		size_t left;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			code = -errno;
			fail(err, err_len, "sock_diag: reading the %s dump failed: %s",
			     protocol_word(protocol), strerror(errno));
			goto cleanup;
		}
		if (got == 0) {
			code = -EPROTO;
			fail(err, err_len, "sock_diag: the %s dump ended without NLMSG_DONE",
			     protocol_word(protocol));
			goto cleanup;
		}
		left = (size_t)got;
		for (h = (struct nlmsghdr *)buf; netlink_message_fits(h, left);
		     h = next_netlink_message(h, &left)) {
			if (h->nlmsg_seq != request.nlh.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				goto cleanup;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				code = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ? e->error
											: -EPROTO;
				fail(err, err_len, "sock_diag: the kernel refused the %s dump: %s%s",
				     protocol_word(protocol), strerror(-code),
				     code == -ENOENT ? " (is the udp_diag/tcp_diag module available?)" : "");
				goto cleanup;
			}
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
				const struct inet_diag_msg *msg = NLMSG_DATA(h);

				if (msg->idiag_family != AF_INET && msg->idiag_family != AF_INET6)
					continue;
				code = each(ctx, msg, err, err_len);
				if (code)
					goto cleanup;
			}
		}
	}
cleanup:
	free(buf);
	return code;
}

static int index_build(struct inode_index *index, const struct socket_list *list)
{
	size_t i, cap = 64;

	while (cap < list->len * 2)
		cap *= 2;
	index->keys = calloc(cap, sizeof(*index->keys));
	index->values = calloc(cap, sizeof(*index->values));
	index->cap = cap;
	if (!index->keys || !index->values)
		return -ENOMEM;
	for (i = 0; i < list->len; i++) {
		uint64_t key = list->inodes[i];
		size_t slot;

		if (!key)
			continue;
		for (slot = key & (cap - 1); index->keys[slot]; slot = (slot + 1) & (cap - 1))
			;
		index->keys[slot] = key;
		index->values[slot] = i;
	}
	return 0;
}

/* Index into the socket list for an inode, or -1. */
static long index_find(const struct inode_index *index, uint64_t key)
{
	size_t slot;

	for (slot = key & (index->cap - 1); index->keys[slot]; slot = (slot + 1) & (index->cap - 1))
		if (index->keys[slot] == key)
			return (long)index->values[slot];
	return -1;
}

static void index_free(struct inode_index *index)
{
	free(index->keys);
	free(index->values);
}

static bool parse_pid(const char *name, uint32_t *pid)
{
	unsigned long value = 0;
	const char *p;

	if (!*name)
		return false;
	for (p = name; *p; p++) {
		if (*p < '0' || *p > '9' || value > 4194304)
			return false;
		value = value * 10 + (unsigned long)(*p - '0');
	}
	*pid = (uint32_t)value;
	return value > 0;
}

/* Record pid as the holder of every listed socket among its descriptors.
 * When several processes share a socket (a forking server), the lowest pid
 * is kept: usually the parent that opened it. */
static void scan_process_fds(int proc_fd, uint32_t pid, const char *pid_name,
			     const struct inode_index *index, uint32_t *holders)
{
	char path[sizeof(((struct dirent *)0)->d_name) + 8], link[64];
	struct dirent *entry;
	DIR *dir;
	int fd_dir;

	snprintf(path, sizeof(path), "%s/fd", pid_name);
	fd_dir = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd_dir < 0)
		return; /* exited, or a kernel thread: nothing to attribute */
	dir = fdopendir(fd_dir);
	if (!dir) {
		close(fd_dir);
		return;
	}
	while ((entry = readdir(dir))) {
		unsigned long long inode;
		ssize_t n;
		long i;

		if (entry->d_name[0] == '.')
			continue;
		n = readlinkat(fd_dir, entry->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%llu]", &inode) != 1)
			continue;
		i = index_find(index, inode);
		if (i >= 0 && (!holders[i] || pid < holders[i]))
			holders[i] = pid;
	}
	closedir(dir);
}

static int find_holders(const char *proc_root, const struct inode_index *index, uint32_t *holders)
{
	struct dirent *entry;
	DIR *dir;
	int proc_fd;

	proc_fd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return -errno;
	dir = fdopendir(proc_fd);
	if (!dir) {
		int code = -errno;

		close(proc_fd);
		return code;
	}
	while ((entry = readdir(dir))) {
		uint32_t pid;

		if (parse_pid(entry->d_name, &pid))
			scan_process_fds(proc_fd, pid, entry->d_name, index, holders);
	}
	closedir(dir);
	return 0;
}

static int read_small_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int code = -errno;

		close(fd);
		return code;
	}
	close(fd);
	buf[n] = '\0';
	return 0;
}

/* The cgroup v2 id of a process: the inode of its cgroup directory, which
 * is what bpf_get_current_cgroup_id() returns. 0 when unknown. */
static uint64_t read_cgroup_id(const char *proc_root, const char *cgroup_root, uint32_t pid)
{
	char path[4096 + 64], text[4096];
	struct stat st;
	char *line, *save = NULL;

	snprintf(path, sizeof(path), "%s/%u/cgroup", proc_root, pid);
	if (read_small_file(path, text, sizeof(text)))
		return 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "0::", 3))
			continue;
		snprintf(path, sizeof(path), "%s%s", cgroup_root, line + 3);
		if (stat(path, &st))
			return 0;
		return st.st_ino;
	}
	return 0;
}

int pw_inventory_read_owner(const char *proc_root, const char *cgroup_root, uint32_t pid,
			    struct pw_task *owner)
{
	char path[4096], text[4096];
	unsigned long long start_ticks = 0;
	unsigned int ppid = 0, uid, gid;
	const char *open_paren, *close_paren, *field;
	long ticks_per_second = sysconf(_SC_CLK_TCK);
	size_t comm_len;
	int code, i;

	memset(owner, 0, sizeof(*owner));
	snprintf(path, sizeof(path), "%s/%u/stat", proc_root, pid);
	code = read_small_file(path, text, sizeof(text));
	if (code)
		return code;
	/* "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses,
	 * so it ends at the last ')'. */
	open_paren = strchr(text, '(');
	close_paren = strrchr(text, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EPROTO;
	comm_len = (size_t)(close_paren - open_paren - 1);
	if (comm_len > PW_COMM_LEN - 1)
		comm_len = PW_COMM_LEN - 1;
	memcpy(owner->comm, open_paren + 1, comm_len);
	/* Fields after the comm: 3 state, 4 ppid, ..., 22 starttime. */
	field = close_paren + 1;
	for (i = 3; i <= 22 && field; i++) {
		while (*field == ' ')
			field++;
		if (i == 4 && sscanf(field, "%u", &ppid) != 1)
			return -EPROTO;
		if (i == 22 && sscanf(field, "%llu", &start_ticks) != 1)
			return -EPROTO;
		field = strchr(field, ' ');
	}
	if (i <= 22)
		return -EPROTO;
	owner->pid = owner->tid = pid;
	owner->ppid = ppid;
	if (ticks_per_second > 0)
		owner->start_ns = start_ticks * (1000000000ull / (unsigned long long)ticks_per_second);

	snprintf(path, sizeof(path), "%s/%u/status", proc_root, pid);
	code = read_small_file(path, text, sizeof(text));
	if (code)
		return code;
	field = strstr(text, "\nUid:");
	if (!field || sscanf(field + 5, "%u", &uid) != 1)
		return -EPROTO;
	field = strstr(text, "\nGid:");
	if (!field || sscanf(field + 5, "%u", &gid) != 1)
		return -EPROTO;
	owner->uid = uid;
	owner->gid = gid;
	if (cgroup_root)
		owner->cgroup_id = read_cgroup_id(proc_root, cgroup_root, pid);
	return 0;
}

/* Owners already read, by pid: a server holds many sockets, and its
 * /proc files need reading once. Direct-mapped; a collision re-reads. */
#define OWNER_CACHE_SLOTS 256

struct owner_slot {
	uint32_t pid; /* 0: empty */
	int status;   /* pw_inventory_read_owner's return */
	struct pw_task owner;
};

static int read_owner_cached(struct owner_slot *cache, const char *proc_root,
			     const char *cgroup_root, uint32_t pid, struct pw_task *owner)
{
	struct owner_slot *slot = &cache[pid % OWNER_CACHE_SLOTS];

	if (slot->pid != pid) {
		slot->pid = pid;
		slot->status = pw_inventory_read_owner(proc_root, cgroup_root, pid, &slot->owner);
	}
	*owner = slot->owner;
	return slot->status;
}

static bool listener_takes(const struct pw_event *l, const struct pw_event *ev)
{
	return l->new_state == PW_TCP_LISTEN && l->netns == ev->netns &&
	       (pw_addr_is_unspecified(l->family, l->saddr) ||
		(l->family == ev->family && !memcmp(l->saddr, ev->saddr, PW_ADDR_LEN)));
}

/* An established socket whose local port has a listener on the same
 * transport (on its address or on any address) was accepted; any other
 * was connected out. The list is sorted (compare_events), so the sockets
 * of one transport and local port are next to each other: each group is
 * checked against its own few listeners. */
static void infer_directions(struct socket_list *list)
{
	const struct pw_event *listeners[16];
	size_t start, end, n_listeners, i, j;

	for (start = 0; start < list->len; start = end) {
		const struct pw_event *first = &list->events[start];
		bool crowded = false;

		n_listeners = 0;
		for (end = start; end < list->len && list->events[end].protocol == first->protocol &&
				  list->events[end].sport == first->sport;
		     end++) {
			if (list->events[end].new_state != PW_TCP_LISTEN)
				continue;
			if (n_listeners < sizeof(listeners) / sizeof(listeners[0]))
				listeners[n_listeners++] = &list->events[end];
			else
				crowded = true; /* SO_REUSEPORT on many addresses: scan the group */
		}
		for (i = start; i < end; i++) {
			struct pw_event *ev = &list->events[i];

			if (ev->new_state == PW_TCP_LISTEN || ev->dport == 0)
				continue;
			ev->direction = PW_DIR_OUTBOUND;
			if (ev->protocol != IPPROTO_TCP)
				continue;
			for (j = 0; j < n_listeners && ev->direction == PW_DIR_OUTBOUND; j++)
				if (listener_takes(listeners[j], ev))
					ev->direction = PW_DIR_INBOUND;
			for (j = start; crowded && j < end && ev->direction == PW_DIR_OUTBOUND; j++)
				if (listener_takes(&list->events[j], ev))
					ev->direction = PW_DIR_INBOUND;
		}
	}
}

static int compare_events(const void *a, const void *b)
{
	const struct pw_event *x = a, *y = b;
	int diff;

	if (x->protocol != y->protocol)
		return x->protocol < y->protocol ? -1 : 1;
	if (x->sport != y->sport)
		return x->sport < y->sport ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	diff = memcmp(x->saddr, y->saddr, PW_ADDR_LEN);
	if (diff)
		return diff;
	if (x->dport != y->dport)
		return x->dport < y->dport ? -1 : 1;
	diff = memcmp(x->daddr, y->daddr, PW_ADDR_LEN);
	if (diff)
		return diff;
	return x->netns < y->netns ? -1 : x->netns > y->netns;
}

uint32_t pw_inventory_own_netns(const char *proc_root)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/self/ns/net", proc_root);
	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
}

/* The network namespaces processes are in, other than ours: one process
 * in each, to enter it through. */
struct netns_list {
	uint32_t *inodes;
	uint32_t *pids;
	size_t len, cap;
};

static int collect_netns(const char *proc_root, uint32_t own, struct netns_list *out,
			 size_t *unreadable, int *first_error)
{
	struct dirent *entry;
	DIR *dir = opendir(proc_root);

	if (!dir)
		return -errno;
	while ((entry = readdir(dir))) {
		char path[sizeof(entry->d_name) + 4096];
		struct stat st;
		uint32_t pid;
		size_t i;

		if (!parse_pid(entry->d_name, &pid))
			continue;
		snprintf(path, sizeof(path), "%s/%s/ns/net", proc_root, entry->d_name);
		if (stat(path, &st)) {
			/* Gone or a kernel thread is fine; a process we may not
			 * look at may be in a namespace we would miss. */
			if (errno == EACCES || errno == EPERM) {
				if (!*unreadable)
					*first_error = errno;
				(*unreadable)++;
			}
			continue;
		}
		if ((uint32_t)st.st_ino == own)
			continue;
		for (i = 0; i < out->len && out->inodes[i] != (uint32_t)st.st_ino; i++)
			;
		if (i < out->len)
			continue;
		if (out->len == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 16;
			uint32_t *inodes = realloc(out->inodes, cap * sizeof(*inodes)), *pids;

			if (!inodes) {
				closedir(dir);
				return -ENOMEM;
			}
			out->inodes = inodes;
			pids = realloc(out->pids, cap * sizeof(*pids));
			if (!pids) {
				closedir(dir);
				return -ENOMEM;
			}
			out->pids = pids;
			out->cap = cap;
		}
		out->inodes[out->len] = (uint32_t)st.st_ino;
		out->pids[out->len] = pid;
		out->len++;
	}
	closedir(dir);
	return 0;
}

/* A sock_diag socket in the network namespace of pid: a netlink socket
 * belongs to the namespace its creator was in, so enter it, create the
 * socket, and come back. Needs CAP_SYS_ADMIN. Returns the socket or a
 * negative errno. */
static int diag_socket_in(const char *proc_root, uint32_t pid, int own_ns_fd)
{
	char path[4096];
	int target, fd, code;

	snprintf(path, sizeof(path), "%s/%u/ns/net", proc_root, pid);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0)
		return -errno;
	if (setns(target, CLONE_NEWNET)) {
		code = -errno;
		close(target);
		return code;
	}
	close(target);
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	code = fd < 0 ? -errno : fd;
	if (setns(own_ns_fd, CLONE_NEWNET)) {
		/* Entering worked, so returning can only fail if the kernel
		 * ran out of memory: staying in a foreign namespace would
		 * silently change what everything after this sees. */
		fprintf(stderr, "portwarden: cannot return to our own network namespace: %s\n",
			strerror(errno));
		abort();
	}
	return code;
}

/* Where the sockets of one namespace's dump go. */
struct list_filler {
	struct socket_list *list;
	uint8_t protocol;
	uint32_t netns;
	uint64_t now;
};

static int fill_list(void *ctx, const struct inet_diag_msg *msg, char *err, size_t err_len)
{
	struct list_filler *filler = ctx;
	struct pw_event ev;

	event_from_diag(msg, filler->protocol, filler->netns, filler->now, &ev);
	if (list_push(filler->list, &ev, msg->idiag_inode)) {
		fail(err, err_len, "out of memory listing sockets");
		return -ENOMEM;
	}
	return 0;
}

/* Dump the sockets of the namespace netns through fd into list. */
static int dump_namespace(int fd, uint32_t netns, const struct pw_inventory_config *cfg,
			  struct socket_list *list, char *err, size_t err_len)
{
	static const uint8_t protocols[] = { IPPROTO_TCP, IPPROTO_UDP };
	size_t f, p;
	int code;

	for (p = 0; p < sizeof(protocols); p++) {
		uint32_t states;

		if (cfg->all_states)
			states = ~0u;
		else if (protocols[p] == IPPROTO_TCP)
			states = 1u << PW_TCP_LISTEN;
		else
			states = 1u << PW_TCP_CLOSE; /* bound, not connected */
		for (f = 0; f < N_INET_FAMILIES; f++) {
			if (cfg->family && cfg->family != inet_families[f])
				continue;
			struct list_filler filler = { list, protocols[p], netns, pw_monotonic_ns() };

			code = diag_dump(fd, (uint32_t)(p * 2 + f + 1), inet_families[f], protocols[p],
					 states, fill_list, &filler, err, err_len);
			if (code)
				return code;
		}
	}
	return 0;
}

/* Every other namespace's sockets, when asked for. A namespace that
 * cannot be entered (no CAP_SYS_ADMIN) is skipped and counted. */
static int dump_other_namespaces(const char *proc_root, uint32_t own,
				 const struct pw_inventory_config *cfg, struct socket_list *list,
				 size_t *skipped, size_t *unreadable, int *first_error, char *err,
				 size_t err_len)
{
	struct netns_list spaces = { 0 };
	int own_fd, code;
	size_t i;

	own_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (own_fd < 0) {
		code = -errno;
		fail(err, err_len, "cannot open our own network namespace: %s", strerror(errno));
		return code;
	}
	code = collect_netns(proc_root, own, &spaces, unreadable, first_error);
	if (code) {
		fail(err, err_len, "cannot list network namespaces in %s: %s", proc_root,
		     strerror(-code));
		goto cleanup;
	}
	for (i = 0; i < spaces.len; i++) {
		int fd = diag_socket_in(proc_root, spaces.pids[i], own_fd);

		if (fd < 0) {
			if (!*skipped && !*unreadable)
				*first_error = -fd;
			(*skipped)++;
			continue;
		}
		code = dump_namespace(fd, spaces.inodes[i], cfg, list, err, err_len);
		close(fd);
		if (code)
			goto cleanup;
	}
cleanup:
	free(spaces.inodes);
	free(spaces.pids);
	close(own_fd);
	return code;
}

int pw_inventory_snapshot(const struct pw_inventory_config *cfg, pw_inventory_fn fn, void *ctx,
			  char *err, size_t err_len)
{
	const char *proc_root = cfg->proc_root ? cfg->proc_root : "/proc";
	struct socket_list list = { 0 };
	struct inode_index index = { 0 };
	struct owner_slot *owners = NULL;
	uint32_t *holders = NULL, netns;
	char cgroup_root[256] = "";
	size_t i, skipped = 0, unreadable = 0;
	int fd, code = 0, skip_error = 0;

	err[0] = '\0';
	/* No cgroup v2 mount: owners simply carry no cgroup id. */
	if (pw_cgroup2_mount(cgroup_root, sizeof(cgroup_root)))
		cgroup_root[0] = '\0';
	fd = open_diag_socket(err, err_len);
	if (fd < 0)
		return fd;
	netns = pw_inventory_own_netns(proc_root);
	code = dump_namespace(fd, netns, cfg, &list, err, err_len);
	if (!code && cfg->all_netns)
		code = dump_other_namespaces(proc_root, netns, cfg, &list, &skipped, &unreadable,
					     &skip_error, err, err_len);
	if (code)
		goto cleanup;

	holders = calloc(list.len ? list.len : 1, sizeof(*holders));
	owners = calloc(OWNER_CACHE_SLOTS, sizeof(*owners));
	code = holders && owners ? index_build(&index, &list) : -ENOMEM;
	if (code) {
		fail(err, err_len, "out of memory listing sockets");
		goto cleanup;
	}
	code = find_holders(proc_root, &index, holders);
	if (code) {
		fail(err, err_len, "cannot read %s: %s", proc_root, strerror(-code));
		goto cleanup;
	}
	for (i = 0; i < list.len; i++) {
		struct pw_event *ev = &list.events[i];
		uint32_t socket_uid = ev->owner.uid;

		if (holders[i] && read_owner_cached(owners, proc_root,
						    cgroup_root[0] ? cgroup_root : NULL, holders[i],
						    &ev->owner) == 0) {
			ev->attribution = PW_ATTR_SOCKET;
		} else {
			/* No process holds it (TIME_WAIT, an fd passed and closed,
			 * a kernel socket) or it exited meanwhile. */
			memset(&ev->owner, 0, sizeof(ev->owner));
			ev->owner.uid = socket_uid;
			ev->attribution = PW_ATTR_NONE;
		}
	}
	if (list.len) /* qsort's base must not be NULL, even for 0 elements */
		qsort(list.events, list.len, sizeof(*list.events), compare_events);
	infer_directions(&list);
	for (i = 0; i < list.len; i++) {
		code = fn(ctx, &list.events[i]);
		if (code)
			break;
	}
	if (!code && skipped)
		fail(err, err_len,
		     "%zu network namespace%s could not be entered (%s): %s sockets are not listed",
		     skipped, skipped == 1 ? "" : "s", strerror(skip_error),
		     skipped == 1 ? "its" : "their");
	else if (!code && unreadable)
		fail(err, err_len,
		     "the network namespace of %zu process%s could not be read (%s): sockets in "
		     "other namespaces may be missing",
		     unreadable, unreadable == 1 ? "" : "es", strerror(skip_error));

cleanup:
	close(fd);
	free(holders);
	free(owners);
	index_free(&index);
	list_free(&list);
	return code;
}

/* Where pw_inventory_tcp_states sends each socket. */
struct state_teller {
	pw_socket_state_fn fn;
	void *ctx;
};

static int tell_state(void *ctx, const struct inet_diag_msg *msg, char *err, size_t err_len)
{
	const struct state_teller *teller = ctx;
	int code = teller->fn(teller->ctx, diag_cookie(msg), msg->idiag_state);

	if (code)
		fail(err, err_len, "the socket check stopped: %s", strerror(code < 0 ? -code : code));
	return code;
}

int pw_inventory_tcp_states(uint32_t states, pw_socket_state_fn fn, void *ctx, char *err,
			    size_t err_len)
{
	struct state_teller teller = { fn, ctx };
	int fd, code = 0;

	err[0] = '\0';
	fd = open_diag_socket(err, err_len);
	if (fd < 0)
		return fd;
	for (size_t f = 0; f < N_INET_FAMILIES && !code; f++)
		code = diag_dump(fd, (uint32_t)f + 1, inet_families[f], IPPROTO_TCP, states,
				 tell_state, &teller, err, err_len);
	close(fd);
	return code;
}
