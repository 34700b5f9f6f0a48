/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The socket ledger: the state the tracer last saw each TCP socket of its
 * own network namespace enter, so that a state change the kernel made but
 * delivered to no program is counted as lost instead of missing silently.
 *
 * Under load the kernel sometimes runs neither state program for a change
 * (docs/performance.md, "Changes the kernel does not deliver"), without
 * counting a skip anywhere. A missing change shows in two ways:
 * - a break in a socket's chain: a change out of a state the socket was
 *   never seen to enter. Changes of one socket made on two CPUs a few
 *   microseconds apart can reach the ring out of order, so a break counts
 *   only when the change that mends it has not come within
 *   PW_LEDGER_SETTLE_NS of event time;
 * - a disagreement with the kernel's socket table (sock_diag), for changes
 *   with nothing after them, such as a connection's last ones: a socket the
 *   kernel shows in another state, or no longer has, at two checks in a row
 *   with no event about it in between (one check is enough when final: the
 *   tracer stopped and read everything made before the check).
 * Each counts as the fewest changes that can be missing: one for a break or
 * a socket gone or in another state, more for a socket the kernel holds in
 * TIME_WAIT (from FIN_WAIT1, FIN_WAIT2 or CLOSING and then CLOSE were
 * missed: two from FIN_WAIT1, three from ESTABLISHED).
 *
 * Changes that start a socket's life (CLOSE->SYN_SENT, CLOSE->LISTEN) cannot
 * be found missing: a socket's first delivered change is where it starts.
 * The ledger must see every change of the sockets it follows: it is for
 * traces whose filters keep or drop whole sockets (port, family,
 * transport), not ones that pick events by process or user. */
#ifndef PW_LEDGER_H
#define PW_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "portwarden.h"

/* How long (event time) a change may trail a later change of its socket. */
#define PW_LEDGER_SETTLE_NS 1000000000ull

/* The sockets a check asks the kernel for: every TCP state but request
 * sockets and TIME_WAIT, which can be a hundred thousand under a storm.
 * TIME_WAIT ones keep their socket's cookie and tell how far a socket got
 * whose last changes were missed: a check asks for them too
 * (PW_LEDGER_CHECK_STATES_TW) when pw_ledger_check_wants_time_wait, and the
 * final one always. */
#define PW_LEDGER_CHECK_STATES \
	(((1u << PW_TCP_NEW_SYN_RECV) - 1) & ~(1u << 0 | 1u << PW_TCP_TIME_WAIT))
#define PW_LEDGER_CHECK_STATES_TW (PW_LEDGER_CHECK_STATES | 1u << PW_TCP_TIME_WAIT)

struct pw_ledger;

int pw_ledger_new(struct pw_ledger **out);
void pw_ledger_free(struct pw_ledger *ledger);

/* A delivered state change of socket sock_cookie (0: none, ignored) at
 * kernel time ts_ns. Returns 0 or -ENOMEM (the change is then not kept). */
int pw_ledger_note(struct pw_ledger *ledger, uint64_t sock_cookie, uint8_t old_state,
		   uint8_t new_state, uint64_t ts_ns);

/* Count the breaks older than PW_LEDGER_SETTLE_NS before the newest change
 * noted (all of them when all: nothing more will come) and forget closed
 * sockets past that horizon. Once a second is plenty. */
void pw_ledger_settle(struct pw_ledger *ledger, bool all);

/* A check against the kernel's socket table: begin, then every socket the
 * kernel has in PW_LEDGER_CHECK_STATES (sockets the ledger does not follow
 * are ignored), then end. */
void pw_ledger_check_begin(struct pw_ledger *ledger);
void pw_ledger_check_socket(struct pw_ledger *ledger, uint64_t sock_cookie, uint8_t state);
void pw_ledger_check_end(struct pw_ledger *ledger, bool final);
/* Whether the next check should ask for TIME_WAIT sockets too: some socket
 * the last check disagreed with has had no event since. */
bool pw_ledger_check_wants_time_wait(const struct pw_ledger *ledger);

/* State changes found missing so far. */
uint64_t pw_ledger_undelivered(const struct pw_ledger *ledger);
/* Sockets followed and not closed. */
size_t pw_ledger_open_sockets(const struct pw_ledger *ledger);

#endif /* PW_LEDGER_H */
