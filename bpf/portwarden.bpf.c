// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* portwarden's kernel side: TCP state changes and bind() calls, attributed to
 * the socket's owner, filtered in the kernel and sent through one ring buffer.
 * Userspace chooses at start-up which of the alternative hooks load here. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "portwarden.h"
#include "compat.bpf.h"
#include "sock.bpf.h"

#define IPPROTO_TCP 6
#define PW_OWNER_ENTRIES 65536
#define PW_LISTENER_ENTRIES 16384

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace before load. */
const volatile __u32 self_tgid = 0;         /* the tracer's own activity is never reported */
const volatile __u8 class_mask = PW_CLASS_STATE | PW_CLASS_BIND;
const volatile __u16 family_filter = 0;     /* 0: any, else AF_INET or AF_INET6 */
const volatile bool filter_by_pid = false;  /* only owners in filter_pids */
const volatile bool filter_by_port = false; /* only sockets with a port in filter_ports */
const volatile bool filter_by_uid = false;  /* only owners in filter_uids */
const volatile __u8 protocol_filter = 0;    /* 0: any, else IPPROTO_TCP or IPPROTO_UDP */
const volatile __u64 cgroup_filter = 0;     /* 0: any, else the owner's cgroup v2 id */
const volatile __u64 wakeup_bytes = 1 << 20; /* wake the consumer once this much is queued */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_COUNTER_SETS * PW_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} filter_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} filter_uids SEC(".maps");

/* One bit per port: ranges cost no more than single ports. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} filter_ports SEC(".maps");

/* What is remembered about a socket, keyed by its kernel address.
 *
 * A closed socket's entry is not deleted but marked closed: the kernel
 * hands the same address to a new socket soon (sockets come from a slab),
 * whose first change then rewrites the entry in place. An LRU insert and a
 * delete per socket were the state program's dearest map work; a closed
 * entry costs nothing and is the first the LRU evicts, as nothing touches
 * it any more. A closed entry reads as no entry (owner_of). */
struct sock_owner {
	struct pw_task task;
	__u64 born_ns;    /* connect, listen or passive open */
	__u64 changed_ns; /* last state change or bind */
	__u8 attribution; /* PW_ATTR_SYSCALL or PW_ATTR_LISTENER: how task was learnt */
	__u8 direction;   /* enum pw_direction, once the socket connected or listened */
	__u8 open;        /* 0: the socket closed, the entry waits for its address's next socket */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_OWNER_ENTRIES);
	__type(key, __u64);
	__type(value, struct sock_owner);
} sock_owners SEC(".maps");

/* Listening sockets by where they listen, so a passively opened socket can
 * inherit the listener's owner before anyone accepts it. IPv4 addresses are
 * stored v4-mapped so one lookup order serves both families. */
struct listener_key {
	__u32 netns;
	__u16 port;
	__u16 pad;
	__u8 addr[PW_ADDR_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_LISTENER_ENTRIES);
	__type(key, struct listener_key);
	__type(value, struct pw_task);
} listeners SEC(".maps");

/* Scratch space for building an event, one slot per event type: a state
 * change in softirq can interrupt a bind being reported on the same CPU.
 * The state backup (state_tp_btf_backup) runs nested in state_tp_btf, so it
 * has a slot of its own. */
enum scratch_slot {
	SCRATCH_STATE = PW_EVENT_STATE,
	SCRATCH_BIND = PW_EVENT_BIND,
	SCRATCH_STATE_BACKUP,
	SCRATCH_SLOTS,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct pw_event);
} scratch SEC(".maps");

/* LISTEN>SYN_RECV of a passively opened socket, held back until the socket's
 * next state change. Older kernels (6.1; not 6.18) set the child's state in
 * inet_csk_clone_lock() while the child is still a copy of the listener: no
 * peer address or port yet, and the listener's cookie until the request's is
 * copied in. The next change (SYN_RECV>ESTABLISHED, or >CLOSE on failure)
 * shows the child's own tuple and cookie, which the held event then takes,
 * keeping its own time. Entries live for one handshake at most. */
#define PW_SYN_RECV_HELD_ENTRIES 4096

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_SYN_RECV_HELD_ENTRIES);
	__type(key, __u64);
	__type(value, struct pw_event);
} syn_recv_held SEC(".maps");

/* Set the first time an event is held: a kernel that never needs to (6.18)
 * skips the syn_recv_held lookup of every SYN_RECV>... change. */
bool syn_recv_holding = false;

/* Counters are kept per scratch slot (see PW_COUNTER_SETS): programs that
 * may interrupt each other on a CPU never share one, so a plain increment
 * is never torn. */
