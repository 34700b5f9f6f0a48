/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Load generator for the benchmark: a loopback TCP connect/accept/close
 * storm with client and server in separate processes, and a bind storm.
 * Prints one JSON object on stdout describing what was done and how fast.
 *
 *   storm tcp  [-4|-6] [-n CONNECTIONS] [-r PER_SECOND] [-k LISTENERS]
 *   storm bind [-4|-6] [--tcp|--udp] [-n BINDS] [-r PER_SECOND] [-p PORT]
 *
 * -r 0 (the default) runs at saturation; otherwise the client paces itself
 * on absolute deadlines. In the TCP storm the client always closes first,
 * so every connection goes through the same ten state changes (see
 * docs/performance.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STORM_MAX_LISTENERS 64
#define STORM_BACKLOG 4096
#define STORM_TIMEOUT_S 120
#define STORM_MAX_RETRIES 1000

struct storm_config {
	bool bind_mode;
	int family;        /* AF_INET or AF_INET6 */
	int sock_type;     /* bind storm: SOCK_STREAM or SOCK_DGRAM */
	long count;        /* connections or binds */
	double rate;       /* per second, 0 = saturation */
	int listeners;     /* TCP storm: listening ports, spread to keep 4-tuples free */
	unsigned port;     /* bind storm: 0 = ephemeral */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep until start + i / rate (no-op at saturation). */
static void pace(const struct storm_config *cfg, const struct timespec *start, long i)
{
	struct timespec due;
	double offset;

	if (cfg->rate <= 0)
		return;
	offset = (double)i / cfg->rate;
	due.tv_sec = start->tv_sec + (time_t)offset;
	due.tv_nsec = start->tv_nsec + (long)((offset - (double)(time_t)offset) * 1e9);
	if (due.tv_nsec >= 1000000000L) {
		due.tv_sec++;
		due.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
		;
}

static socklen_t loopback_addr(int family, unsigned port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons((uint16_t)port);
		return sizeof(*sin6);
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons((uint16_t)port);
	return sizeof(*sin);
}

static unsigned bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* ---- TCP storm: server ---- */

static int open_listeners(const struct storm_config *cfg, int *fds, unsigned *ports)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i;

	for (i = 0; i < cfg->listeners; i++) {
		fds[i] = socket(cfg->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fds[i] < 0)
			return -errno;
		len = loopback_addr(cfg->family, 0, &ss);
		if (bind(fds[i], (struct sockaddr *)&ss, len) || listen(fds[i], STORM_BACKLOG))
			return -errno;
		ports[i] = bound_port(fds[i]);
	}
	return 0;
}

/* Closes a connection once the client's FIN has arrived (read gives 0), so
 * the client is always the side that closes first. Returns 1 when the
 * connection is finished, 0 when it must wait, -1 on error. */
static int finish_if_eof(int fd, long *errors)
{
	char byte;
	ssize_t n = read(fd, &byte, 1);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n != 0)
		(*errors)++; /* data or reset: not the expected storm */
	close(fd);
	return 1;
}

/* Accept cfg->count connections, close each after the client did, exit. */
static int run_server(const struct storm_config *cfg, int ready_fd)
{
	int listen_fds[STORM_MAX_LISTENERS], epfd, i, n, fd;
	unsigned ports[STORM_MAX_LISTENERS];
	struct epoll_event ev, events[256];
	long done = 0, errors = 0;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || open_listeners(cfg, listen_fds, ports)) {
		perror("storm: server");
		return 1;
	}
	for (i = 0; i < cfg->listeners; i++) {
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)listen_fds[i] | (1ull << 32);
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fds[i], &ev)) {
			perror("storm: epoll_ctl");
			return 1;
		}
	}
	if (write(ready_fd, ports, sizeof(ports[0]) * (size_t)cfg->listeners) < 0)
		return 1;
	close(ready_fd);

	while (done < cfg->count) {
		n = epoll_wait(epfd, events, 256, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("storm: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			bool is_listener = events[i].data.u64 >> 32;

			fd = (int)(uint32_t)events[i].data.u64;
			if (!is_listener) {
				done += finish_if_eof(fd, &errors) > 0;
				continue;
			}
			for (;;) {
				int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (conn < 0)
					break;
				if (finish_if_eof(conn, &errors)) {
					done++;
					continue;
				}
				ev.events = EPOLLIN | EPOLLRDHUP;
				ev.data.u64 = (uint32_t)conn;
				if (epoll_ctl(epfd, EPOLL_CTL_ADD, conn, &ev)) {
					perror("storm: epoll_ctl");
					return 1;
				}
			}
		}
	}
	for (i = 0; i < cfg->listeners; i++)
		close(listen_fds[i]);
	close(epfd);
	if (errors)
		fprintf(stderr, "storm: server saw %ld connections end unexpectedly\n", errors);
	return 0;
}

/* ---- TCP storm: client ---- */

/* Connect and close cfg->count times, spread over the listeners. A refused
 * or failed connect is retried with a fresh socket so the server always sees
 * exactly cfg->count connections. Exit status 0, or 1 after too many errors. */
static int run_client(const struct storm_config *cfg, const unsigned *ports, int report_fd)
{
	struct sockaddr_storage ss[STORM_MAX_LISTENERS];
	socklen_t len[STORM_MAX_LISTENERS];
	struct timespec start;
	long i, retries = 0;
	int k, fd;

	for (k = 0; k < cfg->listeners; k++)
		len[k] = loopback_addr(cfg->family, ports[k], &ss[k]);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < cfg->count; i++) {
		k = (int)(i % cfg->listeners);
		pace(cfg, &start, i);
		for (;;) {
			fd = socket(cfg->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				perror("storm: socket");
				return 1;
			}
			if (!connect(fd, (struct sockaddr *)&ss[k], len[k]))
				break;
			close(fd);
			if (++retries > STORM_MAX_RETRIES) {
				perror("storm: connect");
				return 1;
			}
			usleep(1000);
		}
		close(fd);
	}
	if (write(report_fd, &retries, sizeof(retries)) < 0)
		return 1;
	return 0;
}

