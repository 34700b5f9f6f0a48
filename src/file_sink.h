/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* File destination: appends lines, rotates by size into PATH.1.gz ..
 * PATH.N.gz (gzip, compressed off the writer's path), re-opens PATH on
 * request (SIGHUP, after logrotate). */
#ifndef PW_FILE_SINK_H
#define PW_FILE_SINK_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "line_queue.h"

#define PW_FILE_SINK_JOBS 16

struct pw_file_sink {
	char path[PATH_MAX];
	int fd;
	uint64_t size;     /* bytes in the current file */
	uint64_t max_size; /* 0: never rotate */
	unsigned int keep; /* rotated files kept */
	uint64_t rotations;
	int rotate_error; /* last rotation's result: 0 or a negative errno */
	/* Rotated files are compressed by a thread of their own, started at
	 * the first rotation; jobs are the numbers of the staged files
	 * (PATH.rotating-N) waiting for it. */
	pthread_t compressor;
	pthread_mutex_t lock, finish_lock;
	pthread_cond_t changed;
	uint64_t jobs[PW_FILE_SINK_JOBS];
	size_t job_head, job_count;
	bool compressing, stopping, compressor_started, sync_ready;
};

/* Open (create, append to) path. Returns 0, or a negative errno with
 * "cannot open output file PATH: reason" in err. */
int pw_file_sink_open(struct pw_file_sink *fs, const char *path, uint64_t max_size,
		      unsigned int keep, char *err, size_t err_len);
/* Append n lines, rotating first whenever the next line would take the file
 * past max_size (a file never holds part of a line, and holds at least one
 * line). Returns how many lines are in the file; on a write error (ENOSPC,
 * EIO, ...) the part written of the failing group is cut off again and
 * *error is set to the negative errno. */
size_t pw_file_sink_write(struct pw_file_sink *fs, const struct pw_line *lines, size_t n,
			  int *error);
/* Close and open path again: after logrotate renamed it, a new file.
 * Returns 0, or a negative errno (the old file stays in use). */
int pw_file_sink_reopen(struct pw_file_sink *fs);
/* Rotate now: PATH becomes PATH.rotating-N and a new PATH is opened; then,
 * on the compressor thread, PATH.i.gz -> PATH.(i+1).gz (the oldest beyond
 * keep deleted) and PATH.rotating-N -> PATH.1.gz. Returns 0 or a negative
 * errno (the file is then left as it was). */
int pw_file_sink_rotate(struct pw_file_sink *fs);
/* Wait until every rotation made so far is compressed and in place. */
void pw_file_sink_settle(struct pw_file_sink *fs);
/* gzip src into dst (written to dst.tmp, then renamed). 0 or -errno. */
int pw_gzip_file(const char *src, const char *dst);
void pw_file_sink_close(struct pw_file_sink *fs);

#endif /* PW_FILE_SINK_H */