_Static_assert(SCRATCH_SLOTS - SCRATCH_STATE == PW_COUNTER_SETS, "one counter set per slot");

static __always_inline __u32 counter_key(__u32 slot, __u32 counter)
{
	return (slot - SCRATCH_STATE) * PW_COUNTER_MAX + counter;
}

static __always_inline void count(__u32 slot, __u32 counter)
{
	__u32 key = counter_key(slot, counter);
	__u64 *value = bpf_map_lookup_elem(&counters, &key);

	if (value)
		*value += 1;
}

/* Where an event is built: straight in its ring record when it may be
 * delivered (no copy afterwards), else in the per-CPU scratch slot, so the
 * owner bookkeeping still runs when a filter already said no (to_ring
 * false) or the ring is full. *in_ring says which; NULL only when it is
 * false. Callers test in_ring, never the record pointer again: 6.1's
 * verifier cannot tell that a ring record once checked is not NULL and
 * follows a path that leaks it. For the same reason in_ring is a value of
 * its own (barrier_var), not the compiler's second test of the pointer. */
static __always_inline struct pw_event *event_start(__u32 type, __u32 slot, bool to_ring,
						     __u32 *in_ring)
{
	struct pw_event *ev = NULL;
	__u32 ring = 0;

	if (to_ring)
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (ev) {
		ring = 1;
	} else {
		ev = bpf_map_lookup_elem(&scratch, &slot);
		if (!ev) {
			*in_ring = 0;
			return NULL;
		}
	}
	barrier_var(ring);
	*in_ring = ring;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = type;
	return ev;
}

static __always_inline bool port_wanted(__u16 port)
{
	__u32 word = port >> 6;
	__u64 *bits;

	if (!port)
		return false;
	bits = bpf_map_lookup_elem(&filter_ports, &word);
	return bits && (*bits >> (port & 63)) & 1;
}

/* In-kernel filters: what the user did not ask for never reaches the ring.
 * Map keys are copied to the stack first: ev may be a ring record, which
 * older kernels (6.1) refuse as a map helper's key or value. */
static __always_inline bool event_wanted(const struct pw_event *ev)
{
	__u32 pid = ev->owner.pid, uid = ev->owner.uid;

	/* The tracer's own sockets are known to it (attributed when it made
	 * them); a socket merely seen while the tracer happened to be on the
	 * CPU (PW_ATTR_CURRENT, e.g. in softirq) is someone else's. */
	if (pid == self_tgid && ev->attribution != PW_ATTR_CURRENT)
		return false;
	if (family_filter && ev->family != family_filter)
		return false;
	if (protocol_filter && ev->protocol != protocol_filter)
		return false;
	if (filter_by_pid && !bpf_map_lookup_elem(&filter_pids, &pid))
		return false;
	if (filter_by_uid && !bpf_map_lookup_elem(&filter_uids, &uid))
		return false;
	if (cgroup_filter && ev->owner.cgroup_id != cgroup_filter)
		return false;
	if (filter_by_port && !port_wanted(ev->sport) && !port_wanted(ev->dport) &&
	    !port_wanted(ev->requested_port))
		return false;
	return true;
}

/* Deliver an event built by event_start, or drop it. Wake the consumer only
 * when enough is queued; userspace also drains on a short timer, so a quiet
 * machine's events are not held back. */
static __always_inline void event_finish(struct pw_event *ev, __u32 in_ring, __u32 slot)
{
	__u64 flags = BPF_RB_NO_WAKEUP, *delivered;
	__u32 key = counter_key(slot, PW_COUNTER_EVENTS);
	bool wanted = event_wanted(ev);

	if (!in_ring) {
		/* Filtered before it was built, or the ring was full. */
		count(slot, wanted ? PW_COUNTER_DROPPED : PW_COUNTER_FILTERED);
		return;
	}
	if (!wanted) {
		bpf_ringbuf_discard(ev, BPF_RB_NO_WAKEUP);
		count(slot, PW_COUNTER_FILTERED);
		return;
	}
	/* The fill level is asked every sixteenth event of a CPU: a helper
	 * call saved, the wake-up at most sixteen records late. */
	delivered = bpf_map_lookup_elem(&counters, &key);
	if (delivered)
		*delivered += 1;
	if ((!delivered || !(*delivered & 15)) &&
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(ev, flags);
}

/* Deliver an event built outside the ring (a held one): filtered, then
 * copied in. */
static __always_inline void submit(struct pw_event *ev, __u32 slot)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (!event_wanted(ev)) {
		count(slot, PW_COUNTER_FILTERED);
		return;
	}
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev), flags)) {
		count(slot, PW_COUNTER_DROPPED);
		return;
	}
	count(slot, PW_COUNTER_EVENTS);
}

