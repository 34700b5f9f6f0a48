/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Syslog destination: RFC 5424 messages over UDP (one per datagram) or TCP
 * (RFC 6587 octet counting), reconnecting with backoff, replaying the last
 * lines after a reconnect (at-least-once; receivers dedupe by host + seq). */
#ifndef PW_SYSLOG_SINK_H
#define PW_SYSLOG_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "buf.h"
#include "line_queue.h"
#include "output_spec.h"
#include "record.h"

#define PW_SYSLOG_REPLAY_LINES 1024
#define PW_SYSLOG_REPLAY_BYTES (4u << 20)
#define PW_SYSLOG_BACKOFF_MIN_MS 100
#define PW_SYSLOG_UDP_BATCH 64
#define PW_SYSLOG_BACKOFF_MAX_MS 5000

enum pw_syslog_severity {
	PW_SYSLOG_WARNING = 4,
	PW_SYSLOG_NOTICE = 5,
	PW_SYSLOG_INFO = 6,
};

/* notice for socket events, warning for alerts and loss, info for stats. */
enum pw_syslog_severity pw_syslog_severity_of(enum pw_record_type type);
/* Append "<PRI>1 TIMESTAMP HOST APP PID - - " (RFC 5424 HEADER, no
 * structured data): PRI = facility * 8 + severity, TIMESTAMP in UTC with
 * microseconds ("-" for time 0), HOST with anything outside printable
 * US-ASCII replaced by '_' and cut at 255 ("-" when empty). Returns 0,
 * -ENOMEM or -EINVAL (facility outside 0..23). */
int pw_syslog_header(struct pw_buf *out, int facility, enum pw_syslog_severity severity,
		     uint64_t time_ns, const char *host, const char *app, uint32_t pid);
/* Append "LEN SP MSG" (RFC 6587 octet-counting), LEN = len in decimal. */
int pw_syslog_frame(struct pw_buf *out, const char *msg, size_t len);

struct pw_syslog_sink {
	bool tcp;
	char target[300]; /* "tcp://host:port", for messages */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int fd;
	bool connected, ever_connected;
	unsigned int backoff_ms;
	uint64_t next_attempt_ms; /* CLOCK_MONOTONIC ms */
	uint64_t connects, replayed;
	/* Give up waiting on the collector once CLOCK_MONOTONIC passes this
	 * (ms; 0: never). Set by another thread at shutdown. */
	_Atomic uint64_t abort_at_ms;
	struct pw_line *window; /* the last lines handed to the kernel (TCP) */
	size_t window_head, window_count, window_bytes;
	struct pw_buf frame;
};

/* Resolve the spec's host and port and create the socket. Returns 0, or a
 * negative errno with a one-line message in err. TCP connects later, from
 * the writer (a collector down at start is not an error). */
int pw_syslog_sink_open(struct pw_syslog_sink *s, const struct pw_output_spec *spec, char *err,
			size_t err_len);
void pw_syslog_sink_close(struct pw_syslog_sink *s);

/* UDP: send one message as one datagram. 0 or a negative errno. */
int pw_syslog_udp_send(struct pw_syslog_sink *s, const struct pw_line *line);

/* UDP: send up to PW_SYSLOG_UDP_BATCH messages, one datagram each, with one
 * system call. Returns how many went out; when that is 0, *error is the
 * negative errno of the first message (the caller drops it and goes on). */
size_t pw_syslog_udp_send_batch(struct pw_syslog_sink *s, const struct pw_line *lines, size_t n,
				 int *error);

/* TCP: connect if the backoff allows. After a reconnect the replay window
 * goes out first. Returns 0 when connected, -EAGAIN while the backoff
 * runs (see pw_syslog_retry_in_ms), else the negative errno of the failed
 * attempt. */
int pw_syslog_tcp_connect(struct pw_syslog_sink *s);
/* TCP: is the connection still up? 0, or (after closing it and starting
 * the backoff) the negative errno: -ECONNRESET when the collector closed it. */
int pw_syslog_tcp_check(struct pw_syslog_sink *s);
/* ms until the next connection attempt is allowed (0: now). */
unsigned int pw_syslog_retry_in_ms(const struct pw_syslog_sink *s);
/* TCP: send lines framed. Returns how many were handed to the kernel whole;
 * a copy of each is kept in the replay window.
 * On failure the connection is closed, the backoff starts and *error is
 * the negative errno; the other lines are the caller's to retry. */
size_t pw_syslog_tcp_send(struct pw_syslog_sink *s, const struct pw_line *lines, size_t n,
			  int *error);

#endif /* PW_SYSLOG_SINK_H */
