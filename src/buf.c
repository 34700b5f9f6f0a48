/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Growable byte buffer: amortised doubling, sticky failure flag. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

/* Small enough not to matter, big enough that one event line never regrows. */
#define PW_BUF_MIN_CAP 1024

void pw_buf_init(struct pw_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}

void pw_buf_free(struct pw_buf *b)
{
	free(b->data);
	pw_buf_init(b);
}

void pw_buf_reset(struct pw_buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data)
		b->data[0] = '\0';
}

void pw_buf_truncate(struct pw_buf *b, size_t len)
{
	if (len < b->len)
		b->len = len;
	b->failed = false;
	if (b->data)
		b->data[b->len] = '\0';
}

/* Make room for n more bytes plus the terminating NUL. */
static int reserve(struct pw_buf *b, size_t n)
{
	size_t need, cap;
	char *data;

	if (b->failed)
		return -ENOMEM;
	if (n < b->cap - b->len) /* the common case: room already there */
		return 0;
	if (n > SIZE_MAX - 1 - b->len)
		goto fail;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : PW_BUF_MIN_CAP;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	data = realloc(b->data, cap);
	if (!data)
		goto fail;
	b->data = data;
	b->cap = cap;
	return 0;

fail:
	b->failed = true;
	return -ENOMEM;
}

int pw_buf_append(struct pw_buf *b, const void *p, size_t n)
{
	int err;

	err = reserve(b, n);
	if (err)
		return err;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

char *pw_buf_reserve(struct pw_buf *b, size_t n)
{
	if (reserve(b, n))
		return NULL;
	return b->data + b->len;
}

int pw_buf_putc(struct pw_buf *b, char c)
{
	int err = reserve(b, 1);

	if (err)
		return err;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return 0;
}

int pw_buf_puts(struct pw_buf *b, const char *s)
{
	return pw_buf_append(b, s, strlen(s));
}

int pw_buf_printf(struct pw_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n, err;

	/* Try in the space already there; most lines fit, so one pass usually does. */
	err = reserve(b, 0);
	if (err)
		return err;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		return -EINVAL;
	}
	if ((size_t)n >= room) {
		err = reserve(b, (size_t)n);
		if (err) {
			if (b->data)
				b->data[b->len] = '\0';
			return err;
		}
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	return 0;
}
