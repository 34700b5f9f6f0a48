/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* portwarden: trace TCP state changes and binds live. Wires the pipeline
 * together: load/attach -> ring -> decode -> annotate -> encode -> sink. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "annotate.h"
#include "clock.h"
#include "consumer.h"
#include "encode.h"
#include "filter.h"
#include "inventory.h"
#include "loader.h"
#include "options.h"
#include "policy.h"
#include "ports_cmd.h"
#include "privilege.h"
#include "record.h"
#include "report.h"
#include "sink.h"

#define PW_VERSION "0.1.0"
#define EXIT_USAGE 2

/* The only mutable globals: what the signal handlers ask of the main loop. */
static volatile sig_atomic_t exiting;
static volatile sig_atomic_t hangup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hangup = 1;
	else
		exiting = 1;
}

struct pw_pipeline {
	const struct pw_options *opts;
	struct pw_annotator *annotator;
	struct pw_policy *policy; /* NULL without --policy */
	struct pw_filter filter;  /* for the snapshot, which no kernel filter saw */
	struct pw_clock clock;
	struct pw_sink sink;
	char host[256];
	bool color;
	uint64_t seq;
	uint64_t socket_events;   /* state and bind records written */
	uint64_t snapshot_events; /* sockets found open at start-up */
	uint64_t alerts;
	uint64_t drops_reported;  /* kernel ring drops already reported in-band */
};

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	return vfprintf(stderr, fmt, args);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	(void)fmt;
	(void)args;
	return 0;
}

static int emit(struct pw_pipeline *p, struct pw_record *rec)
{
	struct pw_buf *out = pw_sink_buf(&p->sink);
	int err;

	rec->seq = ++p->seq;
	rec->host = p->host;
	if (p->opts->format == PW_FORMAT_JSON)
		err = pw_encode_json(out, rec);
	else
		err = pw_encode_text(out, rec, p->color);
	if (err)
		return err;
	pw_sink_commit_line(&p->sink);
	return p->sink.closed ? -EPIPE : 0;
}

/* A socket record, annotated: written (unless only alerts are wanted) and,
 * when the policy does not allow it, followed by its alert. */
static int publish(struct pw_pipeline *p, struct pw_record *rec)
{
	struct pw_policy_verdict verdict;
	struct pw_record alert;
	int err = 0;

	pw_annotate(p->annotator, rec);
	if (!p->opts->alerts_only)
		err = emit(p, rec);
	if (err || !p->policy || !pw_policy_check(p->policy, rec, &verdict))
		return err;
	pw_policy_alert_record(rec, &verdict, &alert);
	p->alerts++;
	return emit(p, &alert);
}

static int on_event(void *ctx, const struct pw_event *ev)
{
	struct pw_pipeline *p = ctx;
	struct pw_record rec = { 0 };

	rec.type = ev->type == PW_EVENT_STATE ? PW_REC_STATE : PW_REC_BIND;
	rec.time_ns = pw_clock_wall_ns(&p->clock, ev->ts_ns);
	rec.ev = ev;
	p->socket_events++;
	return publish(p, &rec);
}

static int on_snapshot_socket(void *ctx, const struct pw_event *ev)
{
	struct pw_pipeline *p = ctx;
	struct pw_record rec = { 0 };

	if (!pw_filter_matches(&p->filter, ev))
		return 0;
	rec.type = PW_REC_SNAPSHOT;
	rec.time_ns = pw_clock_wall_ns(&p->clock, ev->ts_ns);
	rec.ev = ev;
	p->snapshot_events++;
	return publish(p, &rec);
}

/* The sockets open before tracing began. Taken after the programs are
 * attached, so a socket opened during start-up is in the snapshot, in the
 * live events, or in both: never in neither. */
static int write_snapshot(struct pw_pipeline *p, char *err, size_t err_len)
{
	struct pw_inventory_config cfg = { .proc_root = "/proc", .family = p->opts->family };
	int code;

	code = pw_inventory_snapshot(&cfg, on_snapshot_socket, p, err, err_len);
	if (code == -EPIPE)
		return 0; /* the reader went away: the main loop stops */
	pw_sink_flush(&p->sink);
	return code;
}

