/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Growable byte buffer that encoders write lines into and sinks write out. */
#ifndef PW_BUF_H
#define PW_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* data is NUL-terminated after len whenever it is non-NULL, so a finished
 * line can be used as a C string. Once an allocation fails, failed stays set
 * and every later append is a no-op until pw_buf_reset: a batch is either
 * whole or known to be damaged, never silently short. */
struct pw_buf {
	char *data;
	size_t len, cap;
	bool failed;
};

void pw_buf_init(struct pw_buf *b);
void pw_buf_free(struct pw_buf *b);
/* Empty the buffer and clear failed; the memory is kept for the next batch. */
void pw_buf_reset(struct pw_buf *b);
/* Cut the buffer back to its first len bytes (len <= b->len) and clear
 * failed: what was there before a line that could not be finished. */
void pw_buf_truncate(struct pw_buf *b, size_t len);

/* Each returns 0, or -ENOMEM (also when the buffer had already failed). */
int pw_buf_append(struct pw_buf *b, const void *p, size_t n);
int pw_buf_putc(struct pw_buf *b, char c);
int pw_buf_puts(struct pw_buf *b, const char *s);
/* Room for n more bytes (and the NUL after them) at the end of the buffer:
 * returns where they go, or NULL (failed set) when memory ran out. The
 * caller writes there, then sets len and the NUL itself. */
char *pw_buf_reserve(struct pw_buf *b, size_t n);
int pw_buf_printf(struct pw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* PW_BUF_H */
