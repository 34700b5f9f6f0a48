/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Fuzz target: arbitrary ring buffer records through the decoder and, when
 * it accepts one, through every encoder. A decoded event must never crash an
 * encoder, and every line written must be one strict JSON object (or one
 * terminal-safe text line).
 * Input: the record (exactly sizeof(struct pw_event) bytes is what the
 * decoder accepts), then optional bytes for the userspace annotations. */
#include <errno.h>
#include "decode.h"
#include "encode.h"
#include "encode_siem.h"
#include "fuzz_common.h"

static void encode_all(const struct pw_record *rec)
{
	static struct pw_json_reader reader;
	static bool reader_ready;
	struct pw_buf out;
	int err;

	if (!reader_ready) {
		pw_json_reader_init(&reader, 0);
		reader_ready = true;
	}
	pw_buf_init(&out);

	err = pw_encode_json(&out, rec);
	FUZZ_CHECK(err == 0 || err == -EINVAL);
	if (err == 0) {
		const struct pw_jval *seq;

		fuzz_check_json_line(&reader, out.data, out.len);
		seq = pw_jval_member(&reader, pw_json_root(&reader), "seq");
		FUZZ_CHECK(seq && seq->is_uint && seq->u == rec->seq);
	} else {
		FUZZ_CHECK(out.len == 0);
	}

	pw_buf_reset(&out);
	err = pw_encode_ecs(&out, rec);
	FUZZ_CHECK(err == 0 || err == -EINVAL);
	if (err == 0)
		fuzz_check_json_line(&reader, out.data, out.len);
	else
		FUZZ_CHECK(out.len == 0);

	pw_buf_reset(&out);
	err = pw_encode_ocsf(&out, rec);
	FUZZ_CHECK(err == 0 || err == -EINVAL);
	if (err == 0)
		fuzz_check_json_line(&reader, out.data, out.len);
	else
		FUZZ_CHECK(out.len == 0);

	pw_buf_reset(&out);
	err = pw_encode_text(&out, rec, false);
	FUZZ_CHECK(err == 0 || err == -EINVAL);
	if (err == 0)
		fuzz_check_text_line(out.data, out.len, false);

	pw_buf_reset(&out);
	err = pw_encode_text(&out, rec, true);
	FUZZ_CHECK(err == 0 || err == -EINVAL);
	if (err == 0)
		fuzz_check_text_line(out.data, out.len, true);

	pw_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct pw_record rec;
	struct pw_event ev;
	uint8_t pick;

	/* The record as the ring hands it over, whatever its size. */
	if (pw_decode(data, size, &ev) == 0) {
		FUZZ_CHECK(size == sizeof(ev));
		memset(&rec, 0, sizeof(rec));
		rec.type = (enum pw_record_type)ev.type;
		rec.ev = &ev;
		encode_all(&rec);
	}
	if (size < sizeof(ev))
		return 0;

	/* A record followed by annotation bytes: every record type that can
	 * carry an event, with wall time and sequence from the input. */
	if (pw_decode(data, sizeof(ev), &ev) != 0)
		return 0;
	in.data += sizeof(ev);
	in.size -= sizeof(ev);
	memset(&rec, 0, sizeof(rec));
	pick = fuzz_u8(&in);
	rec.type = (enum pw_record_type)(pick % 8); /* 6 and 7 are not types */
	rec.alert.existing = pick & 0x80;
	rec.ev = (pick & 0x40) ? NULL : &ev;
	rec.seq = fuzz_u64(&in);
	rec.time_ns = fuzz_u64(&in);
	rec.loss.lost = fuzz_u64(&in);
	rec.stats.events = fuzz_u64(&in);
	rec.stats.lost = fuzz_u64(&in);
	rec.stats.filtered = fuzz_u64(&in);
	rec.host = "fuzz-host";
	rec.loss.reason = "ringbuf_full";
	rec.alert.rule = "default";
	rec.alert.reason = "port not allowed";
	encode_all(&rec);
	return 0;
}
