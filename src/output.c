/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The set of outputs: per-output encoding and sequence numbers on the
 * consumer thread, one writer thread per queued output, loss accounting,
 * SIGHUP re-open, bounded flush at exit. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "encode.h"
#include "encode_siem.h"
#include "file_sink.h"
#include "line_queue.h"
#include "output.h"
#include "sink.h"
#include "syslog_sink.h"

#define WRITER_BATCH PW_LINE_QUEUE_WAKE_LINES /* a block */
#define WRITER_WAIT_MS 100
#define FLUSH_WAIT_NETWORK_MS 2000
#define FLUSH_WAIT_FILE_MS 10000

struct pw_output {
	struct pw_output_spec spec;
	char name[PATH_MAX + 16];
	enum pw_output_format format; /* resolved: never DEFAULT */
	bool color;
	const char *host;
	uint32_t pid;
	uint64_t seq;         /* consumer thread only */
	struct pw_json_cache json_cache; /* consumer thread only */

	struct pw_sink sink; /* stdout */

	struct pw_line_queue queue; /* file, udp, tcp */
	struct pw_file_sink file;
	struct pw_syslog_sink syslog;
	pthread_t thread;
	bool thread_started;
	int reported_error; /* writer thread only: last error told on stderr */
	int reported_rotate_error; /* writer thread only: last rotation error told */
	uint64_t rotations_seen;   /* writer thread only */

	atomic_bool reopen;  /* SIGHUP seen: re-open the file */
	atomic_bool healthy; /* the last write worked: a loss record may go out */
	atomic_bool stopping;
	_Atomic uint64_t deadline_ms; /* give up flushing after this (monotonic) */
	_Atomic uint64_t pending_queue_full; /* lost lines not yet reported in-band */
	_Atomic uint64_t pending_write_failed;
	_Atomic uint64_t delivered;
	_Atomic uint64_t lost;
};

struct pw_outputs {
	struct pw_output *out[PW_MAX_OUTPUTS];
	size_t n;
	bool closed;
};

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool is_queued(const struct pw_output *o)
{
	return o->spec.kind != PW_OUTPUT_STDOUT;
}

static bool is_syslog(const struct pw_output *o)
{
	return o->spec.kind == PW_OUTPUT_UDP || o->spec.kind == PW_OUTPUT_TCP;
}

static int encode(struct pw_output *o, struct pw_buf *b, const struct pw_record *rec)
{
	switch (o->format) {
	case PW_OUTPUT_FORMAT_TEXT:
		return pw_encode_text(b, rec, o->color);
	case PW_OUTPUT_FORMAT_ECS:
		return pw_encode_ecs(b, rec);
	case PW_OUTPUT_FORMAT_OCSF:
		return pw_encode_ocsf(b, rec);
	default:
		return pw_encode_json_cached(&o->json_cache, b, rec);
	}
}

/* Consumer thread --------------------------------------------------------- */

/* Encode rec as this output's next line and queue it. A full queue loses
 * the line: counted, to be reported by the next loss record. */
static int enqueue(struct pw_output *o, const struct pw_record *rec, uint64_t carried_lost)
{
	struct pw_record r = *rec;
	struct pw_buf *line;
	size_t start;
	int err = 0;

	r.seq = o->seq + 1;
	/* Encoded straight into the queue's open block. */
	line = pw_line_queue_begin(&o->queue, &start);
	if (!line)
		err = -ENOMEM;
	if (!err && is_syslog(o))
		err = pw_syslog_header(line, o->spec.facility, pw_syslog_severity_of(r.type),
				       r.time_ns, r.host, "portwarden", o->pid);
	if (!err)
		err = encode(o, line, &r);
	if (err && line)
		pw_line_queue_cancel(&o->queue, start);
	if (err == -ENOMEM) {
		/* Out of memory for this one line: lost like a failed write.
		 * (A loss record's own count is still pending: not added.) */
		o->seq++;
		atomic_fetch_add(&o->pending_write_failed, 1);
		atomic_fetch_add(&o->lost, 1);
	}
	if (err)
		return err;
	o->seq++;
	if (is_syslog(o) && line->len > start && line->data[line->len - 1] == '\n')
		pw_buf_truncate(line, line->len - 1); /* syslog frames the message itself */
	err = pw_line_queue_commit(&o->queue, start, carried_lost);
	if (err) {
		/* The seq is spent either way, so that a receiver's gaps add up
		 * to the lost counts of the loss records it receives. */
		atomic_fetch_add(&o->pending_queue_full, 1);
		atomic_fetch_add(&o->lost, 1);
	}
	return err;
}