static __always_inline void listener_key_of(struct listener_key *key, const struct pw_event *ev)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->netns = ev->netns;
	key->port = ev->sport;
	if (ev->family == AF_INET) {
		key->addr[10] = 0xff;
		key->addr[11] = 0xff;
		__builtin_memcpy(&key->addr[12], ev->saddr, 4);
	} else {
		__builtin_memcpy(key->addr, ev->saddr, PW_ADDR_LEN);
	}
}

/* The listener a passively opened socket came from: same address, then the
 * IPv4 wildcard, then the IPv6 wildcard (which also takes IPv4 connections). */
static __always_inline struct pw_task *listener_lookup(const struct pw_event *ev)
{
	struct listener_key key;
	struct pw_task *task;

	listener_key_of(&key, ev);
	task = bpf_map_lookup_elem(&listeners, &key);
	if (task)
		return task;
	__builtin_memset(key.addr, 0, sizeof(key.addr));
	key.addr[10] = 0xff;
	key.addr[11] = 0xff;
	task = bpf_map_lookup_elem(&listeners, &key);
	if (task)
		return task;
	key.addr[10] = 0;
	key.addr[11] = 0;
	return bpf_map_lookup_elem(&listeners, &key);
}

/* The open socket's entry in an entry looked up (entry may be NULL). */
static __always_inline struct sock_owner *owner_of(struct sock_owner *entry)
{
	return entry && entry->open ? entry : NULL;
}

/* Record the owner of a socket, whose sock_owners entry the caller looked
 * up already (entry, NULL when there is none; open or closed). For an open
 * socket, changed_ns and born_ns of 0 keep what is already known; a closed
 * entry is another socket's and starts afresh. */
static __always_inline void remember_owner_at(struct sock_owner *entry, __u64 sk_key,
					      const struct pw_task *task, __u8 attribution,
					      __u64 changed_ns, __u64 born_ns, __u8 direction)
{
	struct sock_owner fresh = {};

	if (entry) {
		bool open = entry->open;

		entry->task = *task;
		entry->attribution = attribution;
		if (changed_ns || !open)
			entry->changed_ns = changed_ns;
		if (born_ns || !open)
			entry->born_ns = born_ns;
		if (direction || !open)
			entry->direction = direction;
		entry->open = 1;
		return;
	}
	fresh.task = *task;
	fresh.attribution = attribution;
	fresh.changed_ns = changed_ns;
	fresh.born_ns = born_ns;
	fresh.direction = direction;
	fresh.open = 1;
	bpf_map_update_elem(&sock_owners, &sk_key, &fresh, BPF_ANY);
}

static __always_inline void remember_owner(__u64 sk_key, const struct pw_task *task,
					   __u8 attribution, __u64 changed_ns, __u64 born_ns,
					   __u8 direction)
{
	remember_owner_at(bpf_map_lookup_elem(&sock_owners, &sk_key), sk_key, task, attribution,
			  changed_ns, born_ns, direction);
}

/* Find who owns the socket for this state change and what its life so far
 * was; remember what this change teaches. */
static __always_inline void attribute_state(struct pw_event *ev, struct sock *sk, __u64 now,
					    bool btf)
{
	__u64 sk_key = (__u64)sk;
	struct sock_owner *entry = bpf_map_lookup_elem(&sock_owners, &sk_key);
	struct sock_owner *known = owner_of(entry);
	struct pw_task *listener;
	int old = ev->old_state, new = ev->new_state;

	if (known && known->changed_ns)
		ev->prev_state_ns = now - known->changed_ns;

	if (old == PW_TCP_CLOSE && (new == PW_TCP_SYN_SENT || new == PW_TCP_LISTEN)) {
		/* connect() and listen() run in the owner's own context. */
		if (btf)
			task_fill_current_btf(&ev->owner);
		else
			task_fill_current(&ev->owner);
		ev->attribution = PW_ATTR_SYSCALL;
		ev->direction = new == PW_TCP_LISTEN ? PW_DIR_LISTEN : PW_DIR_OUTBOUND;
		remember_owner_at(entry, sk_key, &ev->owner, PW_ATTR_SYSCALL, now, now,
				  ev->direction);
		if (new == PW_TCP_LISTEN) {
			/* A copy: see event_wanted on ring records as map values. */
			struct pw_task owner = ev->owner;
			struct listener_key key;

			listener_key_of(&key, ev);
			bpf_map_update_elem(&listeners, &key, &owner, BPF_ANY);
		}
		return;
	}

	if (old == PW_TCP_LISTEN && new == PW_TCP_SYN_RECV) {
		/* A child socket born in softirq, often on the peer's task. */
		listener = listener_lookup(ev);
		if (listener) {
			ev->owner = *listener;
			ev->attribution = PW_ATTR_LISTENER;
			ev->direction = PW_DIR_INBOUND;
			remember_owner_at(entry, sk_key, listener, PW_ATTR_LISTENER, now, now,
					  PW_DIR_INBOUND);
			return;
		}
	} else if (known) {
		ev->owner = known->task;
		ev->attribution = known->attribution == PW_ATTR_LISTENER ? PW_ATTR_LISTENER
									  : PW_ATTR_SOCKET;
		ev->direction = known->direction;
		known->changed_ns = now;
		if (new == PW_TCP_CLOSE) {
			if (known->born_ns)
				ev->duration_ns = now - known->born_ns;
			known->open = 0;
		}
		return;
	}
	if (btf)
		task_fill_current_btf(&ev->owner);
	else
		task_fill_current(&ev->owner);
	ev->attribution = PW_ATTR_CURRENT;
}

