/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Output step: every destination events go to (stdout, files, syslog
 * collectors), each with its own format and sequence numbers. Queued
 * outputs (files, syslog) have a bounded queue drained by their own writer
 * thread: a slow or dead collector never stalls the ring consumer; what a
 * full queue or a failed write loses is counted and reported in-band with
 * a loss record (reason output_queue_full / output_error) once the
 * output works again, and in the exit summary. */
#ifndef PW_OUTPUT_H
#define PW_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "output_spec.h"
#include "record.h"

#define PW_MAX_OUTPUTS 8

struct pw_outputs;

struct pw_outputs_config {
	const char *const *specs; /* --output values; none: stdout in stdout_format */
	size_t n_specs;
	enum pw_output_format stdout_format; /* text or json (--format) */
	bool color;       /* colour the text view on stdout */
	const char *host; /* host name for records made here (loss); must outlive the set */
};

/* Parse every spec, open files (an unwritable path is an error now),
 * resolve collectors. No thread runs yet. Returns 0, or a negative errno
 * with a one-line message in err. */
int pw_outputs_open(struct pw_outputs **out, const struct pw_outputs_config *cfg, char *err,
		    size_t err_len);
/* Start the writer threads (call after dropping privileges, so that they
 * run without them) and write the text header on a text stdout. Returns 0
 * or a negative errno with a message in err. */
int pw_outputs_start(struct pw_outputs *set, char *err, size_t err_len);
/* Encode rec for every output with that output's next seq (rec->seq is
 * ignored; rec->host must be set) and hand it on. Never waits for a queued
 * output. Returns 0, -EPIPE when stdout's reader went away (stop tracing),
 * or the first encoding error. */
int pw_outputs_emit(struct pw_outputs *set, const struct pw_record *rec);
/* Write stdout's batch (and notice a stdout reader that went away), queue
 * the pending loss record of any output that works again, and wake each
 * output's writer for what is queued. Call after each poll of the ring. */
void pw_outputs_flush(struct pw_outputs *set);
/* Ask file outputs to re-open their path (SIGHUP after logrotate). */
void pw_outputs_reopen(struct pw_outputs *set);
/* True once stdout's reader went away (EPIPE). */
bool pw_outputs_stdout_closed(const struct pw_outputs *set);
/* Flush everything queued and stop the writers, waiting at most 2 s for
 * syslog collectors and 10 s for files; what is still queued after that is
 * counted as lost. Idempotent. */
void pw_outputs_close(struct pw_outputs *set);
/* Lines lost by all outputs so far. */
uint64_t pw_outputs_lost(const struct pw_outputs *set);
/* One line per output on out: "portwarden: output NAME (FORMAT): N
 * delivered, N lost[, N connects, N replayed][, N rotations]". */
void pw_outputs_summary(const struct pw_outputs *set, FILE *out);
/* Close (if needed) and free. NULL is fine. */
void pw_outputs_free(struct pw_outputs *set);

#endif /* PW_OUTPUT_H */
