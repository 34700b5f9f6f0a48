/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Every CO-RE shim for kernel fields that moved or changed between kernel
 * versions lives here, so the rest of the BPF code reads one way. */
#ifndef PW_COMPAT_BPF_H
#define PW_COMPAT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Linux 5.5 ("time: Rename tsk->real_start_time to ->start_boottime") renamed the boot-based start time that /proc/PID/stat
 * reports as field 22. */
struct task_struct___pre55 {
	u64 real_start_time;
} __attribute__((preserve_access_index));

static __always_inline __u64 task_start_boottime(struct task_struct *task)
{
	if (bpf_core_field_exists(task->start_boottime))
		return BPF_CORE_READ(task, start_boottime);
	return BPF_CORE_READ((struct task_struct___pre55 *)task, real_start_time);
}

/* Linux 6.6 ("inet: move inet->freebind to inet->inet_flags", "inet: move
 * inet->transparent to inet->inet_flags") turned the inet_sock bitfields into bits of
 * inet_flags. The enum holding the bit numbers is anonymous, so CO-RE cannot
 * relocate it: the numbers below are the ones from 6.6, unchanged since. */
#define PW_INET_FLAGS_FREEBIND 11
#define PW_INET_FLAGS_TRANSPARENT 15

/* sk_shutdown bits (include/net/sock.h); a macro, so not in vmlinux.h.
 * sk_shutdown itself was a 2-bit bitfield before 6.4 and a u8 since: read
 * it with BPF_CORE_READ_BITFIELD_PROBED, which handles both. */
#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2

struct inet_sock___pre66 {
	__u8 freebind: 1;
	__u8 transparent: 1;
} __attribute__((preserve_access_index));

static __always_inline bool inet_freebind(struct sock *sk)
{
	struct inet_sock *inet = (struct inet_sock *)sk;

	if (bpf_core_field_exists(inet->inet_flags))
		return (BPF_CORE_READ(inet, inet_flags) >> PW_INET_FLAGS_FREEBIND) & 1;
	return BPF_CORE_READ_BITFIELD_PROBED((struct inet_sock___pre66 *)inet, freebind);
}

static __always_inline bool inet_transparent(struct sock *sk)
{
	struct inet_sock *inet = (struct inet_sock *)sk;

	if (bpf_core_field_exists(inet->inet_flags))
		return (BPF_CORE_READ(inet, inet_flags) >> PW_INET_FLAGS_TRANSPARENT) & 1;
	return BPF_CORE_READ_BITFIELD_PROBED((struct inet_sock___pre66 *)inet, transparent);
}

/* Linux 5.6 ("net: Make sk_protocol a 16-bit value") turned sk_protocol and
 * sk_type from bitfields into plain u16 fields. The probed bitfield read
 * relocates offset, size and shifts, so it reads either layout. */
static __always_inline __u16 sock_protocol(struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

static __always_inline __u16 sock_type(struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
}

#endif /* PW_COMPAT_BPF_H */
