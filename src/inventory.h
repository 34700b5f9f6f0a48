/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Inventory step: the inet sockets open right now, read from the kernel
 * (sock_diag netlink) and attributed to the processes holding them. */
#ifndef PW_INVENTORY_H
#define PW_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "portwarden.h"

struct pw_inventory_config {
	const char *proc_root; /* "/proc" (NULL means "/proc"), or a fixture tree */
	bool all_states;       /* every TCP state and connected UDP sockets too, not
				* only listening TCP and bound UDP sockets */
	uint16_t family;       /* 0 for both, else AF_INET or AF_INET6 */
	bool all_netns;        /* every network namespace a process is in, not only
				* the caller's (needs CAP_SYS_ADMIN to enter them) */
};

/* Called once per socket. The event is a PW_EVENT_STATE record with
 * old_state == new_state == the socket's current state (UDP: CLOSE when
 * bound but unconnected, ESTABLISHED when connected), ts_ns the
 * CLOCK_MONOTONIC time of the dump, sock_cookie the kernel's socket cookie
 * (the one the tracer reports), and owner the process that holds the
 * socket (owner.pid 0 when none does, e.g. TIME_WAIT). A non-zero return
 * stops the walk and is returned by pw_inventory_snapshot. */
typedef int (*pw_inventory_fn)(void *ctx, const struct pw_event *ev);

/* Enumerate the sockets of the caller's network namespace (with all_netns,
 * of every namespace a process is in; netns in each event says which),
 * ordered by transport, local port, family and local address, and call fn
 * for each. Returns 0, fn's non-zero return, or a negative errno with a
 * one-line message in err. On success err is empty, or holds a warning
 * about namespaces that could not be entered and were left out. */
int pw_inventory_snapshot(const struct pw_inventory_config *cfg, pw_inventory_fn fn, void *ctx,
			  char *err, size_t err_len);

/* Fill owner from PROC_ROOT/PID/stat and /status (pid, tid = pid, ppid,
 * comm, uid, gid, start_ns as boot-based ns like the BPF side) and the
 * cgroup v2 id of /proc/PID/cgroup under cgroup_root ("/sys/fs/cgroup";
 * NULL to leave it 0). Returns 0 or a negative errno (-ENOENT: gone). */
int pw_inventory_read_owner(const char *proc_root, const char *cgroup_root, uint32_t pid,
			    struct pw_task *owner);

/* The inode of PROC_ROOT/self/ns/net: the caller's network namespace, the
 * netns the tracer's events carry for it; 0 when unreadable. */
uint32_t pw_inventory_own_netns(const char *proc_root);

/* Called with the cookie and state of each socket; non-zero stops the dump. */
typedef int (*pw_socket_state_fn)(void *ctx, uint64_t sock_cookie, uint8_t state);

/* The TCP sockets (IPv4 and IPv6) of the caller's network namespace whose
 * state is in states (bit 1 << PW_TCP_*), cookie and state only: no owners,
 * no /proc walk, cheap enough to repeat. Returns 0, fn's non-zero return, or
 * a negative errno; err holds a one-line message when not 0. */
int pw_inventory_tcp_states(uint32_t states, pw_socket_state_fn fn, void *ctx, char *err,
			    size_t err_len);

#endif /* PW_INVENTORY_H */
