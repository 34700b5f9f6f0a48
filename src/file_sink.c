/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Writes lines to a file with size-based rotation and gzip compression of
 * the rotated files. Runs on the output's writer thread only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <zlib.h>
#include "file_sink.h"

#define GZIP_CHUNK (64u << 10)
/* Lines handed to one writev(). */
#define WRITE_LINES_AT_ONCE 64

static int open_append(const char *path, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int pw_file_sink_open(struct pw_file_sink *fs, const char *path, uint64_t max_size,
		      unsigned int keep, char *err, size_t err_len)
{
	int fd;

	memset(fs, 0, sizeof(*fs));
	fs->fd = -1;
	if (strlen(path) + sizeof(".rotating-18446744073709551615") > sizeof(fs->path)) {
		snprintf(err, err_len, "cannot open output file %s: %s", path, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	strcpy(fs->path, path);
	fs->max_size = max_size;
	fs->keep = keep;
	pthread_mutex_init(&fs->lock, NULL);
	pthread_mutex_init(&fs->finish_lock, NULL);
	pthread_cond_init(&fs->changed, NULL);
	fs->sync_ready = true;
	fd = open_append(path, &fs->size);
	if (fd < 0) {
		snprintf(err, err_len, "cannot open output file %s: %s", path,
			 fd == -EINVAL ? "not a regular file" : strerror(-fd));
		return fd;
	}
	fs->fd = fd;
	return 0;
}

int pw_file_sink_reopen(struct pw_file_sink *fs)
{
	uint64_t size;
	int fd = open_append(fs->path, &size);

	/* Open the new one before closing the old: if the open fails, events
	 * keep going to the file we have rather than nowhere. */
	if (fd < 0)
		return fd;
	close(fs->fd);
	fs->fd = fd;
	fs->size = size;
	return 0;
}

int pw_gzip_file(const char *src, const char *dst)
{
	char tmp[PATH_MAX + 8];
	char *chunk = NULL;
	int in = -1, out = -1, err = 0;
	gzFile gz = NULL;
	ssize_t n;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", dst) >= sizeof(tmp))
		return -ENAMETOOLONG;
	chunk = malloc(GZIP_CHUNK);
	if (!chunk)
		return -ENOMEM;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		err = -errno;
		goto cleanup;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0) {
		err = -errno;
		goto cleanup;
	}
	gz = gzdopen(out, "wb6");
	if (!gz) {
		err = -ENOMEM;
		goto cleanup;
	}
	out = -1; /* gzclose closes it */
	while ((n = read(in, chunk, GZIP_CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto cleanup;
		}
		if (gzwrite(gz, chunk, (unsigned int)n) != (int)n) {
			/* zlib keeps the errno of a failed write (ENOSPC). */
			err = errno ? -errno : -EIO;
			goto cleanup;
		}
	}
	n = gzclose(gz);
	gz = NULL;
	if (n != Z_OK) {
		err = n == Z_ERRNO && errno ? -errno : -EIO;
		goto cleanup;
	}
	if (rename(tmp, dst))
		err = -errno;

cleanup:
	if (gz)
		gzclose(gz);
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	if (err)
		unlink(tmp);
	free(chunk);
	return err;
}

/* PATH.i.gz -> PATH.(i+1).gz for i = keep-1 .. 1; the oldest falls off. */
static void shift_rotated(const struct pw_file_sink *fs)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];

	for (unsigned int i = fs->keep; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.%u.gz", fs->path, i);
		if (i == fs->keep) {
			unlink(from);
			continue;
		}
		snprintf(to, sizeof(to), "%s.%u.gz", fs->path, i + 1);
		rename(from, to); /* ENOENT: fewer files so far */
	}
}

static void staged_name(const struct pw_file_sink *fs, uint64_t n, char *out, size_t len)
{
	snprintf(out, len, "%s.rotating-%llu", fs->path, (unsigned long long)n);
}

/* Shift the older files and compress staged file n into PATH.1.gz. The
 * rotations finish in the order they were made: one at a time. */
static void finish_rotation(struct pw_file_sink *fs, uint64_t n)
{
	char staged[PATH_MAX + 32], first[PATH_MAX + 16];
	int err;

	pthread_mutex_lock(&fs->finish_lock);
	staged_name(fs, n, staged, sizeof(staged));
	snprintf(first, sizeof(first), "%s.1.gz", fs->path);
	shift_rotated(fs);
	err = pw_gzip_file(staged, first);
	if (err) {
		/* Keep the events uncompressed rather than lose them. */
		snprintf(first, sizeof(first), "%s.1", fs->path);
		rename(staged, first);
		fprintf(stderr, "portwarden: output file:%s: cannot compress the rotated file: %s; "
			"kept uncompressed as %s\n", fs->path, strerror(-err), first);
	} else {
		unlink(staged);
	}
	pthread_mutex_unlock(&fs->finish_lock);
}

static void *compressor_main(void *arg)
{
	struct pw_file_sink *fs = arg;
	uint64_t n;

	pthread_mutex_lock(&fs->lock);
	for (;;) {
		while (!fs->job_count && !fs->stopping)
			pthread_cond_wait(&fs->changed, &fs->lock);
		if (!fs->job_count)
			break; /* stopping, and nothing left to compress */
		n = fs->jobs[fs->job_head];
		fs->job_head = (fs->job_head + 1) % PW_FILE_SINK_JOBS;
		fs->job_count--;
		fs->compressing = true;
		pthread_mutex_unlock(&fs->lock);
		finish_rotation(fs, n);
		pthread_mutex_lock(&fs->lock);
		fs->compressing = false;
		pthread_cond_broadcast(&fs->changed);
	}
	pthread_mutex_unlock(&fs->lock);
	return NULL;
}

/* Compress on a thread of its own: a 100 MB file takes seconds, and the
 * writer must keep draining its queue meanwhile. Falls back to doing it
 * here when the thread cannot start or is many rotations behind. */
static void hand_over(struct pw_file_sink *fs, uint64_t n)
{
	bool queued = false;

	pthread_mutex_lock(&fs->lock);
	if (!fs->compressor_started &&
	    pthread_create(&fs->compressor, NULL, compressor_main, fs) == 0)
		fs->compressor_started = true;
	if (fs->compressor_started && fs->job_count < PW_FILE_SINK_JOBS) {
		fs->jobs[(fs->job_head + fs->job_count) % PW_FILE_SINK_JOBS] = n;
		fs->job_count++;
		pthread_cond_broadcast(&fs->changed);
		queued = true;
	}
	pthread_mutex_unlock(&fs->lock);
	if (!queued)
		finish_rotation(fs, n);
}

int pw_file_sink_rotate(struct pw_file_sink *fs)
{
	char staged[PATH_MAX + 32];
	uint64_t n = fs->rotations + 1;
	int err;

	/* Move the full file aside and start the new one: events wait for
	 * two renames, never for the compression. */
	staged_name(fs, n, staged, sizeof(staged));
	if (rename(fs->path, staged))
		return -errno;
	err = pw_file_sink_reopen(fs);
	if (err) {
		rename(staged, fs->path);
		return err;
	}
	fs->rotations = n;
	if (fs->keep == 0) {
		unlink(staged);
		return 0;
	}
	hand_over(fs, n);
	return 0;
}

void pw_file_sink_settle(struct pw_file_sink *fs)
{
	pthread_mutex_lock(&fs->lock);
	while (fs->job_count || fs->compressing)
		pthread_cond_wait(&fs->changed, &fs->lock);
	pthread_mutex_unlock(&fs->lock);
}

/* Write n lines whole or not at all: a short write is cut off again so the
 * file never ends in half a line. Straight from the lines (writev), with no
 * copy into a batch first. */
static int write_lines(struct pw_file_sink *fs, const struct pw_line *lines, size_t n)
{
	struct iovec iov[WRITE_LINES_AT_ONCE];
	uint64_t done = 0;
	size_t next = 0;
	int err;

	while (next < n) {
		size_t count = 0, first = 0;

		for (; count < WRITE_LINES_AT_ONCE && next < n; next++) {
			if (!lines[next].len)
				continue;
			iov[count].iov_base = lines[next].data;
			iov[count].iov_len = lines[next].len;
			count++;
		}
		while (first < count) {
			ssize_t wrote = writev(fs->fd, iov + first, (int)(count - first));

			if (wrote < 0 && errno == EINTR)
				continue;
			if (wrote <= 0) {
				err = wrote < 0 ? -errno : -EIO;
				if (done) {
					/* Best effort: if even this fails, the file
					 * keeps a partial line and the loss is still
					 * counted. */
					int cut = ftruncate(fs->fd, (off_t)fs->size);

					(void)cut;
				}
				return err;
			}
			done += (uint64_t)wrote;
			/* Skip what went out: whole lines, then part of one. */
			while (first < count && (size_t)wrote >= iov[first].iov_len)
				wrote -= (ssize_t)iov[first++].iov_len;
			if (first < count) {
				iov[first].iov_base = (char *)iov[first].iov_base + wrote;
				iov[first].iov_len -= (size_t)wrote;
			}
		}
	}
	fs->size += done;
	return 0;
}

size_t pw_file_sink_write(struct pw_file_sink *fs, const struct pw_line *lines, size_t n,
			  int *error)
{
	size_t first = 0;
	uint64_t grouped = 0; /* bytes of lines[first..i) */
	int err;

	*error = 0;
	for (size_t i = 0; i < n; i++) {
		if (fs->max_size && fs->size + grouped + lines[i].len > fs->max_size &&
		    fs->size + grouped > 0) {
			err = write_lines(fs, lines + first, i - first);
			if (err)
				goto failed;
			first = i;
			grouped = 0;
			/* Could not rotate: go on appending rather than drop
			 * events; the writer reports rotate_error. */
			fs->rotate_error = pw_file_sink_rotate(fs);
		}
		grouped += lines[i].len;
	}
	err = write_lines(fs, lines + first, n - first);
	if (err)
		goto failed;
	return n;

failed:
	*error = err;
	return first;
}

void pw_file_sink_close(struct pw_file_sink *fs)
{
	if (fs->sync_ready) {
		/* Let the compressor finish every rotation made: no
		 * half-compressed or staged files are left behind. */
		pthread_mutex_lock(&fs->lock);
		fs->stopping = true;
		pthread_cond_broadcast(&fs->changed);
		pthread_mutex_unlock(&fs->lock);
		if (fs->compressor_started)
			pthread_join(fs->compressor, NULL);
		fs->compressor_started = false;
		pthread_cond_destroy(&fs->changed);
		pthread_mutex_destroy(&fs->lock);
		pthread_mutex_destroy(&fs->finish_lock);
		fs->sync_ready = false;
	}
	if (fs->fd >= 0)
		close(fs->fd);
	fs->fd = -1;
}