/* SIGHUP: re-read the policy. A broken new policy keeps the old one. */
static void reload_policy(struct pw_pipeline *p)
{
	struct pw_policy *fresh = NULL;
	char err[512];

	if (!p->opts->policy_path)
		return;
	if (pw_policy_load(p->opts->policy_path, &fresh, err, sizeof(err))) {
		fprintf(stderr, "portwarden: policy reload failed, keeping the previous policy: %s\n",
			err);
		return;
	}
	pw_policy_free(p->policy);
	p->policy = fresh;
	fprintf(stderr, "portwarden: policy reloaded from %s (%zu rules)\n",
		p->opts->policy_path, pw_policy_rule_count(fresh));
}

static uint64_t now_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Report in-band every event the kernel could not queue since the last check. */
static int report_drops(struct pw_pipeline *p, const struct pw_loader *loader)
{
	uint64_t counters[PW_COUNTER_MAX];
	struct pw_record rec = { 0 };
	int err;

	err = pw_loader_counters(loader, counters);
	if (err)
		return err;
	if (counters[PW_COUNTER_DROPPED] <= p->drops_reported)
		return 0;
	rec.type = PW_REC_LOSS;
	rec.time_ns = now_wall_ns();
	rec.loss.lost = counters[PW_COUNTER_DROPPED] - p->drops_reported;
	rec.loss.reason = "ringbuf_full";
	p->drops_reported = counters[PW_COUNTER_DROPPED];
	return emit(p, &rec);
}

static void print_summary(const struct pw_pipeline *p, const struct pw_loader *loader,
			  const struct pw_consumer *consumer)
{
	uint64_t counters[PW_COUNTER_MAX] = { 0 };

	pw_loader_counters(loader, counters);
	fprintf(stderr,
		"portwarden: summary: %llu events written, %llu lost in the kernel (ring full), "
		"%llu lost in output, %llu filtered in the kernel, %llu malformed; "
		"%llu made in the kernel\n",
		(unsigned long long)p->socket_events,
		(unsigned long long)counters[PW_COUNTER_DROPPED],
		(unsigned long long)p->sink.lines_lost,
		(unsigned long long)counters[PW_COUNTER_FILTERED],
		(unsigned long long)consumer->malformed,
		(unsigned long long)(counters[PW_COUNTER_EVENTS] + counters[PW_COUNTER_DROPPED]));
}

