/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* portwarden: trace TCP state changes and binds live. Wires the pipeline
 * together: load/attach -> ring -> decode -> annotate -> policy -> outputs
 * (each encodes and writes in its own format and thread). */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include "annotate.h"
#include "clock.h"
#include "consumer.h"
#include "encode.h"
#include "filter.h"
#include "inventory.h"
#include "ledger.h"
#include "loader.h"
#include "options.h"
#include "output.h"
#include "policy.h"
#include "ports_cmd.h"
#include "privilege.h"
#include "record.h"
#include "recovered.h"
#include "report.h"

#ifndef CAP_BPF
#define CAP_BPF 39 /* linux/capability.h of Linux 5.8 */
#endif

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
	struct pw_outputs *outputs;
	char host[256];
	uint64_t socket_events;   /* state and bind records written */
	uint64_t snapshot_events; /* sockets found open at start-up */
	uint64_t alerts;
	uint64_t drops_reported;  /* kernel ring drops already reported in-band */
	uint64_t skips_reported;  /* program runs the kernel skipped, reported in-band */
	uint64_t duplicates;      /* recovered state changes reported twice, dropped */
	uint64_t undelivered_reported; /* changes the socket check found missing, reported */
	uint64_t skips_checked_ns; /* when the programs' skip counters were last read (monotonic) */
	uint64_t sockets_checked_ns; /* when the kernel's socket table was last compared */
	uint64_t pretend_seen;    /* state changes read, for the hidden --pretend-undelivered */
	struct pw_ledger *ledger; /* NULL when the socket check is off */
	uint32_t own_netns;       /* the ledger follows the sockets of this namespace */
	uint64_t stats_due_ns;    /* when the next periodic stats record is due */
	uint64_t trimmed_ns;      /* when free heap memory was last given back (monotonic) */
	struct pw_recent_states recent; /* to recognise a recovered change reported twice */
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

