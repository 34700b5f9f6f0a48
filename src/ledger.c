/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The socket ledger (see ledger.h): an open-addressing table of the open
 * sockets by cookie (linear probing, deletion by shifting the run back),
 * small enough under a storm to stay in cache, and a direct-mapped memory
 * of recent closes for the changes that trail a close in the ring. */
#include <errno.h>
#include <stdlib.h>
#include "ledger.h"

#define MIN_SLOTS 1024u
/* 16 KiB: at 40,000 closes a second a slot lasts some 25 ms, and changes
 * trail each other in the ring by microseconds. */
#define RECENT_CLOSES 1024u

/* kernel_state while a check has not found the socket. */
#define KERNEL_GONE 0

enum entry_flag {
	BROKEN = 1 << 0,  /* a change into missing_into has not come (yet) */
	SUSPECT = 1 << 1, /* the last check disagreed, no event since */
	TOUCHED = 1 << 2, /* an event came since the current check began */
};

struct ledger_entry {
	uint64_t cookie;      /* 0: a free slot */
	uint64_t ts_ns;       /* of the newest change noted */
	uint64_t break_ts_ns; /* of the change that broke the chain */
	uint8_t state;        /* entered by the newest change; CLOSE: closed */
	uint8_t missing_into; /* when BROKEN: the state a missing change entered */
	uint8_t kernel_state; /* what the current check found, or KERNEL_GONE */
	uint8_t flags;
};

/* A socket closed lately, and when. */
struct recent_close {
	uint64_t cookie;
	uint64_t ts_ns;
};

struct pw_ledger {
	struct ledger_entry *slots; /* open sockets, and closed ones with a break pending */
	size_t cap;                 /* a power of two */
	size_t used;
	size_t open;     /* entries whose state is not CLOSE */
	size_t suspects; /* entries the last check disagreed with, no event since */
	uint64_t newest_ts_ns;
	uint64_t undelivered;
	struct recent_close closes[RECENT_CLOSES];
};

/* Cookies count up: a Fibonacci multiply spreads them; callers take bits
 * from the top half. */
static uint64_t spread(uint64_t cookie)
{
	return cookie * 0x9e3779b97f4a7c15ull;
}

static size_t home_of(const struct pw_ledger *ledger, uint64_t cookie)
{
	return (size_t)(spread(cookie) >> 32) & (ledger->cap - 1);
}

static struct ledger_entry *find(const struct pw_ledger *ledger, uint64_t cookie)
{
	for (size_t i = home_of(ledger, cookie);; i = (i + 1) & (ledger->cap - 1)) {
		struct ledger_entry *e = &ledger->slots[i];

		if (e->cookie == cookie)
			return e;
		if (!e->cookie)
			return NULL;
	}
}

/* The free slot cookie goes to (the table has room). */
static struct ledger_entry *slot_for(const struct pw_ledger *ledger, uint64_t cookie)
{
	size_t i = home_of(ledger, cookie);

	while (ledger->slots[i].cookie)
		i = (i + 1) & (ledger->cap - 1);
	return &ledger->slots[i];
}

static int resize(struct pw_ledger *ledger, size_t cap)
{
	struct ledger_entry *old = ledger->slots, *fresh = calloc(cap, sizeof(*fresh));
	size_t old_cap = ledger->cap;

	if (!fresh)
		return -ENOMEM;
	ledger->slots = fresh;
	ledger->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].cookie)
			*slot_for(ledger, old[i].cookie) = old[i];
	free(old);
	return 0;
}

/* Empty slot i and pull back the entries after it whose probe passed it. */
static void remove_at(struct pw_ledger *ledger, size_t i)
{
	size_t mask = ledger->cap - 1, j = i;

	for (;;) {
		j = (j + 1) & mask;
		if (!ledger->slots[j].cookie)
			break;
		/* The entry at j may fill the hole at i unless its home lies
		 * cyclically in (i, j]: then it would become unreachable. */
		size_t home = home_of(ledger, ledger->slots[j].cookie);

		if (((j - home) & mask) >= ((j - i) & mask)) {
			ledger->slots[i] = ledger->slots[j];
			i = j;
		}
	}
	ledger->slots[i] = (struct ledger_entry){ 0 };
	ledger->used--;
}