/* A socket closed: its byte counts, and its listeners entry if it was
 * listening (its sock_owners entry was marked closed by attribute_state).
 * btf: sk is BTF-typed (tp_btf), so the kernel's cast to a tcp_sock gives
 * plain loads instead of one helper read per field (Linux 5.9+: an older
 * kernel fails the tp_btf probe and runs the tracepoint hook). */
static __always_inline void forget_closed(struct pw_event *ev, struct sock *sk, bool btf)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u64 acked, received;
	bool all_acked;
	__u8 shutdown;

	if (btf) {
		struct tcp_sock *btp = bpf_skc_to_tcp_sock(sk);

		shutdown = BPF_CORE_READ_BITFIELD(sk, sk_shutdown);
		acked = btp ? btp->bytes_acked : 0;
		received = btp ? btp->bytes_received : 0;
		all_acked = btp && btp->snd_una == btp->write_seq;
	} else {
		shutdown = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown);
		acked = BPF_CORE_READ(tp, bytes_acked);
		received = BPF_CORE_READ(tp, bytes_received);
		all_acked = BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq);
	}

	/* The kernel counts sequence space: an acknowledged SYN (active opens
	 * only: a passive child starts past it) and FIN each add one. Report
	 * payload bytes, as the application sent and received them. sk_shutdown
	 * still holds what happened before this close (tcp_done sets it after
	 * the state change). */
	if (ev->direction == PW_DIR_OUTBOUND && acked)
		acked--;
	if ((shutdown & SEND_SHUTDOWN) && acked && all_acked)
		acked--;
	if ((shutdown & RCV_SHUTDOWN) && received)
		received--;
	ev->bytes_sent = acked;
	ev->bytes_received = received;
	if (ev->old_state == PW_TCP_LISTEN) {
		struct listener_key key;
		struct pw_task *listener;

		listener_key_of(&key, ev);
		listener = bpf_map_lookup_elem(&listeners, &key);
		/* With SO_REUSEPORT another listener may have taken the slot. */
		if (listener && listener->pid == ev->owner.pid)
			bpf_map_delete_elem(&listeners, &key);
	}
}

/* Filters that need only the socket, checked before anything is built:
 * the family (a socket never changes it, so nothing about it is needed
 * later) and the ports (the owner bookkeeping still runs: a connect is
 * reported before its port is known). Dead code unless set. */
static __always_inline bool state_family_wanted(struct sock *sk)
{
	return !family_filter || BPF_CORE_READ(sk, __sk_common.skc_family) == family_filter;
}