static int install_signals(void)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL))
		return -errno;
	/* A reader that goes away (| head) is seen as EPIPE, not a silent death. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	struct pw_annotator_config annotate_cfg = { .proc_root = "/proc",
						    .services_path = "/etc/services" };
	struct pw_pipeline pipeline = { 0 };
	struct pw_consumer consumer = { 0 };
	struct pw_loader loader = { 0 };
	struct pw_options opts;
	char err[512];
	int code, exit_code = 1;

	/* Subcommands first: the open-port inventory and the audit report
	 * need no BPF programs. */
	if (argc > 1 && !strcmp(argv[1], "ports"))
		return pw_ports_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "report"))
		return pw_report_main(argc - 1, argv + 1);

	loader.cgroup_fd = -1;
	pw_sink_init(&pipeline.sink, STDOUT_FILENO);
	if (pw_options_parse(&opts, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "portwarden: %s\n", err);
		exit_code = EXIT_USAGE;
		goto cleanup;
	}
	if (opts.help) {
		pw_options_usage(stdout);
		exit_code = 0;
		goto cleanup;
	}
	if (opts.version) {
		printf("portwarden %s\n", PW_VERSION);
		exit_code = 0;
		goto cleanup;
	}
	pipeline.opts = &opts;
	pipeline.color = opts.color == PW_COLOR_ALWAYS ||
			 (opts.color == PW_COLOR_AUTO && isatty(STDOUT_FILENO));
	if (gethostname(pipeline.host, sizeof(pipeline.host) - 1))
		strcpy(pipeline.host, "unknown");

	code = install_signals();
	if (code) {
		fprintf(stderr, "portwarden: cannot install signal handlers: %s\n", strerror(-code));
		goto cleanup;
	}
	libbpf_set_print(opts.verbose ? libbpf_log : libbpf_quiet);

	if (opts.policy_path &&
	    pw_policy_load(opts.policy_path, &pipeline.policy, err, sizeof(err))) {
		fprintf(stderr, "portwarden: %s\n", err);
		goto cleanup;
	}
	if (pw_filter_init(&pipeline.filter, &opts, err, sizeof(err))) {
		fprintf(stderr, "portwarden: %s\n", err);
		exit_code = EXIT_USAGE;
		goto cleanup;
	}
	code = pw_annotator_new(&pipeline.annotator, &annotate_cfg);
	if (code) {
		fprintf(stderr, "portwarden: cannot set up annotation: %s\n", strerror(-code));
		goto cleanup;
	}
	code = pw_clock_sync(&pipeline.clock);
	if (code) {
		fprintf(stderr, "portwarden: cannot read clocks: %s\n", strerror(-code));
		goto cleanup;
	}
	code = pw_loader_start(&loader, &opts, err, sizeof(err));
	if (code) {
		fprintf(stderr, "portwarden: %s\n", err);
		goto cleanup;
	}
	code = pw_consumer_open(&consumer, pw_loader_ringbuf_fd(&loader), on_event, &pipeline);
	if (code) {
		fprintf(stderr, "portwarden: cannot open the ring buffer: %s\n", strerror(-code));
		goto cleanup;
	}
	if (opts.format == PW_FORMAT_TEXT) {
		pw_encode_text_header(pw_sink_buf(&pipeline.sink), pipeline.color);
		pw_sink_flush(&pipeline.sink);
	}
	/* The snapshot walks every process's /proc/PID/fd once, before the
	 * privilege drop: with only the capabilities kept for annotation the
	 * walk finds no owners (measured), and it is not needed again. */
	if (!opts.no_snapshot && write_snapshot(&pipeline, err, sizeof(err)))
		fprintf(stderr, "portwarden: no start-up snapshot: %s\n", err);
	code = pw_drop_privileges(opts.run_as_user, err, sizeof(err));
	if (code) {
		fprintf(stderr, "portwarden: %s\n", err);
		goto cleanup;
	}
	fprintf(stderr, "portwarden: tracing (state hook: %s, bind hook: %s%s, cookies: %s)\n",
		(opts.classes & (PW_CLASS_STATE | PW_CLASS_LISTEN)) ? pw_state_hook_name(loader.state_hook) : "off",
		(opts.classes & PW_CLASS_BIND) ? pw_bind_hook_name(loader.bind_hook) : "off",
		loader.binds_outside_syscall ? " + cgroup post_bind" : "",
		loader.cookies_at_create ? "at socket creation" : "when the kernel has one");

	while (!exiting && !pipeline.sink.closed) {
		if (hangup) {
			hangup = 0;
			reload_policy(&pipeline);
		}
		code = pw_consumer_poll(&consumer, (int)opts.flush_ms);
		if (code < 0 && code != -EPIPE) {
			fprintf(stderr, "portwarden: reading the ring buffer failed: %s\n",
				strerror(-code));
			goto cleanup;
		}
		report_drops(&pipeline, &loader);
		pw_sink_flush(&pipeline.sink);
		pw_sink_reader_gone(&pipeline.sink);
	}
	/* Stop the programs, then drain what the kernel queued before that and
	 * account for it: made == written + lost, exactly. */
	pw_loader_detach(&loader);
	if (!pipeline.sink.closed) {
		while ((code = pw_consumer_poll(&consumer, 0)) > 0)
			pw_sink_flush(&pipeline.sink);
		report_drops(&pipeline, &loader);
		pw_sink_flush(&pipeline.sink);
	}
	if (pipeline.sink.closed)
		fprintf(stderr, "portwarden: the output's reader went away; stopped tracing\n");
	print_summary(&pipeline, &loader, &consumer);
	exit_code = 0;

cleanup:
	pw_consumer_close(&consumer);
	pw_loader_stop(&loader);
	pw_annotator_free(pipeline.annotator);
	pw_policy_free(pipeline.policy);
	pw_sink_free(&pipeline.sink);
	return exit_code;
}
