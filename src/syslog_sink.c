/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* RFC 5424 over UDP and TCP (RFC 6587 octet counting). Connection handling
 * runs on the output's writer thread only; the header and framing helpers
 * are pure. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "clock.h"
#include "syslog_sink.h"

#define WAIT_SLICE_MS 100
#define CONNECT_TIMEOUT_MS 3000

enum pw_syslog_severity pw_syslog_severity_of(enum pw_record_type type)
{
	switch (type) {
	case PW_REC_ALERT:
	case PW_REC_LOSS:
		return PW_SYSLOG_WARNING;
	case PW_REC_STATS:
		return PW_SYSLOG_INFO;
	default:
		return PW_SYSLOG_NOTICE;
	}
}

int pw_syslog_header(struct pw_buf *out, int facility, enum pw_syslog_severity severity,
		     uint64_t time_ns, const char *host, const char *app, uint32_t pid)
{
	char stamp[80], name[256];
	size_t n = 0;

	if (facility < 0 || facility > 23)
		return -EINVAL;
	if (time_ns) {
		time_t secs = (time_t)(time_ns / 1000000000u);
		struct tm tm;

		if (!gmtime_r(&secs, &tm))
			return -EINVAL;
		snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (unsigned int)(time_ns % 1000000000u / 1000u));
	} else {
		strcpy(stamp, "-");
	}
	/* HOSTNAME is 1*255PRINTUSASCII: a space would shift every field. */
	for (const char *p = host ? host : ""; *p && n < sizeof(name) - 1; p++)
		name[n++] = (*p > 32 && *p < 127) ? *p : '_';
	if (n == 0)
		name[n++] = '-';
	name[n] = '\0';
	return pw_buf_printf(out, "<%d>1 %s %s %s %u - - ", facility * 8 + (int)severity, stamp,
			     name, app, pid);
}

int pw_syslog_frame(struct pw_buf *out, const char *msg, size_t len)
{
	int err = pw_buf_printf(out, "%zu ", len);

	return err ? err : pw_buf_append(out, msg, len);
}

int pw_syslog_sink_open(struct pw_syslog_sink *s, const struct pw_output_spec *spec, char *err,
			size_t err_len)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	pw_buf_init(&s->frame);
	s->tcp = spec->kind == PW_OUTPUT_TCP;
	snprintf(s->target, sizeof(s->target), "%s://%s%s%s:%s", s->tcp ? "tcp" : "udp",
		 strchr(spec->host, ':') ? "[" : "", spec->host, strchr(spec->host, ':') ? "]" : "",
		 spec->port);
	hints.ai_socktype = s->tcp ? SOCK_STREAM : SOCK_DGRAM;
	rc = getaddrinfo(spec->host, spec->port, &hints, &res);
	if (rc) {
		snprintf(err, err_len, "output %s: cannot resolve '%s': %s", s->target, spec->host,
			 gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	if (s->tcp) {
		s->window = calloc(PW_SYSLOG_REPLAY_LINES, sizeof(*s->window));
		if (!s->window) {
			snprintf(err, err_len, "output %s: out of memory", s->target);
			return -ENOMEM;
		}
		return 0;
	}
	/* A connected UDP socket hears the ICMP errors of a closed port. */
	s->fd = socket(s->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&s->addr, s->addr_len)) {
		rc = -errno;
		snprintf(err, err_len, "output %s: %s", s->target, strerror(errno));
		return rc;
	}
	s->connected = true;
	return 0;
}

void pw_syslog_sink_close(struct pw_syslog_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->connected = false;
	if (s->window) {
		for (size_t i = 0; i < PW_SYSLOG_REPLAY_LINES; i++)
			free(s->window[i].data);
		free(s->window);
		s->window = NULL;
	}
	pw_buf_free(&s->frame);
}

