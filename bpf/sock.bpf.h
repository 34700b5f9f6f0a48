/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading what portwarden reports about a socket and a task, through CO-RE. */
#ifndef PW_SOCK_BPF_H
#define PW_SOCK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "compat.bpf.h"
#include "portwarden.h"

#define AF_INET 2
#define AF_INET6 10
#define PW_S_IFMT 00170000
#define PW_S_IFSOCK 0140000

static __always_inline bool family_is_inet(__u16 family)
{
	return family == AF_INET || family == AF_INET6;
}

/* What every way of naming the current task shares: ids, cgroup, comm. */
static __always_inline void task_fill_ids(struct pw_task *t)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	t->pid = pid_tgid >> 32;
	t->tid = (__u32)pid_tgid;
	t->uid = (__u32)uid_gid;
	t->gid = uid_gid >> 32;
	t->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}

/* The identity of the task running now, as the owner of a socket. */
static __always_inline void task_fill_current(struct pw_task *t)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	task_fill_ids(t);
	t->ppid = BPF_CORE_READ(task, real_parent, tgid);
	/* The process's start time (its group leader's), which /proc/PID/stat shows:
	 * a worker thread's own start time would not match it. */
	t->start_ns = task_start_boottime(BPF_CORE_READ(task, group_leader));
}

/* The same through the BTF-typed current task (tp_btf programs): plain
 * loads instead of four bpf_probe_read_kernel calls. bpf_get_current_task_btf
 * needs Linux 5.11; on an older kernel the tp_btf program fails its start-up
 * probe and the tracepoint hook, which uses task_fill_current, runs instead.
 * start_boottime has its 5.5 name on every such kernel. */
static __always_inline void task_fill_current_btf(struct pw_task *t)
{
	struct task_struct *task = bpf_get_current_task_btf();

	task_fill_ids(t);
	t->ppid = task->real_parent->tgid;
	t->start_ns = task->group_leader->start_boottime;
}

static __always_inline __u32 sock_netns(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* Local and remote address and port of a socket, as they are now. */
static __always_inline void sock_fill_tuple(struct pw_event *ev, struct sock *sk)
{
	struct inet_sock *inet = (struct inet_sock *)sk;

	ev->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	ev->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	/* Closing sockets may have released the port (inet_num = 0) before the
	 * last state change; the source port field still holds it. */
	if (!ev->sport)
		ev->sport = __builtin_bswap16(BPF_CORE_READ(inet, inet_sport));
	ev->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (ev->family == AF_INET) {
		bpf_core_read(ev->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(ev->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(ev->saddr, PW_ADDR_LEN, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(ev->daddr, PW_ADDR_LEN, &sk->__sk_common.skc_v6_daddr);
	}
}

static __always_inline void sock_fill_common(struct pw_event *ev, struct sock *sk)
{
	sock_fill_tuple(ev, sk);
	ev->netns = sock_netns(sk);
	ev->protocol = sock_protocol(sk);
	ev->sock_type = sock_type(sk);
	ev->sock_cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/* The same, for a BTF-typed socket (tp_btf): each field is a plain load
 * instead of a bpf_probe_read_kernel call, several times cheaper. The
 * socket cookie is left to the caller, which has it from the kernel. */
static __always_inline void sock_fill_common_btf(struct pw_event *ev, struct sock *sk)
{
	const struct sock_common *skc = &sk->__sk_common;

	ev->family = skc->skc_family;
	ev->sport = skc->skc_num;
	if (!ev->sport) /* see sock_fill_tuple: inet_sport is beyond struct sock */
		ev->sport = __builtin_bswap16(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	ev->dport = __builtin_bswap16(skc->skc_dport);
	if (ev->family == AF_INET) {
		*(__u32 *)ev->saddr = skc->skc_rcv_saddr;
		*(__u32 *)ev->daddr = skc->skc_daddr;
	} else {
		__u32 *s = (__u32 *)ev->saddr, *d = (__u32 *)ev->daddr;

		s[0] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[0];
		s[1] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[1];
		s[2] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[2];
		s[3] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[3];
		d[0] = skc->skc_v6_daddr.in6_u.u6_addr32[0];
		d[1] = skc->skc_v6_daddr.in6_u.u6_addr32[1];
		d[2] = skc->skc_v6_daddr.in6_u.u6_addr32[2];
		d[3] = skc->skc_v6_daddr.in6_u.u6_addr32[3];
	}
	ev->netns = skc->skc_net.net->ns.inum;
	ev->protocol = BPF_CORE_READ_BITFIELD(sk, sk_protocol);
	ev->sock_type = BPF_CORE_READ_BITFIELD(sk, sk_type);
}

static __always_inline __u8 sock_bind_flags(struct sock *sk)
{
	__u8 flags = 0;

	if (BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_reuse))
		flags |= PW_BIND_REUSEADDR;
	if (BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_reuseport))
		flags |= PW_BIND_REUSEPORT;
	if (inet_freebind(sk))
		flags |= PW_BIND_FREEBIND;
	if (inet_transparent(sk))
		flags |= PW_BIND_TRANSPARENT;
	return flags;
}

/* The socket of an open file, or NULL when the file is not a socket. */
static __always_inline struct sock *file_to_sock(struct file *file)
{
	umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);
	struct socket *sock;

	if ((mode & PW_S_IFMT) != PW_S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/* The socket behind a file descriptor of the current task, or NULL when the
 * descriptor is not a socket. */
static __always_inline struct sock *fd_to_sock(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;
	unsigned int max_fds;

	if (!fdt || fd < 0)
		return NULL;
	max_fds = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned long)fd >= max_fds)
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	return file_to_sock(file);
}

/* The same through the BTF-typed current task (Linux 5.11+, see
 * task_fill_current_btf): the walk to the descriptor table is plain loads,
 * the rest (untyped pointers) still needs helper reads. */
static __always_inline struct sock *fd_to_sock_btf(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file *file = NULL;

	if (fd < 0 || (unsigned long)fd >= fdt->max_fds)
		return NULL;
	if (bpf_core_read(&file, sizeof(file), &fdt->fd[fd]) || !file)
		return NULL;
	return file_to_sock(file);
}

#endif /* PW_SOCK_BPF_H */