/* Hand one record to every output; each numbers and encodes it itself. */
static int emit(struct pw_pipeline *p, struct pw_record *rec)
{
	rec->host = p->host;
	return pw_outputs_emit(p->outputs, rec);
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

/* The socket check follows every TCP socket of our namespace whose changes
 * all come through: not when filters pick events by owner (process, user,
 * cgroup), which could keep some changes of a socket and drop others. */
static bool socket_check_fits(const struct pw_options *opts)
{
	return opts->socket_check_s && (opts->classes & PW_CLASS_STATE) && !opts->n_pids &&
	       !opts->n_uids && !opts->cgroup_path;
}

static void stop_socket_check(struct pw_pipeline *p, const char *why)
{
	fprintf(stderr, "portwarden: %s; the socket check is off from now on\n", why);
	pw_ledger_free(p->ledger);
	p->ledger = NULL;
}

/* A TCP state change of a socket of our namespace, for the ledger. */
static void follow_socket(struct pw_pipeline *p, const struct pw_event *ev)
{
	if (!p->ledger || ev->type != PW_EVENT_STATE || ev->protocol != IPPROTO_TCP ||
	    ev->netns != p->own_netns)
		return;
	if (pw_ledger_note(p->ledger, ev->sock_cookie, ev->old_state, ev->new_state, ev->ts_ns))
		stop_socket_check(p, "out of memory following sockets");
}

/* For the tests: drop every Nth state change as if the kernel had not
 * delivered it. */
static bool pretend_undelivered(struct pw_pipeline *p, const struct pw_event *ev)
{
	uint32_t every = p->opts->pretend_undelivered_every;

	return every && ev->type == PW_EVENT_STATE && ++p->pretend_seen % every == 0;
}

static int on_event(void *ctx, const struct pw_event *ev)
{
	struct pw_pipeline *p = ctx;
	struct pw_record rec = { 0 };

	if (pretend_undelivered(p, ev))
		return 0;
	if (pw_recovered_duplicate(&p->recent, ev)) {
		p->duplicates++;
		return 0;
	}
	follow_socket(p, ev);
	rec.type = ev->type == PW_EVENT_STATE ? PW_REC_STATE : PW_REC_BIND;
	rec.time_ns = pw_clock_wall_ns(&p->clock, ev->ts_ns);
	rec.ev = ev;
	p->socket_events++;
	return publish(p, &rec);
}

/* Sockets found open at start-up, kept until the outputs run. */
struct pw_snapshot {
	const struct pw_filter *filter;
	struct pw_event *events;
	size_t len, cap;
};

static int keep_snapshot_socket(void *ctx, const struct pw_event *ev)
{
	struct pw_snapshot *snap = ctx;
	struct pw_event *grown;

	if (!pw_filter_matches(snap->filter, ev))
		return 0;
	if (snap->len == snap->cap) {
		size_t cap = snap->cap ? snap->cap * 2 : 256;

		grown = realloc(snap->events, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		snap->events = grown;
		snap->cap = cap;
	}
	snap->events[snap->len++] = *ev;
	return 0;
}

/* The sockets open before tracing began. Taken after the programs are
 * attached, so a socket opened during start-up is in the snapshot, in the
 * live events, or in both: never in neither. It walks every process's
 * /proc/PID/fd, so it runs before the privilege drop (with only the
 * capabilities kept for annotation the walk finds no owners: measured);
 * the records are written once the outputs run. */
static int take_snapshot(struct pw_pipeline *p, struct pw_snapshot *snap, char *err,
			 size_t err_len)
{
	/* Every network namespace a process is in: containers' listeners too. */
	struct pw_inventory_config cfg = {
		.proc_root = "/proc", .family = p->opts->family, .all_netns = true
	};
	int code;

	snap->filter = &p->filter;
	code = pw_inventory_snapshot(&cfg, keep_snapshot_socket, snap, err, err_len);
	if (!code && err[0] && p->opts->verbose)
		fprintf(stderr, "portwarden: snapshot: %s\n", err);
	return code;
}

static int write_snapshot(struct pw_pipeline *p, const struct pw_snapshot *snap)
{
	struct pw_record rec;
	int err = 0;

	for (size_t i = 0; i < snap->len && !err; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.type = PW_REC_SNAPSHOT;
		rec.time_ns = pw_clock_wall_ns(&p->clock, snap->events[i].ts_ns);
		rec.ev = &snap->events[i];
		p->snapshot_events++;
		err = publish(p, &rec);
	}
	pw_outputs_flush(p->outputs);
	return err;
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

/* Whether interval_ns has passed since *last_ns (pw_monotonic_ns), or
 * force; if so, *last_ns becomes now. For the loop's periodic chores. */
static bool time_for(uint64_t *last_ns, uint64_t interval_ns, bool force)
{
	uint64_t now = pw_monotonic_ns();

	if (!force && now - *last_ns < interval_ns)
		return false;
	*last_ns = now;
	return true;
}

static bool once_a_second(uint64_t *last_ns, bool force)
{
	return time_for(last_ns, 1000000000ull, force);
}

static int emit_loss(struct pw_pipeline *p, uint64_t lost, const char *reason)
{
	struct pw_record rec = { 0 };

	rec.type = PW_REC_LOSS;
	rec.time_ns = now_wall_ns();
	rec.loss.lost = lost;
	rec.loss.reason = reason;
	return emit(p, &rec);
}

/* Give free heap pages back to the system: start-up leaves some 11 MB
 * free in the heap (the kernel's BTF, parsed to load the programs; the
 * snapshot), and an output queue that filled up during a burst leaves its
 * lines' memory free once it drains. At most once a second unless now;
 * the loop asks only when a poll found nothing, so a storm is not slowed
 * by pages given back and faulted in again. */
static void give_back_free_memory(struct pw_pipeline *p, bool now)
{
#ifdef __GLIBC__
	if (once_a_second(&p->trimmed_ns, now))
		malloc_trim(0);
#else
	(void)p;
	(void)now;
#endif
}

/* Skips the backup program made good, from its PW_COUNTER_RECOVERED: a
 * duplicate it made was counted as a recovery without a skip behind it. */
static uint64_t skips_made_good(const struct pw_pipeline *p, uint64_t recovered_counter)
{
	return recovered_counter - p->duplicates;
}

static int note_kernel_socket(void *ctx, uint64_t sock_cookie, uint8_t state)
{
	pw_ledger_check_socket(ctx, sock_cookie, state);
	return 0;
}

/* Begin a socket check: the kernel's TCP sockets into the ledger, those in
 * TIME_WAIT too when final or when the ledger wants them. False, with a
 * warning, when the table could not be read (the check is then not ended:
 * nothing is concluded from it). */
static bool read_socket_table(struct pw_pipeline *p, bool final)
{
	uint32_t states = final || pw_ledger_check_wants_time_wait(p->ledger)
				  ? PW_LEDGER_CHECK_STATES_TW
				  : PW_LEDGER_CHECK_STATES;
	char err[256];

	pw_ledger_check_begin(p->ledger);
	if (pw_inventory_tcp_states(states, note_kernel_socket, p->ledger, err, sizeof(err))) {
		fprintf(stderr, "portwarden: socket check skipped: %s\n", err);
		return false;
	}
	return true;
}

/* The changes the ledger found missing beyond those already reported lost
 * for a reason the kernel counts (ring full, skipped runs): ones the kernel
 * made, delivered to no program and counted nowhere. */
static int report_undelivered(struct pw_pipeline *p)
{
	uint64_t found = pw_ledger_undelivered(p->ledger),
		 explained = p->drops_reported + p->skips_reported,
		 undelivered = found > explained ? found - explained : 0;
	int err;

	if (undelivered <= p->undelivered_reported)
		return 0;
	err = emit_loss(p, undelivered - p->undelivered_reported, "kernel_undelivered");
	p->undelivered_reported = undelivered;
	return err;
}

/* Report in-band every event the kernel could not queue since the last call. */
static int report_ring_drops(struct pw_pipeline *p, const struct pw_loader *loader)
{
	uint64_t dropped;
	int err = pw_loader_counter(loader, PW_COUNTER_DROPPED, &dropped);

	if (err || dropped <= p->drops_reported)
		return err;
	err = emit_loss(p, dropped - p->drops_reported, "ringbuf_full");
	p->drops_reported = dropped;
	return err;
}

/* Report every program run the kernel skipped (a tracing program that would
 * nest on the same CPU is not run: its event was never made) that the backup
 * did not make good. */
static int report_skips(struct pw_pipeline *p, const struct pw_loader *loader)
{
	uint64_t skipped, recovered;
	int err;

	/* Recoveries before skips: see pw_loader_skipped. */
	err = pw_loader_counter(loader, PW_COUNTER_RECOVERED, &recovered) ?:
	      pw_loader_skipped(loader, &skipped);
	if (err)
		return err;
	recovered = skips_made_good(p, recovered);
	skipped = skipped > recovered ? skipped - recovered : 0;
	if (skipped <= p->skips_reported)
		return 0;
	err = emit_loss(p, skipped - p->skips_reported, "kernel_skipped");
	p->skips_reported = skipped;
	return err;
}

/* The socket ledger's chores: settle its breaks, compare with the kernel's
 * socket table every --socket-check seconds (at shutdown main makes the
 * final comparison around the detach), report what it found missing. */
static int check_sockets(struct pw_pipeline *p, bool final)
{
	if (!p->ledger)
		return 0;
	pw_ledger_settle(p->ledger, final);
	if (!final &&
	    time_for(&p->sockets_checked_ns, p->opts->socket_check_s * 1000000000ull, false) &&
	    read_socket_table(p, false))
		pw_ledger_check_end(p->ledger, false);
	return report_undelivered(p);
}

/* Report in-band what was lost: ring drops at once; skipped runs and the
 * socket ledger's findings, which cost syscalls, at most once a second and
 * always when final (shutdown). */
static int report_drops(struct pw_pipeline *p, const struct pw_loader *loader, bool final)
{
	int err = report_ring_drops(p, loader);

	if (err || !once_a_second(&p->skips_checked_ns, final))
		return err;
	return report_skips(p, loader) ?: check_sockets(p, final);
}

/* A stats record: the totals so far. Periodic ones are a heartbeat a SIEM
 * can watch for (a host that goes quiet has a dead tracer, not an idle one);
 * the final one closes the stream with the same totals as the summary. */
static int emit_stats(struct pw_pipeline *p, const struct pw_loader *loader)
{
	uint64_t counters[PW_COUNTER_MAX];
	struct pw_record rec = { 0 };
	int err;

	err = pw_loader_counters(loader, counters);
	if (err)
		return err;
	rec.type = PW_REC_STATS;
	rec.time_ns = now_wall_ns();
	rec.stats.events = p->socket_events;
	rec.stats.lost = p->drops_reported + p->skips_reported + p->undelivered_reported +
			 pw_outputs_lost(p->outputs);
	rec.stats.filtered = counters[PW_COUNTER_FILTERED];
	return emit(p, &rec);
}

static int maybe_emit_stats(struct pw_pipeline *p, const struct pw_loader *loader)
{
	uint64_t now = now_wall_ns();

	if (!p->opts->stats_interval_s || now < p->stats_due_ns)
		return 0;
	p->stats_due_ns = now + p->opts->stats_interval_s * 1000000000ull;
	return emit_stats(p, loader);
}

static void print_summary(const struct pw_pipeline *p, const struct pw_loader *loader,
			  const struct pw_consumer *consumer)
{
	uint64_t counters[PW_COUNTER_MAX] = { 0 };

	pw_loader_counters(loader, counters);
	fprintf(stderr,
		"portwarden: summary: %llu events written, %llu lost in the kernel (ring full), "
		"%llu lost in output, %llu filtered in the kernel, %llu malformed; "
		"%llu made in the kernel; %llu program runs skipped by the kernel (nested), "
		"%llu more skipped and run by the backup program, %llu reported twice and dropped; "
		"%llu made by the kernel but delivered to no program (socket check%s)\n",
		(unsigned long long)p->socket_events,
		(unsigned long long)counters[PW_COUNTER_DROPPED],
		(unsigned long long)pw_outputs_lost(p->outputs),
		(unsigned long long)counters[PW_COUNTER_FILTERED],
		(unsigned long long)consumer->malformed,
		(unsigned long long)(counters[PW_COUNTER_EVENTS] + counters[PW_COUNTER_DROPPED]),
		(unsigned long long)p->skips_reported,
		(unsigned long long)skips_made_good(p, counters[PW_COUNTER_RECOVERED]),
		(unsigned long long)p->duplicates, (unsigned long long)p->undelivered_reported,
		p->ledger ? "" : ": off");
}

/* What the running tracer still does with its BPF objects: read the
 * counters and the programs' skip counts through the fds it holds. */
static int read_bpf_objects(void *ctx)
{
	uint64_t counters[PW_COUNTER_MAX], skipped;
	const struct pw_loader *loader = ctx;

	return pw_loader_counters(loader, counters) ?: pw_loader_skipped(loader, &skipped);
}

/* The kept capabilities, plus CAP_BPF where this kernel wants it even for
 * reading maps through a held fd (before Linux 5.19, while the sysctl
 * kernel.unprivileged_bpf_disabled is set): found by trying, not assumed. */
static uint64_t capabilities_to_keep(const struct pw_loader *loader, const struct pw_options *opts)
{
	uint64_t keep = pw_kept_capabilities();
	int works = pw_works_with_capabilities(keep, read_bpf_objects, (void *)loader);

	if (works == 1)
		return keep;
	if (opts->verbose && works == 0)
		fprintf(stderr, "portwarden: this kernel refuses BPF map reads without CAP_BPF; "
				"keeping CAP_BPF\n");
	else if (opts->verbose)
		fprintf(stderr, "portwarden: cannot test which capabilities reading BPF maps "
				"needs (%s); keeping CAP_BPF\n", strerror(-works));
	return keep | (1ull << CAP_BPF);
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
	struct pw_outputs_config outputs_cfg = { 0 };
	struct pw_pipeline pipeline = { 0 };
	struct pw_snapshot snapshot = { 0 };
	struct pw_consumer consumer = { 0 };
	struct pw_loader loader = { 0 };
	struct pw_options opts;
	char err[512];
	int code, exit_code = 1;
	bool final_socket_check;

	/* Subcommands first: the open-port inventory and the audit report
	 * need no BPF programs. */
	if (argc > 1 && !strcmp(argv[1], "ports"))
		return pw_ports_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "report"))
		return pw_report_main(argc - 1, argv + 1);

	loader.cgroup_fd = -1;
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
	if (gethostname(pipeline.host, sizeof(pipeline.host) - 1))
		strcpy(pipeline.host, "unknown");
	outputs_cfg.specs = opts.outputs;
	outputs_cfg.n_specs = opts.n_outputs;
	outputs_cfg.stdout_format =
		opts.format == PW_FORMAT_JSON ? PW_OUTPUT_FORMAT_JSON : PW_OUTPUT_FORMAT_TEXT;
	outputs_cfg.color = opts.color == PW_COLOR_ALWAYS ||
			    (opts.color == PW_COLOR_AUTO && isatty(STDOUT_FILENO));
	outputs_cfg.host = pipeline.host;

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
	/* Files are opened now, as root: an unwritable path fails before any
	 * BPF program is loaded. */
	if (pw_outputs_open(&pipeline.outputs, &outputs_cfg, err, sizeof(err))) {
		fprintf(stderr, "portwarden: %s\n", err);
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
	if (socket_check_fits(&opts)) {
		code = pw_ledger_new(&pipeline.ledger);
		if (code) {
			fprintf(stderr, "portwarden: cannot set up the socket check: %s\n",
				strerror(-code));
			goto cleanup;
		}
		pipeline.own_netns = pw_inventory_own_netns("/proc");
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
	if (!opts.no_snapshot && take_snapshot(&pipeline, &snapshot, err, sizeof(err)))
		fprintf(stderr, "portwarden: no start-up snapshot: %s\n", err);
	code = pw_drop_privileges(opts.run_as_user, capabilities_to_keep(&loader, &opts), err,
				  sizeof(err));
	if (code) {
		fprintf(stderr, "portwarden: %s\n", err);
		goto cleanup;
	}
	/* Capabilities are per thread: the writers start after the drop. */
	if (pw_outputs_start(pipeline.outputs, err, sizeof(err))) {
		fprintf(stderr, "portwarden: %s\n", err);
		goto cleanup;
	}
	write_snapshot(&pipeline, &snapshot);
	give_back_free_memory(&pipeline, true);
	fprintf(stderr, "portwarden: tracing (state hook: %s, bind hook: %s%s, cookies: %s)\n",
		(opts.classes & (PW_CLASS_STATE | PW_CLASS_LISTEN)) ? pw_state_hook_name(loader.state_hook) : "off",
		(opts.classes & PW_CLASS_BIND) ? pw_bind_hook_name(loader.bind_hook) : "off",
		loader.binds_outside_syscall ? " + cgroup post_bind" : "",
		loader.cookies_at_create ? "at socket creation" : "when the kernel has one");

	pipeline.stats_due_ns = now_wall_ns() + opts.stats_interval_s * 1000000000ull;
	while (!exiting && !pw_outputs_stdout_closed(pipeline.outputs)) {
		if (hangup) {
			hangup = 0;
			reload_policy(&pipeline);
			pw_outputs_reopen(pipeline.outputs);
		}
		code = pw_consumer_poll(&consumer, (int)opts.flush_ms);
		if (code < 0 && code != -EPIPE) {
			fprintf(stderr, "portwarden: reading the ring buffer failed: %s\n",
				strerror(-code));
			goto cleanup;
		}
		report_drops(&pipeline, &loader, false);
		maybe_emit_stats(&pipeline, &loader);
		pw_outputs_flush(pipeline.outputs);
		if (code == 0) /* a quiet moment: nothing came in since the last poll */
			give_back_free_memory(&pipeline, false);
	}
	/* The final socket check reads the kernel's table while the programs
	 * still run, so every change made before it is among those drained. */
	final_socket_check = pipeline.ledger && read_socket_table(&pipeline, true);
	/* Stop the programs, then drain what the kernel queued before that and
	 * account for it: made == written + lost, exactly. */
	pw_loader_detach(&loader);
	if (!pw_outputs_stdout_closed(pipeline.outputs)) {
		while ((code = pw_consumer_poll(&consumer, 0)) > 0)
			pw_outputs_flush(pipeline.outputs);
		if (final_socket_check && pipeline.ledger)
			pw_ledger_check_end(pipeline.ledger, true);
		report_drops(&pipeline, &loader, true);
		emit_stats(&pipeline, &loader);
		pw_outputs_flush(pipeline.outputs);
	}
	if (pw_outputs_stdout_closed(pipeline.outputs))
		fprintf(stderr, "portwarden: the output's reader went away; stopped tracing\n");
	/* Every queue written out (bounded wait) before the totals are told. */
	pw_outputs_close(pipeline.outputs);
	print_summary(&pipeline, &loader, &consumer);
	if (opts.n_outputs)
		pw_outputs_summary(pipeline.outputs, stderr);
	exit_code = 0;

cleanup:
	pw_consumer_close(&consumer);
	pw_loader_stop(&loader);
	pw_annotator_free(pipeline.annotator);
	pw_ledger_free(pipeline.ledger);
	pw_policy_free(pipeline.policy);
	pw_outputs_free(pipeline.outputs);
	free(snapshot.events);
	return exit_code;
}