static void report_loss(struct pw_output *o, _Atomic uint64_t *pending, const char *reason)
{
	struct pw_record rec = { 0 };
	uint64_t lost = atomic_load(pending);

	if (!lost || !atomic_load(&o->healthy) || !pw_line_queue_has_room(&o->queue, 1024))
		return;
	rec.type = PW_REC_LOSS;
	rec.time_ns = wall_ns();
	rec.host = o->host;
	rec.loss.lost = lost;
	rec.loss.reason = reason;
	if (enqueue(o, &rec, lost) == 0)
		atomic_fetch_sub(pending, lost);
}

static void report_losses(struct pw_output *o)
{
	report_loss(o, &o->pending_queue_full, "output_queue_full");
	report_loss(o, &o->pending_write_failed, "output_error");
}

int pw_outputs_emit(struct pw_outputs *set, const struct pw_record *rec)
{
	int first_err = 0, err;

	for (size_t i = 0; i < set->n; i++) {
		struct pw_output *o = set->out[i];

		if (!is_queued(o)) {
			struct pw_record r = *rec;

			if (o->sink.closed)
				return -EPIPE;
			r.seq = o->seq + 1;
			err = encode(o, pw_sink_buf(&o->sink), &r);
			if (!err) {
				o->seq++;
				pw_sink_commit_line(&o->sink);
				if (o->sink.closed)
					return -EPIPE;
			}
		} else {
			report_losses(o);
			err = enqueue(o, rec, 0);
			if (err == -ENOBUFS || err == -EPIPE)
				err = 0; /* counted: not the caller's error */
		}
		if (err && !first_err)
			first_err = err;
	}
	return first_err;
}

void pw_outputs_flush(struct pw_outputs *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct pw_output *o = set->out[i];

		if (is_queued(o)) {
			report_losses(o);
			pw_line_queue_flush(&o->queue);
		} else if (!o->sink.closed) {
			pw_sink_flush(&o->sink);
			pw_sink_reader_gone(&o->sink);
		}
	}
}

void pw_outputs_reopen(struct pw_outputs *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct pw_output *o = set->out[i];

		if (o->spec.kind == PW_OUTPUT_FILE) {
			atomic_store(&o->reopen, true);
			pw_line_queue_wake(&o->queue);
		}
	}
}

bool pw_outputs_stdout_closed(const struct pw_outputs *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (!is_queued(set->out[i]) && set->out[i]->sink.closed)
			return true;
	return false;
}

/* Writer threads ----------------------------------------------------------- */

/* Tell stderr about a failure once, not once per line. */
static void tell_error(struct pw_output *o, int err, const char *what)
{
	if (o->reported_error == err)
		return;
	o->reported_error = err;
	fprintf(stderr, "portwarden: output %s: %s: %s; counting what is lost\n", o->name, what,
		strerror(-err));
}

static void tell_recovered(struct pw_output *o, const char *what)
{
	if (!o->reported_error)
		return;
	o->reported_error = 0;
	fprintf(stderr, "portwarden: output %s: %s\n", o->name, what);
}

static void lines_failed(struct pw_output *o, const struct pw_line *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* A lost loss record hands its own count on to the next one. */
		atomic_fetch_add(&o->pending_write_failed, 1 + lines[i].carried_lost);
		atomic_fetch_add(&o->lost, 1);
	}
	atomic_store(&o->healthy, false);
}

