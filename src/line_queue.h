/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Bounded queue of encoded lines between the ring consumer (one producer)
 * and an output's writer thread (one consumer). The producer never waits:
 * a full queue refuses the line and the caller counts it as lost. */
#ifndef PW_LINE_QUEUE_H
#define PW_LINE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pw_line {
	char *data; /* malloc'd, owned by whoever holds the line */
	size_t len;
	/* For a loss record of the output itself: the lost count it carries,
	 * to be carried on should this line be lost too. 0 otherwise. */
	uint64_t carried_lost;
};

struct pw_line_queue {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct pw_line *slots;
	size_t max_lines, max_bytes;
	size_t wake_lines; /* a push that makes this many wakes the writer */
	size_t head, count, bytes;
	bool closed; /* no more pushes: pop returns what is left, then 0 at once */
};

/* Returns 0 or -ENOMEM. */
int pw_line_queue_init(struct pw_line_queue *q, size_t max_lines, size_t max_bytes);
/* Frees every line still queued. */
void pw_line_queue_destroy(struct pw_line_queue *q);
/* A push wakes the writer when this many lines wait (a quarter of the
 * queue if that is fewer); fewer wait for pw_line_queue_flush (or the
 * writer's own timeout). */
#define PW_LINE_QUEUE_WAKE_LINES 256

/* Copy len bytes in. Returns 0, -ENOBUFS when the queue has no room for
 * the line (by lines or bytes; a line larger than max_bytes fits only an
 * empty queue), -EPIPE once closed, or -ENOMEM. */
int pw_line_queue_push(struct pw_line_queue *q, const char *data, size_t len,
		       uint64_t carried_lost);
/* Room for one more line of len bytes right now. */
bool pw_line_queue_has_room(struct pw_line_queue *q, size_t len);
/* Move up to max lines into out (the caller then owns them), waiting up to
 * timeout_ms for the first one unless the queue is closed. Returns how many. */
size_t pw_line_queue_pop(struct pw_line_queue *q, struct pw_line *out, size_t max, int timeout_ms);
/* Refuse further pushes and wake the writer. */
void pw_line_queue_close(struct pw_line_queue *q);
/* Wake the writer if anything is queued: the producer calls it when it has
 * queued all it had for now (a ring poll's worth). */
void pw_line_queue_flush(struct pw_line_queue *q);
/* Wake a writer waiting in pop (it returns 0 if nothing is queued). */
void pw_line_queue_wake(struct pw_line_queue *q);
/* Free every queued line; returns how many there were. */
size_t pw_line_queue_discard(struct pw_line_queue *q);
void pw_lines_free(struct pw_line *lines, size_t n);

#endif /* PW_LINE_QUEUE_H */
