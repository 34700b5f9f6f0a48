/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Writes batches of encoded lines to a file descriptor. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include "sink.h"

/* Flush early when a batch grows past this, to bound memory under bursts. */
#define PW_SINK_BATCH_BYTES (256u << 10)

void pw_sink_init(struct pw_sink *s, int fd)
{
	s->fd = fd;
	pw_buf_init(&s->batch);
	s->lines = 0;
	s->lines_lost = 0;
	s->batch_lines = 0;
	s->closed = false;
}

struct pw_buf *pw_sink_buf(struct pw_sink *s)
{
	return &s->batch;
}

void pw_sink_commit_line(struct pw_sink *s)
{
	s->lines++;
	s->batch_lines++;
	if (s->batch.len >= PW_SINK_BATCH_BYTES)
		pw_sink_flush(s);
}

int pw_sink_flush(struct pw_sink *s)
{
	size_t done = 0;
	ssize_t n;
	int err = 0;

	if (s->batch.failed) {
		err = -ENOMEM;
		goto lost;
	}
	while (done < s->batch.len && !s->closed) {
		n = write(s->fd, s->batch.data + done, s->batch.len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			if (err == -EPIPE)
				s->closed = true;
			goto lost;
		}
		done += (size_t)n;
	}
	if (s->closed && done < s->batch.len) {
		err = -EPIPE;
		goto lost;
	}
	s->batch_lines = 0;
	pw_buf_reset(&s->batch);
	return 0;

lost:
	/* A partly written batch counts as lost whole: which lines made it is
	 * unknowable without parsing, and over-reporting loss is the safe side. */
	s->lines_lost += s->batch_lines;
	s->batch_lines = 0;
	pw_buf_reset(&s->batch);
	return err;
}

bool pw_sink_reader_gone(struct pw_sink *s)
{
	struct pollfd pfd = { .fd = s->fd, .events = 0 };

	/* A pipe whose reader exited polls POLLERR: notice it now rather than
	 * at the next event, which on a quiet machine may be hours away. */
	if (!s->closed && poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
		s->closed = true;
	return s->closed;
}

void pw_sink_free(struct pw_sink *s)
{
	pw_buf_free(&s->batch);
}