static size_t deliver_file(struct pw_output *o, struct pw_line *lines, size_t n)
{
	int err, rotate_err;
	size_t written = pw_file_sink_write(&o->file, lines, n, &err);

	atomic_fetch_add(&o->delivered, written);
	rotate_err = o->file.rotate_error;
	o->file.rotate_error = 0;
	if (o->file.rotations != o->rotations_seen) {
		/* A rotation worked: the next failure is news again. */
		o->rotations_seen = o->file.rotations;
		o->reported_rotate_error = 0;
	}
	if (rotate_err && rotate_err != o->reported_rotate_error) {
		o->reported_rotate_error = rotate_err;
		fprintf(stderr, "portwarden: output %s: cannot rotate: %s; still appending\n",
			o->name, strerror(-rotate_err));
	}
	if (err) {
		lines_failed(o, lines + written, n - written);
		tell_error(o, err, "write failed");
	} else {
		tell_recovered(o, "writing again");
		atomic_store(&o->healthy, true);
	}
	return n;
}

static size_t deliver_udp(struct pw_output *o, struct pw_line *lines, size_t n)
{
	size_t done = 0;

	while (done < n) {
		int err;
		size_t sent = pw_syslog_udp_send_batch(&o->syslog, lines + done, n - done, &err);

		if (sent) {
			atomic_fetch_add(&o->delivered, sent);
			tell_recovered(o, "sending again");
			atomic_store(&o->healthy, true);
			done += sent;
			continue;
		}
		/* The first message failed (ECONNREFUSED from an earlier ICMP
		 * port unreachable, EMSGSIZE, ...): count it, go on. */
		lines_failed(o, &lines[done], 1);
		tell_error(o, err, "send failed");
		done++;
	}
	return n;
}

/* Connect (or reconnect, replaying the window) when the backoff allows.
 * Returns 0 when connected, -EAGAIN while backing off, or the error. */
static int tcp_connect(struct pw_output *o)
{
	struct pw_syslog_sink *s = &o->syslog;
	uint64_t replayed = s->replayed;
	int err;

	if (s->connected)
		return 0;
	err = pw_syslog_tcp_connect(s);
	if (err == -EAGAIN)
		return err;
	if (err) {
		tell_error(o, err, "cannot connect, retrying with backoff");
		return err;
	}
	if (s->connects > 1 || o->reported_error) {
		fprintf(stderr, "portwarden: output %s: connected again, %llu lines replayed\n",
			o->name, (unsigned long long)(s->replayed - replayed));
		o->reported_error = 0;
	}
	atomic_store(&o->healthy, true);
	return 0;
}

/* While idle: connect early, and notice a collector that went away, so
 * that the reconnect (and the replay) does not wait for the next event. */
static void tcp_keep_up(struct pw_output *o)
{
	int err;

	if (o->syslog.connected) {
		err = pw_syslog_tcp_check(&o->syslog);
		if (!err)
			return;
		atomic_store(&o->healthy, false);
		tell_error(o, err, "connection lost, reconnecting");
	}
	tcp_connect(o);
}

static size_t deliver_tcp(struct pw_output *o, struct pw_line *lines, size_t n)
{
	struct pw_syslog_sink *s = &o->syslog;
	size_t sent;
	int err;

	err = tcp_connect(o);
	if (err == -EAGAIN) {
		unsigned int wait = pw_syslog_retry_in_ms(s);
		struct timespec ts;

		wait = wait < WRITER_WAIT_MS ? wait : WRITER_WAIT_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)wait * 1000000L;
		nanosleep(&ts, NULL);
		return 0;
	}
	if (err)
		return 0;
	sent = pw_syslog_tcp_send(s, lines, n, &err);
	atomic_fetch_add(&o->delivered, sent);
	if (err) {
		atomic_store(&o->healthy, false);
		tell_error(o, err, "connection lost, reconnecting");
	}
	return sent;
}

