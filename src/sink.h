/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Sink step: where encoded lines go. Lines are batched in memory and written
 * with one write() per batch. */
#ifndef PW_SINK_H
#define PW_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include "buf.h"

struct pw_sink {
	int fd;
	struct pw_buf batch;
	uint64_t lines;      /* lines handed to the sink */
	uint64_t lines_lost; /* lines that could not be written */
	uint64_t batch_lines;
	bool closed;         /* the reader went away (EPIPE): stop tracing */
};

void pw_sink_init(struct pw_sink *s, int fd);
/* The buffer to encode the next line into; pw_sink_commit_line counts it. */
struct pw_buf *pw_sink_buf(struct pw_sink *s);
void pw_sink_commit_line(struct pw_sink *s);
/* Write the batch. Returns 0 or a negative errno (-EPIPE: reader gone). */
int pw_sink_flush(struct pw_sink *s);
/* True once the reader has gone away (checked without writing). */
bool pw_sink_reader_gone(struct pw_sink *s);
void pw_sink_free(struct pw_sink *s);

#endif /* PW_SINK_H */