int pw_ledger_new(struct pw_ledger **out)
{
	struct pw_ledger *ledger = calloc(1, sizeof(*ledger));

	*out = NULL;
	if (!ledger)
		return -ENOMEM;
	ledger->slots = calloc(MIN_SLOTS, sizeof(*ledger->slots));
	if (!ledger->slots) {
		free(ledger);
		return -ENOMEM;
	}
	ledger->cap = MIN_SLOTS;
	*out = ledger;
	return 0;
}

void pw_ledger_free(struct pw_ledger *ledger)
{
	if (!ledger)
		return;
	free(ledger->slots);
	free(ledger);
}

static void set_state(struct pw_ledger *ledger, struct ledger_entry *e, uint8_t state)
{
	bool was_open = e->state != PW_TCP_CLOSE, is_open = state != PW_TCP_CLOSE;

	ledger->open += (size_t)is_open - (size_t)was_open;
	e->state = state;
}

static struct recent_close *recent_close_slot(struct pw_ledger *ledger, uint64_t cookie)
{
	return &ledger->closes[spread(cookie) >> 54 & (RECENT_CLOSES - 1)];
}

static void clear_suspect(struct pw_ledger *ledger, struct ledger_entry *e)
{
	if (e->flags & SUSPECT) {
		e->flags &= ~SUSPECT;
		ledger->suspects--;
	}
}

/* A socket closed: it leaves the table (kept only while a break of its
 * chain is pending) and is remembered among the recent closes. */
static void closed(struct pw_ledger *ledger, struct ledger_entry *e, uint64_t cookie,
		   uint64_t ts_ns)
{
	*recent_close_slot(ledger, cookie) = (struct recent_close){ cookie, ts_ns };
	if (!e)
		return;
	clear_suspect(ledger, e);
	set_state(ledger, e, PW_TCP_CLOSE);
	if (!(e->flags & BROKEN))
		remove_at(ledger, (size_t)(e - ledger->slots));
}

int pw_ledger_note(struct pw_ledger *ledger, uint64_t sock_cookie, uint8_t old_state,
		   uint8_t new_state, uint64_t ts_ns)
{
	const struct recent_close *gone;
	struct ledger_entry *e;

	if (!sock_cookie)
		return 0;
	if (ts_ns > ledger->newest_ts_ns)
		ledger->newest_ts_ns = ts_ns;
	e = find(ledger, sock_cookie);
	if (!e) {
		/* An earlier change of a socket whose close overtook it in the
		 * ring: the socket is closed. */
		gone = recent_close_slot(ledger, sock_cookie);
		if (gone->cookie == sock_cookie && ts_ns < gone->ts_ns)
			return 0;
		if (new_state == PW_TCP_CLOSE) {
			closed(ledger, NULL, sock_cookie, ts_ns);
			return 0;
		}
		if ((ledger->used + 1) * 4 > ledger->cap * 3 && resize(ledger, ledger->cap * 2))
			return -ENOMEM;
		e = slot_for(ledger, sock_cookie);
		*e = (struct ledger_entry){ .cookie = sock_cookie, .ts_ns = ts_ns,
					    .state = PW_TCP_CLOSE, .flags = TOUCHED };
		ledger->used++;
		set_state(ledger, e, new_state);
		return 0;
	}
	if (ts_ns < e->ts_ns) {
		/* Overtaken in the ring by a later change of its socket. */
		if ((e->flags & BROKEN) && new_state == e->missing_into)
			e->flags &= ~BROKEN;
		return 0;
	}
	if (old_state != e->state) {
		if (e->flags & BROKEN) /* a second break before the first mended */
			ledger->undelivered++;
		e->flags |= BROKEN;
		e->missing_into = old_state;
		e->break_ts_ns = ts_ns;
	}
	e->ts_ns = ts_ns;
	e->flags |= TOUCHED;
	clear_suspect(ledger, e);
	if (new_state == PW_TCP_CLOSE)
		closed(ledger, e, sock_cookie, ts_ns);
	else
		set_state(ledger, e, new_state);
	return 0;
}

