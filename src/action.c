/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps a state change or bind result to the contract's action words. */
#include <stddef.h>
#include "action.h"

static const char *const action_names[] = {
	[PW_ACTION_LISTEN] = "listen",
	[PW_ACTION_LISTEN_CLOSE] = "listen_close",
	[PW_ACTION_CONNECT] = "connect",
	[PW_ACTION_CONNECTED] = "connected",
	[PW_ACTION_CONNECT_FAILED] = "connect_failed",
	[PW_ACTION_ACCEPTED] = "accepted",
	[PW_ACTION_CLOSE] = "close",
	[PW_ACTION_TRANSITION] = "transition",
	[PW_ACTION_BIND] = "bind",
	[PW_ACTION_BIND_FAILED] = "bind_failed",
	[PW_ACTION_EXISTING] = "existing",
	[PW_ACTION_UNKNOWN] = "unknown",
};

static enum pw_action state_action(unsigned int from, unsigned int to)
{
	/* The specific pairs first: each of the first three ends in CLOSE too,
	 * and "any other -> CLOSE" must not swallow them. */
	if (from == PW_TCP_CLOSE && to == PW_TCP_LISTEN)
		return PW_ACTION_LISTEN;
	if (from == PW_TCP_LISTEN && to == PW_TCP_CLOSE)
		return PW_ACTION_LISTEN_CLOSE;
	if (from == PW_TCP_SYN_SENT && to == PW_TCP_CLOSE)
		return PW_ACTION_CONNECT_FAILED;
	if (from == PW_TCP_CLOSE && to == PW_TCP_SYN_SENT)
		return PW_ACTION_CONNECT;
	if (from == PW_TCP_SYN_SENT && to == PW_TCP_ESTABLISHED)
		return PW_ACTION_CONNECTED;
	if (from == PW_TCP_SYN_RECV && to == PW_TCP_ESTABLISHED)
		return PW_ACTION_ACCEPTED;
	if (to == PW_TCP_CLOSE)
		return PW_ACTION_CLOSE;
	return PW_ACTION_TRANSITION;
}

enum pw_action pw_action_of(const struct pw_event *ev)
{
	switch (ev->type) {
	case PW_EVENT_STATE:
		return state_action(ev->old_state, ev->new_state);
	case PW_EVENT_BIND:
		return ev->bind_errno == 0 ? PW_ACTION_BIND : PW_ACTION_BIND_FAILED;
	default:
		return PW_ACTION_UNKNOWN;
	}
}

const char *pw_action_name(enum pw_action action)
{
	if ((unsigned int)action >= sizeof(action_names) / sizeof(action_names[0]))
		return NULL;
	return action_names[action];
}
