/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Userspace pipeline benchmark: replays synthetic ring records through the
 * same steps the tracer runs for each event (decode, socket ledger, clock,
 * annotate, JSON encode, batched sink) into /dev/null, without the kernel's
 * noise.
 *
 *   replay [-n EVENTS] [-o FILE]
 *
 * Lines go to /dev/null unless -o names a file (to look at them). Prints one JSON object on stdout: events, CPU seconds of this process,
 * events per CPU second (per core: the pipeline is single-threaded) and ns
 * per event. The records mimic the TCP storm: ten state changes per
 * connection, owners that are live processes (so annotation hits its cache
 * as it does under a real storm), IPv4 and IPv6, and one bind in sixteen. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "annotate.h"
#include "clock.h"
#include "decode.h"
#include "encode.h"
#include "ledger.h"
#include "record.h"
#include "sink.h"

#define REPLAY_RECORDS 4096 /* distinct records, replayed round-robin */

struct transition {
	unsigned char old_state, new_state;
	bool server; /* the accepting side */
};

/* The ten state changes of one storm connection (client closes first). */
static const struct transition connection[] = {
	{ PW_TCP_CLOSE, PW_TCP_SYN_SENT, false },
	{ PW_TCP_LISTEN, PW_TCP_SYN_RECV, true },
	{ PW_TCP_SYN_SENT, PW_TCP_ESTABLISHED, false },
	{ PW_TCP_SYN_RECV, PW_TCP_ESTABLISHED, true },
	{ PW_TCP_ESTABLISHED, PW_TCP_FIN_WAIT1, false },
	{ PW_TCP_ESTABLISHED, PW_TCP_CLOSE_WAIT, true },
	{ PW_TCP_FIN_WAIT1, PW_TCP_FIN_WAIT2, false },
	{ PW_TCP_CLOSE_WAIT, PW_TCP_LAST_ACK, true },
	{ PW_TCP_LAST_ACK, PW_TCP_CLOSE, true },
	{ PW_TCP_FIN_WAIT2, PW_TCP_CLOSE, false },
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A live process's start time as the kernel records it (boot-based ns), so
 * the annotator's pid-reuse check accepts the synthetic owner. */
static uint64_t start_ns_of(unsigned pid)
{
	char path[64], stat[1024], *p;
	unsigned long long ticks = 0;
	size_t n;
	FILE *f;
	int field;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	p = strrchr(stat, ')'); /* comm may hold spaces and parentheses */
	if (!p)
		return 0;
	/* After ") " comes field 3 (state); starttime is field 22. */
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
		return 0;
	return ticks * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
}

static void fill_owner(struct pw_task *t, unsigned pid, const char *comm)
{
	t->pid = pid;
	t->tid = pid;
	t->ppid = (unsigned)getppid();
	t->uid = (unsigned)getuid();
	t->gid = (unsigned)getgid();
	t->start_ns = start_ns_of(pid);
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
}

static void fill_addrs(struct pw_event *ev, bool v6)
{
	ev->family = v6 ? AF_INET6 : AF_INET;
	if (v6) {
		ev->saddr[15] = 1; /* ::1 */
		ev->daddr[15] = 1;
	} else {
		ev->saddr[0] = 127;
		ev->saddr[3] = 1;
		ev->daddr[0] = 127;
		ev->daddr[3] = 1;
	}
}

/* Record i of the synthetic stream, as the kernel would have queued it. */
static void make_record(struct pw_event *ev, unsigned i, uint64_t base_ns)
{
	unsigned conn = i / 10, step = i % 10;
	const struct transition *t = &connection[step];
	bool v6 = conn & 1;

	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = base_ns + (uint64_t)i * 2500;
	ev->netns = 4026531840u;
	ev->protocol = 6;
	ev->sock_type = SOCK_STREAM;
	fill_addrs(ev, v6);
	if (i % 16 == 15) {
		ev->type = PW_EVENT_BIND;
		ev->hook = PW_HOOK_BIND_SYSCALL;
		ev->requested_port = 0;
		ev->sport = (uint16_t)(32768 + conn % 28000);
		ev->attribution = PW_ATTR_SYSCALL;
		ev->sock_cookie = 100000 + i;
		fill_owner(&ev->owner, (unsigned)getpid(), "storm");
		return;
	}
	ev->type = PW_EVENT_STATE;
	ev->hook = PW_HOOK_STATE_TP_BTF;
	ev->old_state = t->old_state;
	ev->new_state = t->new_state;
	ev->prev_state_ns = 20000 + step * 1000;
	ev->sock_cookie = 100000 + conn * 2 + t->server;
	ev->sport = t->server ? (uint16_t)(40000 + conn % 8) : (uint16_t)(32768 + conn % 28000);
	ev->dport = t->server ? (uint16_t)(32768 + conn % 28000) : (uint16_t)(40000 + conn % 8);
	if (!t->server && step == 0)
		ev->sport = 0; /* connect: the kernel has not picked the port yet */
	ev->direction = t->server ? PW_DIR_INBOUND : PW_DIR_OUTBOUND;
	ev->attribution = t->server ? PW_ATTR_LISTENER : PW_ATTR_SOCKET;
	if (t->new_state == PW_TCP_CLOSE)
		ev->duration_ns = 150000;
	/* The server is this process's parent, the client this process. */
	fill_owner(&ev->owner, t->server ? (unsigned)getppid() : (unsigned)getpid(),
		   t->server ? "storm-server" : "storm-client");
}

int main(int argc, char **argv)
{
	struct pw_annotator_config cfg = { .proc_root = "/proc", .services_path = "/etc/services" };
	static struct pw_event raw[REPLAY_RECORDS];
	static struct pw_json_cache json_cache; /* as each output keeps one */
	struct pw_annotator *annotator = NULL;
	struct pw_ledger *ledger = NULL;
	struct pw_clock clock;
	struct pw_sink sink;
	char host[256] = "bench";
	unsigned long long events = 200000, i, failed = 0;
	double cpu0, cpu1;
	uint64_t base, settle_ns;
	const char *out_path = "/dev/null";
	int fd, code, opt, exit_code = 1;

	while ((opt = getopt(argc, argv, "n:o:")) != -1) {
		if (opt == 'n') {
			events = strtoull(optarg, NULL, 10);
		} else if (opt == 'o') {
			out_path = optarg;
		} else {
			fprintf(stderr, "Usage: replay [-n EVENTS] [-o FILE]\n");
			return 2;
		}
	}
	fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror("replay: output");
		return 1;
	}
	pw_sink_init(&sink, fd);
	gethostname(host, sizeof(host) - 1);
	code = pw_clock_sync(&clock);
	if (!code)
		code = pw_annotator_new(&annotator, &cfg);
	if (!code)
		code = pw_ledger_new(&ledger);
	if (code) {
		fprintf(stderr, "replay: setup: %s\n", strerror(-code));
		goto cleanup;
	}
	base = mono_ns();
	for (i = 0; i < REPLAY_RECORDS; i++)
		make_record(&raw[i], (unsigned)i, base);
	settle_ns = base + 1000000000ull;

	cpu0 = cpu_seconds();
	for (i = 0; i < events; i++) {
		struct pw_record rec = { 0 };
		struct pw_event ev;

		/* The steps of the tracer's on_event() and emit(), in order. */
		if (pw_decode(&raw[i % REPLAY_RECORDS], sizeof(ev), &ev)) {
			failed++;
			continue;
		}
		/* Each round of the records is new connections, later. */
		ev.ts_ns += i / REPLAY_RECORDS * REPLAY_RECORDS * 2500;
		ev.sock_cookie += i / REPLAY_RECORDS * REPLAY_RECORDS;
		if (ev.type == PW_EVENT_STATE &&
		    pw_ledger_note(ledger, ev.sock_cookie, ev.old_state, ev.new_state, ev.ts_ns)) {
			failed++;
			continue;
		}
		if (ev.ts_ns >= settle_ns) { /* the tracer settles once a second */
			pw_ledger_settle(ledger, false);
			settle_ns += 1000000000ull;
		}
		rec.type = ev.type == PW_EVENT_STATE ? PW_REC_STATE : PW_REC_BIND;
		rec.time_ns = pw_clock_wall_ns(&clock, ev.ts_ns);
		rec.ev = &ev;
		pw_annotate(annotator, &rec);
		rec.seq = i + 1;
		rec.host = host;
		if (pw_encode_json_cached(&json_cache, pw_sink_buf(&sink), &rec)) {
			failed++;
			continue;
		}
		pw_sink_commit_line(&sink);
	}
	pw_sink_flush(&sink);
	pw_ledger_settle(ledger, true);
	cpu1 = cpu_seconds();

	printf("{\"events\":%llu,\"failed\":%llu,\"cpu_seconds\":%.6f,"
	       "\"events_per_cpu_second\":%.0f,\"ns_per_event\":%.1f}\n",
	       events, failed, cpu1 - cpu0, (double)events / (cpu1 - cpu0),
	       (cpu1 - cpu0) * 1e9 / (double)events);
	exit_code = failed ? 1 : 0;

cleanup:
	pw_annotator_free(annotator);
	pw_ledger_free(ledger);
	pw_sink_free(&sink);
	close(fd);
	return exit_code;
}
