/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Bounded queue of encoded lines between the ring consumer (one producer)
 * and an output's writer thread (one consumer). The producer never waits:
 * a full queue refuses the line and the caller counts it as lost.
 *
 * Lines travel in blocks: the producer encodes each line straight into its
 * open block (no copy, no allocation per line) and hands the block over
 * whole, once it holds a batch or when the producer flushes (once per ring
 * poll); the writer pops views of the lines and releases them when written,
 * and a drained block is reused. One lock and one wake-up per block. */
#ifndef PW_LINE_QUEUE_H
#define PW_LINE_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* A line as the writer sees it: a view into its block, valid until the
 * writer releases it (pw_line_queue_release). */
struct pw_line {
	char *data;
	size_t len;
	/* For a loss record of the output itself: the lost count it carries,
	 * to be carried on should this line be lost too. 0 otherwise. */
	uint64_t carried_lost;
};

struct pw_line_block;

struct pw_line_queue {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	size_t max_lines, max_bytes;
	size_t wake_lines; /* an open block is handed over once it holds this many */
	/* Producer only: lines pushed but not handed over yet. */
	struct pw_line_block *open;
	size_t open_bytes;
	/* Under lock: blocks handed over, oldest first; the writer's popped
	 * lines stay in them until released. spare: a drained block kept for
	 * the producer's next one. */
	struct pw_line_block *head, *tail, *spare;
	/* Lines and bytes handed over and not popped yet: changed under lock,
	 * read by the producer without it (the room check). */
	_Atomic size_t waiting_lines, waiting_bytes;
	atomic_bool closed; /* no more pushes: pop returns what is left, then 0 at once */
};

/* Returns 0, or -EINVAL when max_lines is 0. Allocates nothing yet: blocks
 * come with the first line. */
int pw_line_queue_init(struct pw_line_queue *q, size_t max_lines, size_t max_bytes);
/* Frees every line, queued or popped. */
void pw_line_queue_destroy(struct pw_line_queue *q);
/* The producer's open block is handed over when it holds this many lines
 * (a quarter of the queue if that is fewer); fewer wait for
 * pw_line_queue_flush. */
#define PW_LINE_QUEUE_WAKE_LINES 256

/* Producer: write the next line at the end of the returned buffer (from
 * *start on), then commit or cancel it. NULL (-ENOMEM) when no block could
 * be allocated. */
struct pw_buf *pw_line_queue_begin(struct pw_line_queue *q, size_t *start);
/* Producer: the bytes from start to the end of the buffer are a line.
 * Returns 0; -ENOBUFS when the queue has no room for it (by lines or bytes;
 * a line larger than max_bytes fits only an empty queue), -EPIPE once
 * closed, -ENOMEM when writing it ran out of memory: then the line is
 * cancelled. */
int pw_line_queue_commit(struct pw_line_queue *q, size_t start, uint64_t carried_lost);
/* Producer: forget a line begun at start (its encoding failed). */
void pw_line_queue_cancel(struct pw_line_queue *q, size_t start);
/* Producer: begin, copy len bytes, commit. Same returns as commit. */
int pw_line_queue_push(struct pw_line_queue *q, const char *data, size_t len,
		       uint64_t carried_lost);
/* Producer: room for one more line of len bytes right now. */
bool pw_line_queue_has_room(struct pw_line_queue *q, size_t len);
/* Producer: hand the open block over and wake the writer if anything is
 * queued; called when all there was for now is queued (a ring poll's worth). */
void pw_line_queue_flush(struct pw_line_queue *q);
/* Producer: hand the open block over, refuse further pushes, wake the writer. */
void pw_line_queue_close(struct pw_line_queue *q);

/* Writer: views of up to max lines, oldest first, waiting up to timeout_ms
 * for the first one unless the queue is closed. Returns how many. */
size_t pw_line_queue_pop(struct pw_line_queue *q, struct pw_line *out, size_t max, int timeout_ms);
/* Writer: done with the n oldest lines popped (written or counted lost). */
void pw_line_queue_release(struct pw_line_queue *q, size_t n);
/* Wake a writer waiting in pop (it returns 0 if nothing is queued). */
void pw_line_queue_wake(struct pw_line_queue *q);
/* Drop every line not popped yet, the producer's open ones included (so
 * only once it pushes no more: closed, or from its own thread); returns how
 * many there were. */
size_t pw_line_queue_discard(struct pw_line_queue *q);

#endif /* PW_LINE_QUEUE_H */