static __always_inline bool state_ports_wanted(struct sock *sk)
{
	__u16 sport, dport;

	if (!filter_by_port)
		return true;
	sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (!sport) /* see sock_fill_tuple */
		sport = __builtin_bswap16(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	return port_wanted(sport) || port_wanted(dport);
}

/* Send a held LISTEN>SYN_RECV event of sk (held, its syn_recv_held entry)
 * before ev, sk's next change, with the tuple and cookie that ev has read. */
static __always_inline void release_syn_recv(struct pw_event *held, const struct pw_event *ev,
					     struct sock *sk, __u32 slot)
{
	__u64 sk_key = (__u64)sk;

	held->family = ev->family;
	held->sport = ev->sport;
	held->dport = ev->dport;
	__builtin_memcpy(held->saddr, ev->saddr, PW_ADDR_LEN);
	__builtin_memcpy(held->daddr, ev->daddr, PW_ADDR_LEN);
	held->netns = ev->netns;
	held->sock_cookie = ev->sock_cookie;
	submit(held, slot);
	bpf_map_delete_elem(&syn_recv_held, &sk_key);
}

static __always_inline int handle_state(struct sock *sk, int old, int new, __u8 hook,
					__u64 cookie, __u32 slot)
{
	struct pw_event *ev, *held = NULL;
	__u64 now, sk_key = (__u64)sk;
	__u32 in_ring;
	bool hold;

	if (!(class_mask & PW_CLASS_STATE)) {
		/* Listen-only watch: skip everything else before any map work. */
		if (!(class_mask & PW_CLASS_LISTEN))
			return 0;
		if (!(old == PW_TCP_CLOSE && new == PW_TCP_LISTEN) &&
		    !(old == PW_TCP_LISTEN && new == PW_TCP_CLOSE))
			return 0;
	}
	if (hook != PW_HOOK_STATE_TP_BTF && sock_protocol(sk) != IPPROTO_TCP)
		return 0;
	if (!state_family_wanted(sk))
		return 0;
	/* A LISTEN>SYN_RECV without the peer's port yet is held back (see
	 * syn_recv_held): built in the scratch slot, which a map update can
	 * copy on every kernel, never in the ring. */
	hold = old == PW_TCP_LISTEN && new == PW_TCP_SYN_RECV &&
	       !(hook == PW_HOOK_STATE_TP_BTF ? sk->__sk_common.skc_dport
					       : BPF_CORE_READ(sk, __sk_common.skc_dport));
	/* A held event goes out first, so the change that releases it is
	 * built outside the ring too and copied in after it. */
	if (old == PW_TCP_SYN_RECV && syn_recv_holding)
		held = bpf_map_lookup_elem(&syn_recv_held, &sk_key);
	ev = event_start(PW_EVENT_STATE, slot, !hold && !held && state_ports_wanted(sk), &in_ring);
	if (!in_ring && !ev)
		return 0;
	now = bpf_ktime_get_ns();
	ev->ts_ns = now;
	ev->hook = hook;
	ev->old_state = old;
	ev->new_state = new;
	if (slot == SCRATCH_STATE_BACKUP)
		ev->flags = PW_EVENT_RECOVERED;
	if (hook == PW_HOOK_STATE_TP_BTF)
		sock_fill_common_btf(ev, sk);
	else
		sock_fill_common(ev, sk);
	if ((hook == PW_HOOK_STATE_TP_BTF && ev->protocol != IPPROTO_TCP) ||
	    !family_is_inet(ev->family)) {
		if (in_ring)
			bpf_ringbuf_discard(ev, BPF_RB_NO_WAKEUP);
		return 0;
	}
	if (cookie)
		ev->sock_cookie = cookie;
	if (held)
		release_syn_recv(held, ev, sk, slot);
	attribute_state(ev, sk, now, hook == PW_HOOK_STATE_TP_BTF);
	if (new == PW_TCP_CLOSE)
		forget_closed(ev, sk, hook == PW_HOOK_STATE_TP_BTF);
	if (hold) {
		/* Not yet the child's own tuple: see syn_recv_held. ev is the
		 * scratch slot here; looked up again so the verifier sees a map
		 * value (6.1 refuses a ring record as a map value). */
		struct pw_event *built = bpf_map_lookup_elem(&scratch, &slot);

		if (in_ring) {
			bpf_ringbuf_discard(ev, BPF_RB_NO_WAKEUP);
		} else if (built) {
			syn_recv_holding = true;
			bpf_map_update_elem(&syn_recv_held, &sk_key, built, BPF_ANY);
		}
		return 0;
	}
	if (held)
		submit(ev, slot);
	else
		event_finish(ev, in_ring, slot);
	return 0;
}

/* Asking for the cookie makes the kernel assign one, so every later event
 * of this socket carries the same value; once assigned, it is a plain load
 * away. */
static __always_inline __u64 sock_cookie_btf(const struct sock *sk)
{
	__u64 cookie = sk->__sk_common.skc_cookie.counter;

	return cookie ? cookie : bpf_get_socket_cookie((void *)sk);
}

/* ---- state changes the kernel would skip ----
 *
 * The kernel does not start a tracing program on a CPU where the same
 * program is already running (it counts a recursion miss instead): a state
 * change in softirq that interrupts state_tp_btf, typically the other end
 * of a loopback connection, would be lost. A second program on the same
 * tracepoint, state_tp_btf_backup, attached after the first so it runs
 * after it, handles exactly the runs the first did not make:
 *
 * - state_tp_btf, having handled a change (or decided to drop it), pushes
 *   the change's key on this CPU's guard stack;
 * - the backup looks for its change's key from the top: found, it pops it
 *   and everything above (nothing else to do); not found, state_tp_btf did
 *   not run for this change, and the backup handles it (counted in
 *   PW_COUNTER_RECOVERED);
 * - while the backup runs it sets backup_running, and state_tp_btf pushes
 *   nothing: a change interrupting the backup never reaches the backup
 *   (the kernel skips it there), so its key would only be left behind.
 *
 * State changes happen in task and softirq context only, so runs nest at
 * most one deep: anything above the key being looked for was left by a
 * change that interrupted the lookup before backup_running was set, and
 * can go. A run is lost only when both programs are busy on the CPU,
 * which needs two levels of nesting; the kernel's counts show it
 * (pw_loader_missed). The plain tracepoint hook has no backup: the kernel
 * skips every tracepoint program on a CPU that is running one. */
#define PW_GUARD_SLOTS 8

struct state_guard {
	__u64 keys[PW_GUARD_SLOTS];
	__u32 top;    /* keys pushed so far; the top one is keys[(top - 1) % slots] */
	__u32 bottom; /* the oldest still held: older ones were overwritten */
	__u32 backup_running;
	__u32 runs; /* of state_tp_btf, counted only for the pretend_* switches */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct state_guard);
} state_guards SEC(".maps");

