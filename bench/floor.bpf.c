// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The benchmark's floor: programs on the same hooks portwarden uses that do
 * no work of their own. With deliver off they only return, which measures
 * what attaching to the hooks costs; with deliver on, each state change and
 * finished bind reserves and submits one record the size of struct pw_event
 * without waking the consumer, which measures the ring buffer's own cost. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "portwarden.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile bool deliver = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Key 0: records submitted, key 1: reserve failed (ring full). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void deliver_one(__u8 type)
{
	__u32 key = 0;
	struct pw_event *ev;
	__u64 *n;

	if (!deliver)
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (ev) {
		ev->ts_ns = bpf_ktime_get_ns();
		ev->type = type;
		bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
	} else {
		key = 1;
	}
	n = bpf_map_lookup_elem(&counters, &key);
	if (n)
		*n += 1;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_state, const struct sock *sk, const int oldstate, const int newstate)
{
	deliver_one(PW_EVENT_STATE);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_bind")
int floor_bind_enter(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int floor_bind_exit(void *ctx)
{
	deliver_one(PW_EVENT_BIND);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int floor_accept4_exit(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int floor_accept_exit(void *ctx)
{
	return 0;
}

SEC("cgroup/post_bind4")
int floor_post_bind4(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/post_bind6")
int floor_post_bind6(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/sock_create")
int floor_sock_create(struct bpf_sock *ctx)
{
	return 1;
}
