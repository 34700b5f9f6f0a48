/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What a socket event means in words a SIEM rule can match ("listen",
 * "connect_failed", ...), derived from its type and state change. */
#ifndef PW_ACTION_H
#define PW_ACTION_H

#include "portwarden.h"

enum pw_action {
	PW_ACTION_LISTEN,
	PW_ACTION_LISTEN_CLOSE,
	PW_ACTION_CONNECT,
	PW_ACTION_CONNECTED,
	PW_ACTION_CONNECT_FAILED,
	PW_ACTION_ACCEPTED,
	PW_ACTION_CLOSE,
	PW_ACTION_TRANSITION,
	PW_ACTION_BIND,
	PW_ACTION_BIND_FAILED,
	PW_ACTION_EXISTING, /* snapshot of a socket that was there at start */
	PW_ACTION_UNKNOWN,  /* an event type this version does not know */
};

enum pw_action pw_action_of(const struct pw_event *ev);
/* The contract's name ("listen", "bind_failed", ...); "unknown" for
 * PW_ACTION_UNKNOWN and NULL outside the enum. */
const char *pw_action_name(enum pw_action action);

#endif /* PW_ACTION_H */