/* One state change: socket cookies count from 1 and never reach the top 16
 * bits, which the two states fill. */
static __always_inline __u64 state_change_key(__u64 cookie, int old, int new)
{
	return cookie ^ ((__u64)(old & 0xff) << 56) ^ ((__u64)(new & 0xff) << 48);
}

static __always_inline void guard_push(__u64 key)
{
	__u32 zero = 0, top;
	struct state_guard *guard = bpf_map_lookup_elem(&state_guards, &zero);

	if (!guard || guard->backup_running)
		return;
	top = guard->top;
	guard->keys[top & (PW_GUARD_SLOTS - 1)] = key;
	guard->top = top + 1;
	if (top + 1 - guard->bottom > PW_GUARD_SLOTS)
		guard->bottom = top + 1 - PW_GUARD_SLOTS;
}

/* Was this change handled by state_tp_btf? Pops its key if so. */
static __always_inline bool guard_pop(struct state_guard *guard, __u64 key)
{
	__u32 top = guard->top, bottom = guard->bottom;

	for (int i = 0; i < PW_GUARD_SLOTS; i++) {
		if (top == bottom)
			break;
		top--;
		if (guard->keys[top & (PW_GUARD_SLOTS - 1)] == key) {
			guard->top = top;
			return true;
		}
	}
	return false;
}

/* For the tests (hidden --pretend-skipped N, --pretend-twice N): on every
 * Nth run, state_tp_btf acts as if the kernel had skipped it, or as if the
 * backup had missed its key, so both paths run on demand. 0: never, and
 * the verifier drops the code. */
const volatile __u32 pretend_skipped_every = 0;
const volatile __u32 pretend_twice_every = 0;

enum pretend { PRETEND_NOTHING, PRETEND_SKIPPED, PRETEND_TWICE };

