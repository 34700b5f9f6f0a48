/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one record shared by the BPF programs and userspace: what the kernel
 * side knows about a socket event at the moment it happens. */
#ifndef PORTWARDEN_H
#define PORTWARDEN_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PW_COMM_LEN 16
#define PW_ADDR_LEN 16 /* wide enough for IPv6; IPv4 uses the first 4 bytes */

/* Bump when struct pw_event changes shape; userspace refuses other sizes. */
#define PW_EVENT_VERSION 1

enum pw_event_type {
	PW_EVENT_STATE = 1, /* TCP state change (sock:inet_sock_set_state) */
	PW_EVENT_BIND = 2,  /* bind() on an inet socket, successful or not */
};

/* How the owner in pw_event.owner was found. Mirrors "attribution" in the
 * event contract. */
enum pw_attribution {
	PW_ATTR_NONE = 0,
	PW_ATTR_SYSCALL = 1,  /* the owner's own call (connect, listen, bind, accept) */
	PW_ATTR_SOCKET = 2,   /* remembered for this socket */
	PW_ATTR_LISTENER = 3, /* inherited from the listening socket, before accept */
	PW_ATTR_CURRENT = 4,  /* whatever task was on the CPU: may be wrong */
};

/* Which kernel hook produced the event (for -v and for tests that force a mode). */
enum pw_hook {
	PW_HOOK_STATE_TP_BTF = 1,
	PW_HOOK_STATE_TRACEPOINT = 2,
	PW_HOOK_BIND_FEXIT = 3,
	PW_HOOK_BIND_SYSCALL = 4,
	PW_HOOK_BIND_CGROUP = 5, /* cgroup post_bind: binds outside bind(2), e.g. io_uring */
};

/* Linux TCP states (include/net/tcp_states.h); stable kernel ABI. */
enum pw_tcp_state {
	PW_TCP_ESTABLISHED = 1,
	PW_TCP_SYN_SENT,
	PW_TCP_SYN_RECV,
	PW_TCP_FIN_WAIT1,
	PW_TCP_FIN_WAIT2,
	PW_TCP_TIME_WAIT,
	PW_TCP_CLOSE,
	PW_TCP_CLOSE_WAIT,
	PW_TCP_LAST_ACK,
	PW_TCP_LISTEN,
	PW_TCP_CLOSING,
	PW_TCP_NEW_SYN_RECV,
	PW_TCP_BOUND_INACTIVE,
	PW_TCP_MAX_STATES,
};

/* Which way a connection was opened, learnt when it opened. */
enum pw_direction {
	PW_DIR_NONE = 0,
	PW_DIR_INBOUND = 1,  /* passively opened: accepted from a listener */
	PW_DIR_OUTBOUND = 2, /* actively opened: connect() */
	PW_DIR_LISTEN = 3,   /* a listening socket */
};

/* pw_event.flags */
enum pw_event_flag {
	/* Made by the state backup program, for a state change the kernel
	 * skipped in the main one (see state_guards in portwarden.bpf.c). */
	PW_EVENT_RECOVERED = 1 << 0,
};

/* Socket options that decide who may share a bound port. */
enum pw_bind_flag {
	PW_BIND_REUSEADDR = 1 << 0,
	PW_BIND_REUSEPORT = 1 << 1,
	PW_BIND_FREEBIND = 1 << 2,
	PW_BIND_TRANSPARENT = 1 << 3,
};

/* The task that owns a socket, as the kernel saw it. */
struct pw_task {
	__u64 start_ns;  /* task start time, boot-based ns: with pid, names one process */
	__u64 cgroup_id; /* cgroup v2 id of the task */
	__u32 pid;       /* thread group id */
	__u32 tid;
	__u32 ppid;      /* real parent's thread group id */
	__u32 uid;
	__u32 gid;
	__u32 pad;
	char comm[PW_COMM_LEN];
};

struct pw_event {
	__u64 ts_ns;          /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 sock_cookie;    /* kernel socket cookie, 0 if the kernel had none */
	__u64 prev_state_ns;  /* time spent in old_state, 0 if unknown */
	__u64 duration_ns;    /* on close: life of the connection, 0 if unknown */
	__u64 bytes_sent;     /* on close: tcp_sock.bytes_acked */
	__u64 bytes_received; /* on close: tcp_sock.bytes_received */
	struct pw_task owner;
	__u8 saddr[PW_ADDR_LEN]; /* local address, network order */
	__u8 daddr[PW_ADDR_LEN]; /* remote address, network order */
	__u32 netns;             /* network namespace inode */
	__s32 bind_errno;        /* bind: positive errno, 0 on success */
	__u16 family;            /* AF_INET or AF_INET6 */
	__u16 sport;             /* local port, host order */
	__u16 dport;             /* remote port, host order */
	__u16 requested_port;    /* bind: the port asked for, host order */
	__u8 type;               /* enum pw_event_type */
	__u8 protocol;           /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u8 old_state;          /* enum pw_tcp_state */
	__u8 new_state;
	__u8 attribution;        /* enum pw_attribution */
	__u8 bind_flags;         /* enum pw_bind_flag bits */
	__u8 hook;               /* enum pw_hook */
	__u8 sock_type;          /* SOCK_STREAM, SOCK_DGRAM, ... */
	__u8 direction;          /* enum pw_direction */
	__u8 flags;              /* enum pw_event_flag bits */
	__u8 pad[6];
};

/* Keys of the per-CPU counter array the BPF side keeps. */
enum pw_counter {
	PW_COUNTER_EVENTS = 0,   /* records submitted to the ring */
	PW_COUNTER_DROPPED = 1,  /* ring full: reserve failed */
	PW_COUNTER_FILTERED = 2, /* rejected by an in-kernel filter */
	PW_COUNTER_RECOVERED = 3, /* state changes the kernel skipped in the main program,
				   * handled by its backup (see state_guards) */
	PW_COUNTER_MAX,
};

/* The counters map holds PW_COUNTER_SETS sets of PW_COUNTER_MAX per-CPU
 * counters, one set per kind of program that may interrupt another on a CPU
 * (state, bind, the state backup), so that no increment is torn; userspace
 * adds the sets up. */
#define PW_COUNTER_SETS 3

/* Event classes that the in-kernel filter can switch off. */
enum pw_class {
	PW_CLASS_STATE = 1 << 0,  /* every TCP state change */
	PW_CLASS_BIND = 1 << 1,   /* bind() calls */
	PW_CLASS_LISTEN = 1 << 2, /* only CLOSE->LISTEN and LISTEN->CLOSE */
};

/* The port filter is a bitmap: one bit per port, in 64-bit words. */
#define PW_PORT_WORDS (65536 / 64)

#endif /* PORTWARDEN_H */
