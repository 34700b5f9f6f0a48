/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Blocks of lines handed from one producer to one writer under a mutex,
 * with a line and a byte cap over everything not yet popped. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "line_queue.h"

struct line_mark {
	size_t start, len;
	uint64_t carried_lost;
};

struct pw_line_block {
	struct pw_line_block *next;
	struct pw_buf text; /* the lines, one after another */
	struct line_mark *marks;
	size_t n, cap;      /* lines, room in marks */
	size_t popped, released;
};

int pw_line_queue_init(struct pw_line_queue *q, size_t max_lines, size_t max_bytes)
{
	pthread_condattr_t attr;

	memset(q, 0, sizeof(*q));
	if (!max_lines)
		return -EINVAL;
	q->max_lines = max_lines;
	q->max_bytes = max_bytes;
	/* A small queue (queue=64) wakes its writer well before it is full. */
	q->wake_lines = max_lines / 4 ? max_lines / 4 : 1;
	if (q->wake_lines > PW_LINE_QUEUE_WAKE_LINES)
		q->wake_lines = PW_LINE_QUEUE_WAKE_LINES;
	atomic_init(&q->waiting_lines, 0);
	atomic_init(&q->waiting_bytes, 0);
	atomic_init(&q->closed, false);
	pthread_mutex_init(&q->lock, NULL);
	/* Timed waits on CLOCK_MONOTONIC: a wall clock step must not turn a
	 * 100 ms wait into an hour. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->ready, &attr);
	pthread_condattr_destroy(&attr);
	return 0;
}

static void block_free(struct pw_line_block *b)
{
	if (!b)
		return;
	pw_buf_free(&b->text);
	free(b->marks);
	free(b);
}

/* A chain of blocks, through next. */
static void free_blocks(struct pw_line_block *b)
{
	while (b) {
		struct pw_line_block *next = b->next;

		block_free(b);
		b = next;
	}
}

/* Ready for new lines, keeping its memory. */
static void block_empty(struct pw_line_block *b)
{
	pw_buf_reset(&b->text);
	b->next = NULL;
	b->n = b->popped = b->released = 0;
}

void pw_line_queue_destroy(struct pw_line_queue *q)
{
	if (!q->wake_lines)
		return; /* never initialised, or destroyed already */
	free_blocks(q->head);
	block_free(q->open);
	block_free(q->spare);
	q->head = q->tail = q->open = q->spare = NULL;
	q->wake_lines = 0;
	pthread_cond_destroy(&q->ready);
	pthread_mutex_destroy(&q->lock);
}

/* Lines and bytes that count against the caps: handed over and not
 * popped, and the producer's open ones. */
static bool room_for(struct pw_line_queue *q, size_t len)
{
	size_t lines = atomic_load(&q->waiting_lines) + (q->open ? q->open->n : 0);
	size_t bytes = atomic_load(&q->waiting_bytes) + q->open_bytes;

	if (lines == 0)
		return true;
	return lines < q->max_lines && bytes + len <= q->max_bytes;
}

bool pw_line_queue_has_room(struct pw_line_queue *q, size_t len)
{
	return !atomic_load(&q->closed) && room_for(q, len);
}

struct pw_buf *pw_line_queue_begin(struct pw_line_queue *q, size_t *start)
{
	if (!q->open) {
		pthread_mutex_lock(&q->lock);
		q->open = q->spare;
		q->spare = NULL;
		pthread_mutex_unlock(&q->lock);
		if (!q->open) {
			q->open = calloc(1, sizeof(*q->open));
			if (!q->open)
				return NULL;
			pw_buf_init(&q->open->text);
		}
	}
	*start = q->open->text.len;
	return &q->open->text;
}

void pw_line_queue_cancel(struct pw_line_queue *q, size_t start)
{
	if (q->open)
		pw_buf_truncate(&q->open->text, start);
}

/* Producer: the open block goes to the writer. */
static void hand_over(struct pw_line_queue *q)
{
	struct pw_line_block *b = q->open;

	if (!b || !b->n)
		return;
	q->open = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	atomic_fetch_add(&q->waiting_lines, b->n);
	atomic_fetch_add(&q->waiting_bytes, q->open_bytes);
	pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
	q->open_bytes = 0;
}

int pw_line_queue_commit(struct pw_line_queue *q, size_t start, uint64_t carried_lost)
{
	struct pw_line_block *b = q->open;
	size_t len;
	int err = 0;

	if (!b)
		return -EINVAL;
	len = b->text.len - start;
	if (atomic_load(&q->closed))
		err = -EPIPE;
	else if (b->text.failed)
		err = -ENOMEM;
	else if (!room_for(q, len))
		err = -ENOBUFS;
	if (err) {
		pw_buf_truncate(&b->text, start);
		return err;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct line_mark *marks = realloc(b->marks, cap * sizeof(*marks));

		if (!marks) {
			pw_buf_truncate(&b->text, start);
			return -ENOMEM;
		}
		b->marks = marks;
		b->cap = cap;
	}
	b->marks[b->n++] = (struct line_mark){ start, len, carried_lost };
	q->open_bytes += len;
	/* Handed over for a batch, not for every line (pw_line_queue_flush
	 * hands over what is left). */
	if (b->n >= q->wake_lines)
		hand_over(q);
	return 0;
}

int pw_line_queue_push(struct pw_line_queue *q, const char *data, size_t len,
		       uint64_t carried_lost)
{
	size_t start;
	struct pw_buf *text;

	if (atomic_load(&q->closed))
		return -EPIPE;
	text = pw_line_queue_begin(q, &start);
	if (!text)
		return -ENOMEM;
	pw_buf_append(text, data, len);
	return pw_line_queue_commit(q, start, carried_lost);
}

void pw_line_queue_flush(struct pw_line_queue *q)
{
	if (q->open && q->open->n) {
		hand_over(q);
		return;
	}
	pthread_mutex_lock(&q->lock);
	if (atomic_load(&q->waiting_lines))
		pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

void pw_line_queue_close(struct pw_line_queue *q)
{
	hand_over(q);
	pthread_mutex_lock(&q->lock);
	atomic_store(&q->closed, true);
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

size_t pw_line_queue_pop(struct pw_line_queue *q, struct pw_line *out, size_t max, int timeout_ms)
{
	struct pw_line_block *b;
	struct timespec until;
	size_t n = 0, bytes = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->lock);
	if (!atomic_load(&q->waiting_lines) && !atomic_load(&q->closed) && timeout_ms > 0)
		pthread_cond_timedwait(&q->ready, &q->lock, &until);
	/* Blocks are immutable once handed over: views stay valid until the
	 * lines are released. */
	for (b = q->head; b && n < max; b = b->next) {
		for (; b->popped < b->n && n < max; b->popped++, n++) {
			const struct line_mark *m = &b->marks[b->popped];

			out[n] = (struct pw_line){ b->text.data + m->start, m->len, m->carried_lost };
			bytes += m->len;
		}
	}
	atomic_fetch_sub(&q->waiting_lines, n);
	atomic_fetch_sub(&q->waiting_bytes, bytes);
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* Under lock: take drained blocks off the front; the first becomes the
 * spare, the others are returned for freeing outside the lock. */
static struct pw_line_block *drop_drained_locked(struct pw_line_queue *q)
{
	struct pw_line_block *garbage = NULL;

	while (q->head && q->head->released == q->head->n) {
		struct pw_line_block *b = q->head;

		q->head = b->next;
		if (!q->head)
			q->tail = NULL;
		if (!q->spare) {
			block_empty(b);
			q->spare = b;
		} else {
			b->next = garbage;
			garbage = b;
		}
	}
	return garbage;
}

void pw_line_queue_release(struct pw_line_queue *q, size_t n)
{
	struct pw_line_block *b, *garbage;

	pthread_mutex_lock(&q->lock);
	for (b = q->head; b && n; b = b->next) {
		size_t k = b->popped - b->released;

		if (k > n)
			k = n;
		b->released += k;
		n -= k;
	}
	garbage = drop_drained_locked(q);
	pthread_mutex_unlock(&q->lock);
	free_blocks(garbage);
}

void pw_line_queue_wake(struct pw_line_queue *q)
{
	pthread_mutex_lock(&q->lock);
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

size_t pw_line_queue_discard(struct pw_line_queue *q)
{
	struct pw_line_block *b, *garbage;
	size_t n = 0;

	if (q->open) {
		n += q->open->n;
		block_empty(q->open);
		q->open_bytes = 0;
	}
	pthread_mutex_lock(&q->lock);
	for (b = q->head; b; b = b->next) {
		/* Unpopped lines count as popped and released; popped ones
		 * stay until the writer releases them. */
		size_t dropped = b->n - b->popped;

		n += dropped;
		b->popped = b->n;
		b->released += dropped;
	}
	atomic_store(&q->waiting_lines, 0);
	atomic_store(&q->waiting_bytes, 0);
	garbage = drop_drained_locked(q);
	pthread_mutex_unlock(&q->lock);
	free_blocks(garbage);
	return n;
}