static void *writer_main(void *arg)
{
	struct pw_output *o = arg;
	struct pw_line batch[WRITER_BATCH];
	size_t n = 0, done = 0, left;

	for (;;) {
		uint64_t deadline = atomic_load(&o->deadline_ms);

		if (deadline && pw_monotonic_ms() >= deadline)
			break;
		if (atomic_exchange(&o->reopen, false)) {
			int err = pw_file_sink_reopen(&o->file);

			if (err)
				fprintf(stderr, "portwarden: output %s: cannot re-open: %s\n", o->name,
					strerror(-err));
		}
		if (done == n) {
			bool stopping = atomic_load(&o->stopping);

			pw_line_queue_release(&o->queue, n);
			done = 0;
			if (o->spec.kind == PW_OUTPUT_TCP && !stopping)
				tcp_keep_up(o);
			n = pw_line_queue_pop(&o->queue, batch, WRITER_BATCH, WRITER_WAIT_MS);
			/* Stopping is set after the queue is closed: empty now
			 * means empty for good. */
			if (n == 0 && stopping)
				break;
			continue;
		}
		switch (o->spec.kind) {
		case PW_OUTPUT_FILE:
			done += deliver_file(o, batch + done, n - done);
			break;
		case PW_OUTPUT_UDP:
			done += deliver_udp(o, batch + done, n - done);
			break;
		default:
			done += deliver_tcp(o, batch + done, n - done);
			break;
		}
	}
	/* Out of time: whatever did not go out is lost, and said so in the
	 * summary (there is no later loss record to carry it). */
	left = n - done;
	pw_line_queue_release(&o->queue, n);
	left += pw_line_queue_discard(&o->queue);
	atomic_fetch_add(&o->lost, left);
	return NULL;
}

/* Set up -------------------------------------------------------------------- */

static void output_free(struct pw_output *o)
{
	if (!o)
		return;
	if (is_queued(o)) {
		pw_line_queue_destroy(&o->queue);
		if (o->spec.kind == PW_OUTPUT_FILE)
			pw_file_sink_close(&o->file);
		else
			pw_syslog_sink_close(&o->syslog);
	} else {
		pw_sink_free(&o->sink);
	}
	free(o);
}

static int output_new(struct pw_output **out, const char *spec_text,
		      const struct pw_outputs_config *cfg, char *err, size_t err_len)
{
	struct pw_output *o = calloc(1, sizeof(*o));
	int rc;

	*out = NULL;
	if (!o) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	if (spec_text) {
		rc = pw_output_spec_parse(spec_text, &o->spec, err, err_len);
		if (rc) {
			free(o);
			return rc;
		}
	} else {
		o->spec.kind = PW_OUTPUT_STDOUT;
	}
	o->host = cfg->host;
	o->pid = (uint32_t)getpid();
	o->format = o->spec.format;
	if (o->format == PW_OUTPUT_FORMAT_DEFAULT)
		o->format = o->spec.kind == PW_OUTPUT_STDOUT ? cfg->stdout_format
							     : PW_OUTPUT_FORMAT_JSON;
	o->color = o->spec.kind == PW_OUTPUT_STDOUT && cfg->color;
	atomic_init(&o->healthy, true);

	switch (o->spec.kind) {
	case PW_OUTPUT_STDOUT:
		snprintf(o->name, sizeof(o->name), "stdout");
		pw_sink_init(&o->sink, STDOUT_FILENO);
		*out = o;
		return 0;
	case PW_OUTPUT_FILE:
		snprintf(o->name, sizeof(o->name), "file:%s", o->spec.path);
		rc = pw_file_sink_open(&o->file, o->spec.path, o->spec.max_size, o->spec.keep, err,
				       err_len);
		break;
	default:
		rc = pw_syslog_sink_open(&o->syslog, &o->spec, err, err_len);
		snprintf(o->name, sizeof(o->name), "%s", o->syslog.target);
		break;
	}
	if (!rc && pw_line_queue_init(&o->queue, o->spec.queue_lines, PW_OUTPUT_QUEUE_BYTES)) {
		snprintf(err, err_len, "output %s: out of memory", o->name);
		rc = -ENOMEM;
	}
	if (rc) {
		/* Only what was opened is closed: the sinks mark fds -1. */
		if (o->spec.kind == PW_OUTPUT_FILE)
			pw_file_sink_close(&o->file);
		else
			pw_syslog_sink_close(&o->syslog);
		free(o);
		return rc;
	}
	*out = o;
	return 0;
}

