/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Ring consumption step: waits for the BPF ring buffer, decodes every
 * record and hands it to the next step. */
#ifndef PW_CONSUMER_H
#define PW_CONSUMER_H

#include <stdint.h>
#include "portwarden.h"

struct ring_buffer;

/* Called for every well-formed event; a non-zero return stops consumption
 * and is returned by pw_consumer_poll. */
typedef int (*pw_event_fn)(void *ctx, const struct pw_event *ev);

struct pw_consumer {
	struct ring_buffer *ring;
	pw_event_fn on_event;
	void *ctx;
	uint64_t malformed; /* records that failed to decode */
};

int pw_consumer_open(struct pw_consumer *c, int ringbuf_fd, pw_event_fn on_event, void *ctx);
/* Wait up to timeout_ms for a wake-up, then consume everything queued (the
 * BPF side wakes only in batches). Returns records consumed or a negative
 * errno; an interrupted wait is not an error. */
int pw_consumer_poll(struct pw_consumer *c, int timeout_ms);
void pw_consumer_close(struct pw_consumer *c);

#endif /* PW_CONSUMER_H */
