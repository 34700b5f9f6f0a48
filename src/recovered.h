/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* State changes recovered by the kernel's backup program (events flagged
 * PW_EVENT_RECOVERED): the backup reports a change only when it finds no
 * sign that the main program did, and in the rare case that the main
 * program did after all, the change reaches the ring twice. This step
 * remembers the last state change of recent sockets and recognises the
 * second report, which the pipeline drops and counts. */
#ifndef PW_RECOVERED_H
#define PW_RECOVERED_H

#include <stdbool.h>
#include <stdint.h>
#include "portwarden.h"

/* How many state changes back a repeat is recognised: the two reports of a
 * change are made one after the other on one CPU, a few hundred events
 * apart at most under a connection storm. */
#define PW_RECENT_STATES 4096

struct pw_recent_state {
	uint64_t sock_cookie;
	uint8_t old_state, new_state;
};

/* All zero is empty. */
struct pw_recent_states {
	struct pw_recent_state ring[PW_RECENT_STATES];
	uint64_t seen; /* state changes recorded; the newest is ring[(seen - 1) % size] */
};

/* Record a state change; true when it is a recovered report of the change
 * the same socket reported last (its duplicate: drop it). Bind events and
 * events without a socket cookie are never duplicates. */
bool pw_recovered_duplicate(struct pw_recent_states *recent, const struct pw_event *ev);

#endif /* PW_RECOVERED_H */