int pw_outputs_open(struct pw_outputs **out, const struct pw_outputs_config *cfg, char *err,
		    size_t err_len)
{
	struct pw_outputs *set = calloc(1, sizeof(*set));
	size_t n = cfg->n_specs ? cfg->n_specs : 1;
	int rc = 0;

	*out = NULL;
	if (!set) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	if (n > PW_MAX_OUTPUTS) {
		snprintf(err, err_len, "--output: at most %d outputs", PW_MAX_OUTPUTS);
		rc = -EINVAL;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		rc = output_new(&set->out[i], cfg->n_specs ? cfg->specs[i] : NULL, cfg, err, err_len);
		if (rc)
			goto cleanup;
		set->n++;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(set->out[j]->name, set->out[i]->name))
				continue;
			snprintf(err, err_len, "--output: %s given twice", set->out[i]->name);
			rc = -EINVAL;
			goto cleanup;
		}
	}
	*out = set;
	return 0;

cleanup:
	set->closed = true; /* no threads were started */
	pw_outputs_free(set);
	return rc;
}

int pw_outputs_start(struct pw_outputs *set, char *err, size_t err_len)
{
	sigset_t all, old;
	int rc = 0;

	/* Signals belong to the main thread, whose poll they interrupt. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t i = 0; i < set->n; i++) {
		struct pw_output *o = set->out[i];

		if (!is_queued(o)) {
			if (o->format == PW_OUTPUT_FORMAT_TEXT) {
				pw_encode_text_header(pw_sink_buf(&o->sink), o->color);
				pw_sink_flush(&o->sink);
			}
			continue;
		}
		rc = -pthread_create(&o->thread, NULL, writer_main, o);
		if (rc) {
			snprintf(err, err_len, "output %s: cannot start its writer: %s", o->name,
				 strerror(-rc));
			break;
		}
		o->thread_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void pw_outputs_close(struct pw_outputs *set)
{
	uint64_t now = pw_monotonic_ms();

	if (!set || set->closed)
		return;
	set->closed = true;
	for (size_t i = 0; i < set->n; i++) {
		struct pw_output *o = set->out[i];
		uint64_t deadline;

		if (!is_queued(o)) {
			if (!o->sink.closed)
				pw_sink_flush(&o->sink);
			continue;
		}
		report_losses(o);
		deadline = now + (o->spec.kind == PW_OUTPUT_FILE ? FLUSH_WAIT_FILE_MS
								 : FLUSH_WAIT_NETWORK_MS);
		atomic_store(&o->deadline_ms, deadline);
		atomic_store(&o->syslog.abort_at_ms, deadline);
		pw_line_queue_close(&o->queue);
		atomic_store(&o->stopping, true);
	}
	for (size_t i = 0; i < set->n; i++) {
		struct pw_output *o = set->out[i];

		if (o->thread_started)
			pthread_join(o->thread, NULL);
		o->thread_started = false;
		if (is_queued(o)) {
			/* Lines no writer will take: counted, never silent. */
			atomic_fetch_add(&o->lost, pw_line_queue_discard(&o->queue));
		}
	}
}

static uint64_t output_lost(const struct pw_output *o)
{
	return is_queued(o) ? atomic_load(&o->lost) : o->sink.lines_lost;
}

uint64_t pw_outputs_lost(const struct pw_outputs *set)
{
	uint64_t lost = 0;

	for (size_t i = 0; i < set->n; i++)
		lost += output_lost(set->out[i]);
	return lost;
}

void pw_outputs_summary(const struct pw_outputs *set, FILE *out)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct pw_output *o = set->out[i];
		uint64_t delivered = is_queued(o) ? atomic_load(&o->delivered)
						  : o->sink.lines - o->sink.lines_lost;

		fprintf(out, "portwarden: output %s (%s): %llu delivered, %llu lost", o->name,
			pw_output_format_name(o->format), (unsigned long long)delivered,
			(unsigned long long)output_lost(o));
		if (o->spec.kind == PW_OUTPUT_TCP)
			fprintf(out, ", %llu connects, %llu replayed",
				(unsigned long long)o->syslog.connects,
				(unsigned long long)o->syslog.replayed);
		if (o->spec.kind == PW_OUTPUT_FILE)
			fprintf(out, ", %llu rotations", (unsigned long long)o->file.rotations);
		fputc('\n', out);
	}
}

void pw_outputs_free(struct pw_outputs *set)
{
	if (!set)
		return;
	pw_outputs_close(set);
	for (size_t i = 0; i < set->n; i++)
		output_free(set->out[i]);
	free(set);
}