int pw_syslog_udp_send(struct pw_syslog_sink *s, const struct pw_line *line)
{
	ssize_t n;

	do {
		n = send(s->fd, line->data, line->len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == line->len ? 0 : -EMSGSIZE;
}

size_t pw_syslog_udp_send_batch(struct pw_syslog_sink *s, const struct pw_line *lines, size_t n,
				 int *error)
{
	struct mmsghdr msgs[PW_SYSLOG_UDP_BATCH];
	struct iovec iov[PW_SYSLOG_UDP_BATCH];
	size_t count = n < PW_SYSLOG_UDP_BATCH ? n : PW_SYSLOG_UDP_BATCH;
	int sent;

	*error = 0;
	memset(msgs, 0, sizeof(msgs[0]) * count);
	for (size_t i = 0; i < count; i++) {
		iov[i].iov_base = lines[i].data;
		iov[i].iov_len = lines[i].len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	do {
		sent = sendmmsg(s->fd, msgs, (unsigned int)count, MSG_NOSIGNAL);
	} while (sent < 0 && errno == EINTR);
	if (sent < 0) {
		*error = -errno;
		return 0;
	}
	return (size_t)sent;
}

static bool aborted(struct pw_syslog_sink *s)
{
	uint64_t at = atomic_load(&s->abort_at_ms);

	return at && pw_monotonic_ms() >= at;
}

static void disconnect(struct pw_syslog_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->connected = false;
	s->next_attempt_ms = pw_monotonic_ms() + s->backoff_ms;
	/* First retry at once (a collector restart is quick), then doubling. */
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : PW_SYSLOG_BACKOFF_MIN_MS;
	if (s->backoff_ms > PW_SYSLOG_BACKOFF_MAX_MS)
		s->backoff_ms = PW_SYSLOG_BACKOFF_MAX_MS;
}

unsigned int pw_syslog_retry_in_ms(const struct pw_syslog_sink *s)
{
	uint64_t now = pw_monotonic_ms();

	return s->next_attempt_ms > now ? (unsigned int)(s->next_attempt_ms - now) : 0;
}

/* Write all of data, waiting for the socket in slices so that an abort at
 * shutdown is noticed. Returns 0 or a negative errno; *sent says how far. */
static int send_all(struct pw_syslog_sink *s, const char *data, size_t len, size_t *sent)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };
	ssize_t n;

	*sent = 0;
	while (*sent < len) {
		n = send(s->fd, data + *sent, len - *sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			*sent += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if (aborted(s))
			return -ETIMEDOUT;
		if (poll(&pfd, 1, WAIT_SLICE_MS) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* The collector never sends: readable means it closed (or reset) the
 * connection. Lines written after that would vanish in our socket buffer. */
static int peer_state(struct pw_syslog_sink *s)
{
	char sink[256];
	ssize_t n = recv(s->fd, sink, sizeof(sink), MSG_DONTWAIT);

	if (n == 0)
		return -ECONNRESET;
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;
	return 0;
}

int pw_syslog_tcp_check(struct pw_syslog_sink *s)
{
	int err;

	if (!s->connected)
		return -ENOTCONN;
	err = peer_state(s);
	if (err)
		disconnect(s);
	return err;
}

static int connect_now(struct pw_syslog_sink *s)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	uint64_t give_up = pw_monotonic_ms() + CONNECT_TIMEOUT_MS;
	int fd, rc, soerr = 0, one = 1;

	fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	s->fd = fd;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&s->addr, s->addr_len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	for (;;) {
		rc = poll(&pfd, 1, WAIT_SLICE_MS);
		if (rc > 0)
			break;
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (aborted(s) || pw_monotonic_ms() >= give_up)
			return -ETIMEDOUT;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		return -errno;
	return -soerr;
}

static int replay(struct pw_syslog_sink *s)
{
	size_t sent;
	int err;

	pw_buf_reset(&s->frame);
	for (size_t i = 0; i < s->window_count; i++) {
		const struct pw_line *l =
			&s->window[(s->window_head + i) % PW_SYSLOG_REPLAY_LINES];

		pw_syslog_frame(&s->frame, l->data, l->len);
	}
	if (s->frame.failed)
		return -ENOMEM;
	err = send_all(s, s->frame.data, s->frame.len, &sent);
	if (!err)
		s->replayed += s->window_count;
	return err;
}

int pw_syslog_tcp_connect(struct pw_syslog_sink *s)
{
	int err;

	if (s->connected)
		return 0;
	if (pw_syslog_retry_in_ms(s))
		return -EAGAIN;
	err = connect_now(s);
	/* Lines sent on the connection that just died may never have reached
	 * the collector: send the window again, receivers drop duplicates. */
	if (!err && s->ever_connected && s->window_count)
		err = replay(s);
	if (err) {
		disconnect(s);
		return err;
	}
	s->connected = true;
	s->ever_connected = true;
	s->connects++;
	s->backoff_ms = 0;
	return 0;
}

/* Keep a copy of a line sent: the queue's lines are views it reuses. */
static void remember(struct pw_syslog_sink *s, const struct pw_line *line)
{
	struct pw_line copy = *line;
	size_t slot;

	copy.data = malloc(line->len ? line->len : 1);
	if (!copy.data)
		return; /* not replayed after a reconnect: the line did go out */
	memcpy(copy.data, line->data, line->len);

	while (s->window_count && (s->window_count == PW_SYSLOG_REPLAY_LINES ||
				   s->window_bytes + line->len > PW_SYSLOG_REPLAY_BYTES)) {
		struct pw_line *oldest = &s->window[s->window_head];

		s->window_bytes -= oldest->len;
		free(oldest->data);
		oldest->data = NULL;
		s->window_head = (s->window_head + 1) % PW_SYSLOG_REPLAY_LINES;
		s->window_count--;
	}
	slot = (s->window_head + s->window_count) % PW_SYSLOG_REPLAY_LINES;
	s->window[slot] = copy;
	s->window_count++;
	s->window_bytes += copy.len;
}

size_t pw_syslog_tcp_send(struct pw_syslog_sink *s, const struct pw_line *lines, size_t n,
			  int *error)
{
	size_t ends[64], count = n < 64 ? n : 64, sent = 0, whole = 0;
	int err;

	*error = 0;
	if (!s->connected) {
		*error = -ENOTCONN;
		return 0;
	}
	err = peer_state(s);
	if (err)
		goto failed;
	pw_buf_reset(&s->frame);
	for (size_t i = 0; i < count; i++) {
		pw_syslog_frame(&s->frame, lines[i].data, lines[i].len);
		ends[i] = s->frame.len;
	}
	if (s->frame.failed) {
		err = -ENOMEM;
		goto failed;
	}
	err = send_all(s, s->frame.data, s->frame.len, &sent);
	while (whole < count && ends[whole] <= sent)
		remember(s, &lines[whole++]);
	if (err)
		goto failed;
	return whole;

failed:
	*error = err;
	disconnect(s);
	return whole;
}