void pw_ledger_settle(struct pw_ledger *ledger, bool all)
{
	uint64_t horizon = all ? UINT64_MAX
			       : ledger->newest_ts_ns > PW_LEDGER_SETTLE_NS
				 ? ledger->newest_ts_ns - PW_LEDGER_SETTLE_NS
				 : 0;
	size_t i = 0;

	while (i < ledger->cap) {
		struct ledger_entry *e = &ledger->slots[i];

		if (e->cookie && (e->flags & BROKEN) && e->break_ts_ns < horizon) {
			ledger->undelivered++;
			e->flags &= ~BROKEN;
		}
		if (e->cookie && e->state == PW_TCP_CLOSE && !(e->flags & BROKEN) &&
		    e->ts_ns < horizon) {
			remove_at(ledger, i); /* slot i now holds an entry not yet seen */
			continue;
		}
		i++;
	}
	if (ledger->cap > MIN_SLOTS && ledger->used * 8 < ledger->cap)
		resize(ledger, ledger->cap / 2); /* on failure it simply stays large */
}

void pw_ledger_check_begin(struct pw_ledger *ledger)
{
	for (size_t i = 0; i < ledger->cap; i++) {
		ledger->slots[i].kernel_state = KERNEL_GONE;
		ledger->slots[i].flags &= ~TOUCHED;
	}
}

void pw_ledger_check_socket(struct pw_ledger *ledger, uint64_t sock_cookie, uint8_t state)
{
	struct ledger_entry *e = sock_cookie ? find(ledger, sock_cookie) : NULL;

	if (e)
		e->kernel_state = state;
}

/* The fewest state changes that take a socket from the state seen last to
 * what a check found: CLOSE is one change away from every state (a reset),
 * but a socket in TIME_WAIT got there through FIN_WAIT2 or CLOSING and then
 * CLOSE (the tracepoint reports the socket's change to CLOSE as it hands
 * over to its TIME_WAIT remnant). */
static uint64_t changes_between(uint8_t seen, uint8_t found)
{
	if (found != PW_TCP_TIME_WAIT)
		return 1;
	switch (seen) {
	case PW_TCP_FIN_WAIT2:
	case PW_TCP_CLOSING:
		return 1;
	case PW_TCP_FIN_WAIT1:
		return 2;
	case PW_TCP_ESTABLISHED:
	case PW_TCP_SYN_RECV: /* closed in SYN_RECV, it goes to FIN_WAIT1 */
		return 3;
	case PW_TCP_SYN_SENT: /* closed in SYN_SENT, it goes to CLOSE */
		return 4;
	default: /* a passive close (CLOSE_WAIT, LAST_ACK) ends without TIME_WAIT */
		return 1;
	}
}

void pw_ledger_check_end(struct pw_ledger *ledger, bool final)
{
	for (size_t i = 0; i < ledger->cap; i++) {
		struct ledger_entry *e = &ledger->slots[i];

		/* Closed, or an event since the check began: nothing to compare. */
		if (!e->cookie || e->state == PW_TCP_CLOSE || (e->flags & TOUCHED))
			continue;
		if (e->kernel_state == e->state) {
			clear_suspect(ledger, e);
		} else if ((e->flags & SUSPECT) || final) {
			bool ended = e->kernel_state == KERNEL_GONE ||
				     e->kernel_state == PW_TCP_TIME_WAIT;

			ledger->undelivered += changes_between(e->state, e->kernel_state);
			clear_suspect(ledger, e);
			/* An ended socket stays, closed, until the next settling. */
			set_state(ledger, e, ended ? PW_TCP_CLOSE : e->kernel_state);
		} else {
			e->flags |= SUSPECT;
			ledger->suspects++;
		}
	}
}

bool pw_ledger_check_wants_time_wait(const struct pw_ledger *ledger)
{
	return ledger->suspects > 0;
}

uint64_t pw_ledger_undelivered(const struct pw_ledger *ledger)
{
	return ledger->undelivered;
}

size_t pw_ledger_open_sockets(const struct pw_ledger *ledger)
{
	return ledger->open;
}