static __always_inline enum pretend pretend_now(void)
{
	__u32 zero = 0, runs;
	struct state_guard *guard;

	if (!pretend_skipped_every && !pretend_twice_every)
		return PRETEND_NOTHING;
	guard = bpf_map_lookup_elem(&state_guards, &zero);
	if (!guard)
		return PRETEND_NOTHING;
	runs = ++guard->runs;
	if (pretend_skipped_every && runs % pretend_skipped_every == 0)
		return PRETEND_SKIPPED;
	if (pretend_twice_every && runs % pretend_twice_every == 0)
		return PRETEND_TWICE;
	return PRETEND_NOTHING;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_tp_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	enum pretend pretend = pretend_now();
	__u64 cookie;

	if (pretend == PRETEND_SKIPPED)
		return 0;
	cookie = sock_cookie_btf(sk);
	handle_state((struct sock *)sk, oldstate, newstate, PW_HOOK_STATE_TP_BTF, cookie,
		     SCRATCH_STATE);
	if (pretend != PRETEND_TWICE)
		guard_push(state_change_key(cookie, oldstate, newstate));
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_tp_btf_backup, const struct sock *sk, const int oldstate, const int newstate)
{
	__u32 zero = 0;
	struct state_guard *guard = bpf_map_lookup_elem(&state_guards, &zero);
	__u64 cookie;

	if (!guard)
		return 0;
	guard->backup_running = 1;
	cookie = sock_cookie_btf(sk);
	if (!guard_pop(guard, state_change_key(cookie, oldstate, newstate))) {
		count(SCRATCH_STATE_BACKUP, PW_COUNTER_RECOVERED);
		handle_state((struct sock *)sk, oldstate, newstate, PW_HOOK_STATE_TP_BTF, cookie,
			     SCRATCH_STATE_BACKUP);
	}
	guard->backup_running = 0;
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int state_tracepoint(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	return handle_state((struct sock *)ctx->skaddr, ctx->oldstate, ctx->newstate,
			    PW_HOOK_STATE_TRACEPOINT, 0, SCRATCH_STATE);
}

/* ---- bind ---- */

static __always_inline __u16 sockaddr_port(const void *uaddr, bool user)
{
	struct sockaddr_in sin = {};

	/* sin_port sits at the same offset in sockaddr_in and sockaddr_in6. */
	if (user)
		bpf_probe_read_user(&sin, sizeof(sin.sin_family) + sizeof(sin.sin_port), uaddr);
	else
		bpf_probe_read_kernel(&sin, sizeof(sin.sin_family) + sizeof(sin.sin_port), uaddr);
	return __builtin_bswap16(sin.sin_port);
}

static __always_inline void sockaddr_addr(struct pw_event *ev, const void *uaddr, bool user)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in *sin = (struct sockaddr_in *)&sin6;

	__builtin_memset(&sin6, 0, sizeof(sin6));
	if (ev->family == AF_INET6) {
		if (user)
			bpf_probe_read_user(&sin6, sizeof(sin6), uaddr);
		else
			bpf_probe_read_kernel(&sin6, sizeof(sin6), uaddr);
		__builtin_memcpy(ev->saddr, &sin6.sin6_addr, PW_ADDR_LEN);
	} else {
		if (user)
			bpf_probe_read_user(sin, sizeof(*sin), uaddr);
		else
			bpf_probe_read_kernel(sin, sizeof(*sin), uaddr);
		__builtin_memcpy(ev->saddr, &sin->sin_addr, 4);
	}
}

/* Report one finished bind of socket sk by the current task. */
static __always_inline int emit_bind(struct sock *sk, __u16 requested_port, const void *uaddr,
				     bool user, long ret, __u8 hook)
{
	struct pw_event *ev;
	__u32 in_ring;
	__u64 now;

	if (!(class_mask & PW_CLASS_BIND) || !sk)
		return 0;
	ev = event_start(PW_EVENT_BIND, SCRATCH_BIND, true, &in_ring);
	if (!in_ring && !ev)
		return 0;
	now = bpf_ktime_get_ns();
	ev->ts_ns = now;
	ev->hook = hook;
	sock_fill_common(ev, sk);
	if (!family_is_inet(ev->family)) {
		if (in_ring)
			bpf_ringbuf_discard(ev, BPF_RB_NO_WAKEUP);
		return 0;
	}
	ev->requested_port = requested_port;
	ev->bind_flags = sock_bind_flags(sk);
	task_fill_current(&ev->owner);
	ev->attribution = PW_ATTR_SYSCALL;
	if (ret < 0) {
		/* Nothing was bound: report the address that was asked for. */
		ev->bind_errno = -ret;
		ev->sport = requested_port;
		sockaddr_addr(ev, uaddr, user);
	} else if (ev->protocol == IPPROTO_TCP) {
		/* Only TCP sockets have state changes to attribute later. */
		remember_owner((__u64)sk, &ev->owner, PW_ATTR_SYSCALL, now, 0, 0);
	}
	event_finish(ev, in_ring, SCRATCH_BIND);
	return 0;
}

/* Syscall path: works on every kernel, sees bind(2) but not binds made
 * inside the kernel (io_uring, kernel sockets). */
struct bind_request_user {
	long fd;
	const void *uaddr;
	__u16 port;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct bind_request_user);
} bind_calls SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_bind")
int bind_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bind_request_user req = {};

	if (!(class_mask & PW_CLASS_BIND))
		return 0;
	req.fd = (long)ctx->args[0];
	req.uaddr = (const void *)ctx->args[1];
	req.port = sockaddr_port(req.uaddr, true);
	bpf_map_update_elem(&bind_calls, &pid_tgid, &req, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int bind_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bind_request_user *req = bpf_map_lookup_elem(&bind_calls, &pid_tgid);
	struct bind_request_user call;

	if (!req)
		return 0;
	call = *req;
	bpf_map_delete_elem(&bind_calls, &pid_tgid);
	return emit_bind(fd_to_sock(call.fd), call.port, call.uaddr, true, ctx->ret,
			 PW_HOOK_BIND_SYSCALL);
}

