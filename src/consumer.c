/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Drains the BPF ring buffer: decode each record, pass it on. */
#include <errno.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "consumer.h"
#include "decode.h"

static int on_record(void *ctx, void *data, size_t size)
{
	struct pw_consumer *c = ctx;
	struct pw_event ev;

	if (pw_decode(data, size, &ev)) {
		c->malformed++;
		return 0;
	}
	return c->on_event(c->ctx, &ev);
}

int pw_consumer_open(struct pw_consumer *c, int ringbuf_fd, pw_event_fn on_event, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->on_event = on_event;
	c->ctx = ctx;
	c->ring = ring_buffer__new(ringbuf_fd, on_record, c, NULL);
	if (!c->ring)
		return -errno;
	return 0;
}

int pw_consumer_poll(struct pw_consumer *c, int timeout_ms)
{
	int waited, consumed;

	waited = ring_buffer__poll(c->ring, timeout_ms);
	if (waited < 0 && waited != -EINTR)
		return waited;
	consumed = ring_buffer__consume(c->ring);
	if (consumed < 0 && consumed != -EINTR)
		return consumed;
	return (waited > 0 ? waited : 0) + (consumed > 0 ? consumed : 0);
}

void pw_consumer_close(struct pw_consumer *c)
{
	ring_buffer__free(c->ring);
	c->ring = NULL;
}
