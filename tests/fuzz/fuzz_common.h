/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Helpers shared by the libFuzzer targets: carving typed values out of the
 * fuzzer's bytes, and the checks every encoded line must pass. A failed
 * check aborts, which libFuzzer reports as a crash with the input saved. */
#ifndef PW_FUZZ_COMMON_H
#define PW_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                 \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                  \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* The input, consumed from the front. Past the end every value is 0. */
struct fuzz_input {
	const uint8_t *data;
	size_t size;
};

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
	uint8_t v = 0;

	if (in->size) {
		v = in->data[0];
		in->data++;
		in->size--;
	}
	return v;
}

static inline uint64_t fuzz_u64(struct fuzz_input *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | fuzz_u8(in);
	return v;
}

/* A string of up to 255 bytes (length from one byte), NUL-terminated in a
 * fresh allocation so ASan sees any read past it; NULL when the length byte
 * is 255, so that "unknown" is fuzzed too. Any byte but NUL can appear. */
static inline char *fuzz_string(struct fuzz_input *in)
{
	size_t n = fuzz_u8(in), i;
	char *s;

	if (n == 255)
		return NULL;
	if (n > in->size)
		n = in->size;
	s = malloc(n + 1);
	if (!s)
		abort();
	for (i = 0; i < n; i++)
		s[i] = (char)(in->data[i] ? in->data[i] : 'x');
	s[n] = '\0';
	in->data += n;
	in->size -= n;
	return s;
}

/* The rest of the input as a NUL-terminated string in its own allocation. */
static inline char *fuzz_rest(struct fuzz_input *in, size_t *len)
{
	char *s = malloc(in->size + 1);

	if (!s)
		abort();
	memcpy(s, in->data, in->size);
	s[in->size] = '\0';
	*len = in->size;
	in->data += in->size;
	in->size = 0;
	return s;
}

/* One encoder's output: exactly one line ending in '\n', and that line one
 * strict JSON object (RFC 8259, valid UTF-8, no duplicate names). */
static inline void fuzz_check_json_line(struct pw_json_reader *reader, const char *line,
					size_t len)
{
	FUZZ_CHECK(len >= 3);
	FUZZ_CHECK(line[len - 1] == '\n');
	FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL);
	FUZZ_CHECK(memchr(line, '\0', len) == NULL);
	if (pw_json_read(reader, line, len - 1) != 0) {
		fprintf(stderr, "not strict JSON (column %zu: %s): %.*s\n", reader->error_column,
			reader->error, (int)len, line);
		abort();
	}
	FUZZ_CHECK(pw_json_root(reader)->type == PW_JVAL_OBJECT);
}

/* Terminal safety of a text line: no control character but the final '\n'
 * (none of C0, DEL, or C1 encoded as UTF-8 C2 80..C2 9F). When colour is on,
 * ESC may only start one of our own SGR sequences "ESC [ digits;m". */
static inline void fuzz_check_text_line(const char *line, size_t len, bool color)
{
	size_t i;

	FUZZ_CHECK(len >= 1 && line[len - 1] == '\n');
	for (i = 0; i + 1 < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == 0x1b && color) {
			FUZZ_CHECK(i + 2 < len && line[i + 1] == '[');
			for (i += 2; i < len && ((line[i] >= '0' && line[i] <= '9') || line[i] == ';');
			     i++)
				;
			FUZZ_CHECK(i < len && line[i] == 'm');
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(stderr, "control byte 0x%02x at %zu in text line: %.*s\n", c, i,
				(int)len, line);
			abort();
		}
		if (c == 0xc2 && i + 2 < len && (unsigned char)line[i + 1] >= 0x80 &&
		    (unsigned char)line[i + 1] <= 0x9f) {
			fprintf(stderr, "C1 control U+00%02X at %zu in text line: %.*s\n",
				(unsigned char)line[i + 1], i, (int)len, line);
			abort();
		}
	}
}

#endif /* PW_FUZZ_COMMON_H */
