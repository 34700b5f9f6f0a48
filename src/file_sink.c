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
#include <zlib.h>
#include "file_sink.h"

#define GZIP_CHUNK (64u << 10)

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
	pw_buf_init(&fs->batch);
	if (strlen(path) + sizeof(".100.gz.tmp") > sizeof(fs->path)) {
		snprintf(err, err_len, "cannot open output file %s: %s", path, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	strcpy(fs->path, path);
	fs->max_size = max_size;
	fs->keep = keep;
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

int pw_file_sink_rotate(struct pw_file_sink *fs)
{
	char staged[PATH_MAX + 16], first[PATH_MAX + 16];
	int err;

	/* Move the full file aside and start the new one first, so that
	 * events wait only for two renames, not for the compression. */
	snprintf(staged, sizeof(staged), "%s.rotating", fs->path);
	snprintf(first, sizeof(first), "%s.1.gz", fs->path);
	if (rename(fs->path, staged))
		return -errno;
	err = pw_file_sink_reopen(fs);
	if (err) {
		rename(staged, fs->path);
		return err;
	}
	fs->rotations++;
	if (fs->keep == 0) {
		unlink(staged);
		return 0;
	}
	shift_rotated(fs);
	err = pw_gzip_file(staged, first);
	if (err) {
		/* Keep the events uncompressed rather than lose them. */
		snprintf(first, sizeof(first), "%s.1", fs->path);
		rename(staged, first);
		return err;
	}
	unlink(staged);
	return 0;
}

/* Write the batch whole or not at all: a short write is cut off again so
 * the file never ends in half a line. */
static int write_batch(struct pw_file_sink *fs)
{
	size_t done = 0;
	ssize_t n;
	int err;

	if (fs->batch.failed)
		return -ENOMEM;
	while (done < fs->batch.len) {
		n = write(fs->fd, fs->batch.data + done, fs->batch.len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			if (done) {
				/* Best effort: if even this fails, the file keeps
				 * a partial line and the loss is still counted. */
				int cut = ftruncate(fs->fd, (off_t)fs->size);

				(void)cut;
			}
			return err;
		}
		done += (size_t)n;
	}
	fs->size += done;
	return 0;
}

size_t pw_file_sink_write(struct pw_file_sink *fs, const struct pw_line *lines, size_t n,
			  int *error)
{
	size_t written = 0, grouped = 0;
	int err = 0;

	*error = 0;
	pw_buf_reset(&fs->batch);
	for (size_t i = 0; i < n; i++) {
		uint64_t after = fs->size + fs->batch.len + lines[i].len;

		if (fs->max_size && after > fs->max_size && fs->size + fs->batch.len > 0) {
			err = write_batch(fs);
			if (err)
				goto failed;
			written += grouped;
			grouped = 0;
			pw_buf_reset(&fs->batch);
			/* Could not rotate: go on appending rather than drop
			 * events; the writer reports rotate_error. */
			fs->rotate_error = pw_file_sink_rotate(fs);
		}
		pw_buf_append(&fs->batch, lines[i].data, lines[i].len);
		grouped++;
	}
	err = write_batch(fs);
	if (err)
		goto failed;
	pw_buf_reset(&fs->batch);
	return written + grouped;

failed:
	pw_buf_reset(&fs->batch);
	*error = err;
	return written;
}

void pw_file_sink_close(struct pw_file_sink *fs)
{
	if (fs->fd >= 0)
		close(fs->fd);
	fs->fd = -1;
	pw_buf_free(&fs->batch);
}