/* fexit path: sees every inet bind, including io_uring's and the kernel's
 * own; needs BPF trampolines, which locked-down kernels refuse. */
SEC("fexit/inet_bind")
int BPF_PROG(inet_bind_exit, struct socket *sock, struct sockaddr *uaddr, int addr_len, int ret)
{
	return emit_bind(BPF_CORE_READ(sock, sk), sockaddr_port(uaddr, false), uaddr, false, ret,
			 PW_HOOK_BIND_FEXIT);
}

SEC("fexit/inet6_bind")
int BPF_PROG(inet6_bind_exit, struct socket *sock, struct sockaddr *uaddr, int addr_len, int ret)
{
	return emit_bind(BPF_CORE_READ(sock, sk), sockaddr_port(uaddr, false), uaddr, false, ret,
			 PW_HOOK_BIND_FEXIT);
}

/* cgroup post_bind path: runs inside the kernel's bind for every inet
 * socket of every cgroup, whoever called it, so it also sees the binds the
 * syscall tracepoints miss (io_uring's IORING_OP_BIND). It only sees binds
 * that succeeded, and a bind(2) in flight is left to the syscall exit,
 * which knows the result and the requested port. */
static __always_inline int post_bind(struct bpf_sock *ctx, bool v6)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct pw_event *ev;
	__u32 in_ring;
	__u32 ip6[4];

	if (!(class_mask & PW_CLASS_BIND) || bpf_map_lookup_elem(&bind_calls, &pid_tgid))
		return 1;
	ev = event_start(PW_EVENT_BIND, SCRATCH_BIND, true, &in_ring);
	if (!in_ring && !ev)
		return 1;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->hook = PW_HOOK_BIND_CGROUP;
	/* Each attach point may read only its own family's address. */
	ev->family = v6 ? AF_INET6 : AF_INET;
	ev->protocol = ctx->protocol;
	ev->sock_type = ctx->type;
	if (!v6) {
		__u32 ip4 = ctx->src_ip4;

		__builtin_memcpy(ev->saddr, &ip4, 4);
	} else {
		ip6[0] = ctx->src_ip6[0];
		ip6[1] = ctx->src_ip6[1];
		ip6[2] = ctx->src_ip6[2];
		ip6[3] = ctx->src_ip6[3];
		__builtin_memcpy(ev->saddr, ip6, sizeof(ip6));
	}
	ev->sport = ctx->src_port;
	/* What was asked for is not visible here: the bound port stands in. */
	ev->requested_port = ev->sport;
	ev->sock_cookie = bpf_get_socket_cookie(ctx);
	task_fill_current(&ev->owner);
	ev->attribution = PW_ATTR_SYSCALL;
	task = (struct task_struct *)bpf_get_current_task();
	ev->netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	event_finish(ev, in_ring, SCRATCH_BIND);
	return 1;
}

SEC("cgroup/post_bind4")
int post_bind4(struct bpf_sock *ctx)
{
	return post_bind(ctx, false);
}

SEC("cgroup/post_bind6")
int post_bind6(struct bpf_sock *ctx)
{
	return post_bind(ctx, true);
}

/* ---- ownership learnt from accept() ---- */

static __always_inline int accepted(long fd, bool btf)
{
	struct sock *sk;
	struct pw_task task = {};

	if (fd < 0)
		return 0;
	sk = btf ? fd_to_sock_btf(fd) : fd_to_sock(fd);
	if (!sk)
		return 0;
	if (btf)
		task_fill_current_btf(&task);
	else
		task_fill_current(&task);
	remember_owner((__u64)sk, &task, PW_ATTR_SYSCALL, 0, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret, false);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret, false);
}

/* The same through the BTF-typed task, half the helper reads: loaded with
 * the tp_btf state hook, whose start-up probe has shown the kernel has
 * bpf_get_current_task_btf (5.11+). */
SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit_btf(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret, true);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit_btf(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret, true);
}

/* ---- socket cookies ---- */

/* The kernel assigns a socket's cookie lazily, on first request. Asking at
 * creation makes bind events (read through CO-RE) and state events of one
 * socket carry the same cookie. Never refuses a socket. */
SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *ctx)
{
	bpf_get_socket_cookie(ctx);
	return 1;
}
