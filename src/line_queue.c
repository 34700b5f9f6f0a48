/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A mutex-protected ring of line pointers with a line and a byte cap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "line_queue.h"

int pw_line_queue_init(struct pw_line_queue *q, size_t max_lines, size_t max_bytes)
{
	pthread_condattr_t attr;

	memset(q, 0, sizeof(*q));
	q->slots = calloc(max_lines, sizeof(*q->slots));
	if (!q->slots)
		return -ENOMEM;
	q->max_lines = max_lines;
	q->max_bytes = max_bytes;
	/* A small queue (queue=64) wakes its writer well before it is full. */
	q->wake_lines = max_lines / 4 ? max_lines / 4 : 1;
	if (q->wake_lines > PW_LINE_QUEUE_WAKE_LINES)
		q->wake_lines = PW_LINE_QUEUE_WAKE_LINES;
	pthread_mutex_init(&q->lock, NULL);
	/* Timed waits on CLOCK_MONOTONIC: a wall clock step must not turn a
	 * 100 ms wait into an hour. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->ready, &attr);
	pthread_condattr_destroy(&attr);
	return 0;
}

void pw_lines_free(struct pw_line *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(lines[i].data);
		lines[i].data = NULL;
	}
}

size_t pw_line_queue_discard(struct pw_line_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->count;
	while (q->count) {
		free(q->slots[q->head].data);
		q->slots[q->head].data = NULL;
		q->head = (q->head + 1) % q->max_lines;
		q->count--;
	}
	q->bytes = 0;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void pw_line_queue_destroy(struct pw_line_queue *q)
{
	if (!q->slots)
		return;
	pw_line_queue_discard(q);
	free(q->slots);
	q->slots = NULL;
	pthread_cond_destroy(&q->ready);
	pthread_mutex_destroy(&q->lock);
}

static bool room_locked(const struct pw_line_queue *q, size_t len)
{
	if (q->count == 0)
		return true;
	return q->count < q->max_lines && q->bytes + len <= q->max_bytes;
}

bool pw_line_queue_has_room(struct pw_line_queue *q, size_t len)
{
	bool room;

	pthread_mutex_lock(&q->lock);
	room = !q->closed && room_locked(q, len);
	pthread_mutex_unlock(&q->lock);
	return room;
}

int pw_line_queue_push(struct pw_line_queue *q, const char *data, size_t len,
		       uint64_t carried_lost)
{
	struct pw_line line = { .len = len, .carried_lost = carried_lost };
	int err = 0;

	/* Copy outside the lock: the writer should never wait on malloc. */
	line.data = malloc(len ? len : 1);
	if (!line.data)
		return -ENOMEM;
	memcpy(line.data, data, len);
	pthread_mutex_lock(&q->lock);
	if (q->closed) {
		err = -EPIPE;
	} else if (!room_locked(q, len)) {
		err = -ENOBUFS;
	} else {
		q->slots[(q->head + q->count) % q->max_lines] = line;
		q->count++;
		q->bytes += len;
		/* Woken for a batch, not for every line (pw_line_queue_flush
		 * wakes it for what is left). */
		if (q->count == q->wake_lines)
			pthread_cond_signal(&q->ready);
	}
	pthread_mutex_unlock(&q->lock);
	if (err)
		free(line.data);
	return err;
}

size_t pw_line_queue_pop(struct pw_line_queue *q, struct pw_line *out, size_t max, int timeout_ms)
{
	struct timespec until;
	size_t n = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->lock);
	if (q->count == 0 && !q->closed && timeout_ms > 0)
		pthread_cond_timedwait(&q->ready, &q->lock, &until);
	while (n < max && q->count) {
		out[n] = q->slots[q->head];
		q->slots[q->head].data = NULL;
		q->bytes -= out[n].len;
		q->head = (q->head + 1) % q->max_lines;
		q->count--;
		n++;
	}
	pthread_mutex_unlock(&q->lock);
	return n;
}

void pw_line_queue_close(struct pw_line_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

void pw_line_queue_flush(struct pw_line_queue *q)
{
	pthread_mutex_lock(&q->lock);
	if (q->count)
		pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

void pw_line_queue_wake(struct pw_line_queue *q)
{
	pthread_mutex_lock(&q->lock);
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
}
