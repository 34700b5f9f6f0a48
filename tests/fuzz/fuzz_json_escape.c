/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Fuzz target: arbitrary bytes in every text field of a record (comm, the
 * process strings, services, host, alert and loss words) through the JSON,
 * ECS, OCSF and text encoders. Each JSON line must parse strictly, and a
 * field that was valid UTF-8 must read back exactly as it went in; each text
 * line must hold no control character. */
#include <errno.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "encode.h"
#include "encode_siem.h"
#include "fuzz_common.h"
#include "json_writer.h"

enum { F_HOST, F_USER, F_EXE, F_CMDLINE, F_CGROUP, F_CONTAINER, F_LSERVICE, F_RSERVICE,
       F_RULE, F_REASON, F_COUNT };

static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, len;
	uint32_t cp;

	while (i < n) {
		len = pw_utf8_decode(p + i, n - i, &cp);
		if (!len)
			return false;
		i += len;
	}
	return true;
}

/* What the JSON line says at path is what went in, when it could. */
static void check_round_trip(struct pw_json_reader *r, const char *path, const char *want)
{
	const struct pw_jval *v = pw_jval_path(r, pw_json_root(r), path);
	const char *got;
	size_t len;

	FUZZ_CHECK(v != NULL);
	if (!want) {
		FUZZ_CHECK(v->type == PW_JVAL_NULL);
		return;
	}
	FUZZ_CHECK(v->type == PW_JVAL_STRING);
	got = pw_jval_string(r, v, &len);
	if (valid_utf8(want)) {
		FUZZ_CHECK(len == strlen(want));
		FUZZ_CHECK(memcmp(got, want, len) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pw_json_reader reader;
	static bool reader_ready;
	/* Kept from input to input, as an output keeps it from line to line. */
	static struct pw_json_cache cache;
	struct pw_buf cached;
	struct fuzz_input in = { data, size };
	char *f[F_COUNT], comm[PW_COMM_LEN + 1];
	struct pw_record rec;
	struct pw_event ev;
	struct pw_buf out;
	uint8_t flags;
	size_t i;
	int err;

	if (!reader_ready) {
		pw_json_reader_init(&reader, 0);
		reader_ready = true;
	}
	/* A plausible event: only its text is under attack here. */
	memset(&ev, 0, sizeof(ev));
	flags = fuzz_u8(&in);
	ev.type = (flags & 1) ? PW_EVENT_BIND : PW_EVENT_STATE;
	ev.family = (flags & 2) ? AF_INET6 : AF_INET;
	ev.protocol = (flags & 4) ? IPPROTO_UDP : IPPROTO_TCP;
	ev.old_state = PW_TCP_CLOSE;
	ev.new_state = PW_TCP_LISTEN;
	ev.attribution = PW_ATTR_SYSCALL;
	ev.direction = PW_DIR_LISTEN;
	ev.sport = 8080;
	ev.dport = (flags & 8) ? 443 : 0;
	ev.owner.pid = 4242;
	ev.saddr[0] = 127;
	ev.saddr[3] = 1;
	ev.daddr[0] = 10;
	/* comm: 16 raw bytes, with or without a NUL, exactly as the kernel's. */
	for (i = 0; i < PW_COMM_LEN; i++)
		ev.owner.comm[i] = (char)fuzz_u8(&in);
	if (!(flags & 16))
		ev.owner.comm[PW_COMM_LEN - 1] = '\0'; /* as the decoder leaves it */
	memcpy(comm, ev.owner.comm, PW_COMM_LEN);
	comm[PW_COMM_LEN] = '\0';
	/* Pids that share the JSON cache's slots, and times a second or more
	 * apart, from the comm's bytes (so the input layout stays as it was). */
	ev.owner.pid = 4240 + ((uint8_t)comm[0] & 15);
	ev.owner.tid = ev.owner.pid + ((uint8_t)comm[2] & 1);
	for (i = 0; i < F_COUNT; i++)
		f[i] = fuzz_string(&in);

	memset(&rec, 0, sizeof(rec));
	rec.type = (flags & 32) ? PW_REC_ALERT : (enum pw_record_type)ev.type;
	rec.alert.existing = flags & 64;
	rec.seq = 7;
	rec.time_ns = 1795564948123456789ull + (uint8_t)comm[1] * 300000000ull;
	rec.ev = &ev;
	rec.host = f[F_HOST];
	rec.proc.user = f[F_USER];
	rec.proc.exe = f[F_EXE];
	rec.proc.cmdline = f[F_CMDLINE];
	rec.proc.cgroup = f[F_CGROUP];
	rec.proc.container_id = f[F_CONTAINER];
	if (flags & 128) {
		/* Measured beforehand, as the annotator's cache does. */
		rec.proc.exe_shape = pw_json_shape_of(f[F_EXE]);
		rec.proc.cmdline_shape = pw_json_shape_of(f[F_CMDLINE]);
		rec.proc.cgroup_shape = pw_json_shape_of(f[F_CGROUP]);
		rec.proc.container_id_shape = pw_json_shape_of(f[F_CONTAINER]);
	}
	rec.local_service = f[F_LSERVICE];
	rec.remote_service = f[F_RSERVICE];
	rec.alert.rule = f[F_RULE];
	rec.alert.reason = f[F_REASON];

	pw_buf_init(&out);
	err = pw_encode_json(&out, &rec);
	FUZZ_CHECK(err == 0);
	fuzz_check_json_line(&reader, out.data, out.len);
	/* Through the cache: the same line, byte for byte. */
	pw_buf_init(&cached);
	FUZZ_CHECK(pw_encode_json_cached(&cache, &cached, &rec) == 0);
	FUZZ_CHECK(cached.len == out.len && memcmp(cached.data, out.data, out.len) == 0);
	pw_buf_free(&cached);
	check_round_trip(&reader, "host", f[F_HOST]);
	check_round_trip(&reader, "process.comm", comm);
	check_round_trip(&reader, "process.user", f[F_USER]);
	check_round_trip(&reader, "process.exe", f[F_EXE]);
	check_round_trip(&reader, "process.cmdline", f[F_CMDLINE]);
	check_round_trip(&reader, "process.cgroup", f[F_CGROUP]);
	check_round_trip(&reader, "process.container_id", f[F_CONTAINER]);
	check_round_trip(&reader, "local.service", f[F_LSERVICE]);
	if (ev.dport)
		check_round_trip(&reader, "remote.service", f[F_RSERVICE]);
	if (rec.type == PW_REC_ALERT) {
		check_round_trip(&reader, "rule", f[F_RULE]);
		check_round_trip(&reader, "reason", f[F_REASON]);
	}

	pw_buf_reset(&out);
	FUZZ_CHECK(pw_encode_ecs(&out, &rec) == 0);
	fuzz_check_json_line(&reader, out.data, out.len);

	pw_buf_reset(&out);
	FUZZ_CHECK(pw_encode_ocsf(&out, &rec) == 0);
	fuzz_check_json_line(&reader, out.data, out.len);

	pw_buf_reset(&out);
	FUZZ_CHECK(pw_encode_text(&out, &rec, false) == 0);
	fuzz_check_text_line(out.data, out.len, false);
	pw_buf_reset(&out);
	FUZZ_CHECK(pw_encode_text(&out, &rec, true) == 0);
	fuzz_check_text_line(out.data, out.len, true);

	/* Loss records carry a reason string of their own. */
	memset(&rec, 0, sizeof(rec));
	rec.type = PW_REC_LOSS;
	rec.host = f[F_HOST];
	rec.loss.lost = 3;
	rec.loss.reason = f[F_REASON];
	pw_buf_reset(&out);
	FUZZ_CHECK(pw_encode_json(&out, &rec) == 0);
	fuzz_check_json_line(&reader, out.data, out.len);
	check_round_trip(&reader, "reason", f[F_REASON]);
	pw_buf_reset(&out);
	FUZZ_CHECK(pw_encode_ecs(&out, &rec) == 0);
	fuzz_check_json_line(&reader, out.data, out.len);
	pw_buf_reset(&out);
	FUZZ_CHECK(pw_encode_ocsf(&out, &rec) == 0);
	fuzz_check_json_line(&reader, out.data, out.len);

	pw_buf_free(&out);
	for (i = 0; i < F_COUNT; i++)
		free(f[i]);
	return 0;
}