static int wait_child(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "storm: %s failed\n", what);
		return -1;
	}
	return 0;
}

static int tcp_storm(const struct storm_config *cfg)
{
	unsigned ports[STORM_MAX_LISTENERS];
	int ready[2], report[2];
	pid_t server, client;
	long retries = 0;
	double t0, t1;
	ssize_t got;

	if (pipe(ready) || pipe(report)) {
		perror("storm: pipe");
		return 1;
	}
	server = fork();
	if (server == 0) {
		alarm(STORM_TIMEOUT_S); /* alarms are not inherited */
		close(ready[0]);
		_exit(run_server(cfg, ready[1]));
	}
	close(ready[1]);
	got = read(ready[0], ports, sizeof(ports[0]) * (size_t)cfg->listeners);
	if (got != (ssize_t)(sizeof(ports[0]) * (size_t)cfg->listeners)) {
		fprintf(stderr, "storm: server did not start\n");
		return 1;
	}
	t0 = now_s();
	client = fork();
	if (client == 0) {
		alarm(STORM_TIMEOUT_S);
		close(report[0]);
		_exit(run_client(cfg, ports, report[1]));
	}
	close(report[1]);
	if (wait_child(server, "server"))
		return 1;
	t1 = now_s();
	if (read(report[0], &retries, sizeof(retries)) != sizeof(retries))
		retries = -1;
	if (wait_child(client, "client"))
		return 1;
	printf("{\"storm\":\"tcp\",\"family\":\"%s\",\"connections\":%ld,\"listeners\":%d,"
	       "\"rate_target\":%.0f,\"seconds\":%.6f,\"per_second\":%.1f,\"connect_retries\":%ld}\n",
	       cfg->family == AF_INET6 ? "ipv6" : "ipv4", cfg->count, cfg->listeners, cfg->rate,
	       t1 - t0, (double)cfg->count / (t1 - t0), retries);
	return 0;
}

/* ---- bind storm ---- */

static int bind_storm(const struct storm_config *cfg)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback_addr(cfg->family, cfg->port, &ss);
	struct timespec start;
	long i, failed = 0;
	double t0, t1;
	int fd, one = 1;

	clock_gettime(CLOCK_MONOTONIC, &start);
	t0 = now_s();
	for (i = 0; i < cfg->count; i++) {
		pace(cfg, &start, i);
		fd = socket(cfg->family, cfg->sock_type | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			perror("storm: socket");
			return 1;
		}
		if (cfg->port && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) {
			perror("storm: setsockopt");
			return 1;
		}
		if (bind(fd, (struct sockaddr *)&ss, len))
			failed++;
		close(fd);
	}
	t1 = now_s();
	printf("{\"storm\":\"bind\",\"family\":\"%s\",\"transport\":\"%s\",\"port\":%u,"
	       "\"binds\":%ld,\"failed\":%ld,\"rate_target\":%.0f,\"seconds\":%.6f,"
	       "\"per_second\":%.1f}\n",
	       cfg->family == AF_INET6 ? "ipv6" : "ipv4",
	       cfg->sock_type == SOCK_DGRAM ? "udp" : "tcp", cfg->port, cfg->count, failed,
	       cfg->rate, t1 - t0, (double)cfg->count / (t1 - t0));
	return 0;
}

static void usage(FILE *out)
{
	fputs("Usage: storm tcp  [-4|-6] [-n CONNECTIONS] [-r PER_SECOND] [-k LISTENERS]\n"
	      "       storm bind [-4|-6] [--tcp|--udp] [-n BINDS] [-r PER_SECOND] [-p PORT]\n"
	      "-r 0 (default) runs at saturation. Prints one JSON line on stdout.\n",
	      out);
}

static int parse(struct storm_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tcp", no_argument, NULL, 'T' },  { "udp", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	if (argc < 2)
		return -1;
	if (!strcmp(argv[1], "bind"))
		cfg->bind_mode = true;
	else if (strcmp(argv[1], "tcp"))
		return -1;
	optind = 2;
	while ((c = getopt_long(argc, argv, "46n:r:k:p:h", opts, NULL)) != -1) {
		switch (c) {
		case '4': cfg->family = AF_INET; break;
		case '6': cfg->family = AF_INET6; break;
		case 'T': cfg->sock_type = SOCK_STREAM; break;
		case 'U': cfg->sock_type = SOCK_DGRAM; break;
		case 'n': cfg->count = strtol(optarg, NULL, 10); break;
		case 'r': cfg->rate = strtod(optarg, NULL); break;
		case 'k': cfg->listeners = atoi(optarg); break;
		case 'p': cfg->port = (unsigned)atoi(optarg); break;
		default: return -1;
		}
	}
	if (cfg->count < 1 || cfg->rate < 0 || cfg->listeners < 1 ||
	    cfg->listeners > STORM_MAX_LISTENERS || cfg->port > 65535 || optind != argc)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct storm_config cfg = {
		.family = AF_INET, .sock_type = SOCK_STREAM, .count = 10000, .listeners = 8,
	};

	if (parse(&cfg, argc, argv)) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	alarm(STORM_TIMEOUT_S); /* a stuck storm must not hang the benchmark */
	return cfg.bind_mode ? bind_storm(&cfg) : tcp_storm(&cfg);
}
