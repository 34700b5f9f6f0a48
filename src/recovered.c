/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Recognising the second report of a state change (see recovered.h). */
#include <stddef.h>
#include "recovered.h"

/* The last change recorded for this socket, or NULL when it is not among
 * the recent ones. Only recovered events search, and they are rare. */
static const struct pw_recent_state *last_change_of(const struct pw_recent_states *recent,
						    uint64_t sock_cookie)
{
	uint64_t n = recent->seen < PW_RECENT_STATES ? recent->seen : PW_RECENT_STATES;

	for (uint64_t back = 1; back <= n; back++) {
		const struct pw_recent_state *s = &recent->ring[(recent->seen - back) % PW_RECENT_STATES];

		if (s->sock_cookie == sock_cookie)
			return s;
	}
	return NULL;
}

bool pw_recovered_duplicate(struct pw_recent_states *recent, const struct pw_event *ev)
{
	struct pw_recent_state *slot;

	if (ev->type != PW_EVENT_STATE || !ev->sock_cookie)
		return false;
	if (ev->flags & PW_EVENT_RECOVERED) {
		/* A socket changes state under its lock, one change at a time:
		 * the same change again with nothing in between is the same
		 * change reported twice. A genuine repeat (a second connect
		 * after a failed one) has the change back in between. */
		const struct pw_recent_state *last = last_change_of(recent, ev->sock_cookie);

		if (last && last->old_state == ev->old_state && last->new_state == ev->new_state)
			return true;
	}
	slot = &recent->ring[recent->seen % PW_RECENT_STATES];
	slot->sock_cookie = ev->sock_cookie;
	slot->old_state = ev->old_state;
	slot->new_state = ev->new_state;
	recent->seen++;
	return false;
}
