/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The --output SPEC grammar: where events go and how they are written.
 *   SPEC   := DEST [ "," KEY "=" VALUE ]...
 *   DEST   := "-" | "file:" PATH | "udp://" HOST ":" PORT | "tcp://" HOST ":" PORT
 *   KEY    := format (text|json|ecs|ocsf) | max-size (e.g. 10M) | keep (files)
 *             | facility (syslog) | queue (lines held for the writer) */
#ifndef PW_OUTPUT_SPEC_H
#define PW_OUTPUT_SPEC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define PW_OUTPUT_DEFAULT_KEEP 5
#define PW_OUTPUT_DEFAULT_QUEUE_LINES 65536
#define PW_OUTPUT_QUEUE_BYTES (32u << 20)
#define PW_SYSLOG_FACILITY_DAEMON 3

enum pw_output_kind { PW_OUTPUT_STDOUT, PW_OUTPUT_FILE, PW_OUTPUT_UDP, PW_OUTPUT_TCP };

enum pw_output_format {
	PW_OUTPUT_FORMAT_DEFAULT, /* stdout: as --format says; every other output: json */
	PW_OUTPUT_FORMAT_TEXT,
	PW_OUTPUT_FORMAT_JSON,
	PW_OUTPUT_FORMAT_ECS,
	PW_OUTPUT_FORMAT_OCSF,
};

struct pw_output_spec {
	enum pw_output_kind kind;
	enum pw_output_format format;
	char path[PATH_MAX]; /* file */
	char host[256];      /* udp, tcp: name or address, without IPv6 brackets */
	char port[6];        /* udp, tcp: 1..65535 as text */
	uint64_t max_size;   /* file: rotate before growing past this; 0: never */
	unsigned int keep;   /* file: rotated files kept */
	unsigned int queue_lines; /* lines waiting for the writer thread */
	int facility;        /* udp, tcp: syslog facility number */
};

/* Parse one SPEC. Returns 0, or -EINVAL with a one-line message in err that
 * quotes the spec and names the bad part. */
int pw_output_spec_parse(const char *spec, struct pw_output_spec *out, char *err, size_t err_len);
/* "json", "ecs", ...; "default" for PW_OUTPUT_FORMAT_DEFAULT. */
const char *pw_output_format_name(enum pw_output_format format);
/* "daemon", "local0", ...; NULL for a facility not accepted by the parser. */
const char *pw_syslog_facility_name(int facility);

#endif /* PW_OUTPUT_SPEC_H */
