/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `portwarden ports`: inventory -> annotate -> (policy) -> table or JSON
 * lines. Needs no BPF: sock_diag and /proc are enough (root to see every
 * process's descriptors). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "addr.h"
#include "annotate.h"
#include "buf.h"
#include "encode.h"
#include "inventory.h"
#include "names.h"
#include "policy.h"
#include "ports_cmd.h"
#include "sink.h"

#define EXIT_ERROR 1
#define EXIT_USAGE 2
#define EXIT_NOT_ALLOWED 3

enum column {
	COL_PROTO,
	COL_STATE,
	COL_LOCAL,
	COL_REMOTE,
	COL_SCOPE,
	COL_CATEGORY,
	COL_SERVICE,
	COL_PID,
	COL_COMM,
	COL_USER,
	COL_EXE,
	COL_CONTAINER,
	COL_POLICY,
	COL_NETNS,
	COL_COUNT,
};

static const char *const column_titles[COL_COUNT] = {
	"PROTO", "STATE", "LOCAL", "REMOTE", "SCOPE", "CATEGORY", "SERVICE",
	"PID",   "COMM",  "USER",  "EXE",    "CONTAINER", "POLICY",  "NETNS",
};

struct ports_options {
	bool all;
	bool json;
	bool alerts_only;
	bool all_netns;
	const char *policy_path;
	uint16_t family;
};

struct row {
	char *cells[COL_COUNT];
};

struct ports_run {
	const struct ports_options *opts;
	struct pw_annotator *annotator;
	struct pw_policy *policy;
	struct pw_sink sink;
	char host[256];
	uint64_t now_ns;
	uint64_t seq;
	uint64_t alerts;
	struct row *rows;
	size_t n_rows, cap_rows;
	struct pw_buf reasons; /* alert sentences printed under the table */
};

static void usage(FILE *out)
{
	fputs("Usage: portwarden ports [OPTION]...\n"
	      "The ports open right now: every listening TCP socket and bound UDP socket,\n"
	      "with its owner (pid, command, user, executable, container), bind scope,\n"
	      "IANA category and service.\n"
	      "\n"
	      "  -a, --all                every socket: established connections and other TCP\n"
	      "                           states, connected UDP sockets\n"
	      "  -j, --json               JSON lines (type \"snapshot\", action \"existing\")\n"
	      "      --policy FILE        check each socket against an allowlist (docs/policy.md);\n"
	      "                           exit status 3 when one is not allowed\n"
	      "      --alerts-only        with --policy: only the sockets that are not allowed\n"
	      "  -N, --all-netns          every network namespace a process is in (containers),\n"
	      "                           not only this one\n"
	      "  -4, --ipv4               IPv4 only\n"
	      "  -6, --ipv6               IPv6 only\n"
	      "  -h, --help               this help\n"
	      "\n"
	      "Run as root to see the owners of every process's sockets.\n",
	      out);
}

static int parse_args(struct ports_options *opts, int argc, char **argv, char *err, size_t len)
{
	static const struct option long_options[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "policy", required_argument, NULL, 'P' },
		{ "alerts-only", no_argument, NULL, 'A' },
		{ "all-netns", no_argument, NULL, 'N' },
		{ "ipv4", no_argument, NULL, '4' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(opts, 0, sizeof(*opts));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ajN46h", long_options, NULL)) != -1) {
		switch (c) {
		case 'a':
			opts->all = true;
			break;
		case 'j':
			opts->json = true;
			break;
		case 'P':
			opts->policy_path = optarg;
			break;
		case 'A':
			opts->alerts_only = true;
			break;
		case 'N':
			opts->all_netns = true;
			break;
		case '4':
		case '6':
			if (opts->family) {
				snprintf(err, len, "-4 and -6 exclude each other");
				return -EINVAL;
			}
			opts->family = c == '4' ? AF_INET : AF_INET6;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			snprintf(err, len, "%s: needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt)
				snprintf(err, len, "-%c: unknown option (see ports --help)", optopt);
			else
				snprintf(err, len, "%s: unknown option (see ports --help)",
					 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, len, "'%s': unexpected argument (see ports --help)", argv[optind]);
		return -EINVAL;
	}
	if (opts->alerts_only && !opts->policy_path) {
		snprintf(err, len, "--alerts-only needs --policy FILE");
		return -EINVAL;
	}
	return 0;
}

/* Terminal-safe copy: control characters become '?'. */
static char *cell(const char *text)
{
	char *copy = strdup(text && *text ? text : "-");
	char *p;

	if (!copy)
		return NULL;
	for (p = copy; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return copy;
}

__attribute__((format(printf, 1, 2))) static char *cellf(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return cell(text);
}

static char *endpoint_cell(uint16_t family, const uint8_t addr[16], uint16_t port)
{
	char ip[PW_ADDR_STRLEN];

	if (pw_addr_format(family, addr, ip, sizeof(ip)))
		return cell("?");
	return cellf(family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static int add_row(struct ports_run *run, const struct pw_record *rec,
		   const struct pw_policy_verdict *verdict, bool alert)
{
	const struct pw_event *ev = rec->ev;
	char comm[PW_COMM_LEN];
	struct row *row;
	size_t i;

	if (run->n_rows == run->cap_rows) {
		size_t cap = run->cap_rows ? run->cap_rows * 2 : 64;
		struct row *rows = realloc(run->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		run->rows = rows;
		run->cap_rows = cap;
	}
	row = &run->rows[run->n_rows];
	memset(row, 0, sizeof(*row));
	memcpy(comm, ev->owner.comm, PW_COMM_LEN);
	comm[PW_COMM_LEN - 1] = '\0';
	row->cells[COL_PROTO] = cellf("%s%s", pw_transport_name(ev->protocol),
				      ev->family == AF_INET6 ? "6" : "");
	row->cells[COL_STATE] = cell(ev->protocol == IPPROTO_TCP ? pw_tcp_state_name(ev->new_state)
				     : ev->dport ? "CONNECTED" : "UNCONN");
	row->cells[COL_LOCAL] = endpoint_cell(ev->family, ev->saddr, ev->sport);
	row->cells[COL_REMOTE] = ev->dport ? endpoint_cell(ev->family, ev->daddr, ev->dport) : cell("-");
	row->cells[COL_SCOPE] = cell(pw_addr_scope(ev->family, ev->saddr));
	row->cells[COL_CATEGORY] = cell(pw_port_category(ev->sport));
	row->cells[COL_SERVICE] = cell(rec->local_service);
	row->cells[COL_PID] = ev->owner.pid ? cellf("%u", ev->owner.pid) : cell("-");
	row->cells[COL_COMM] = cell(ev->owner.pid ? comm : NULL);
	row->cells[COL_USER] = rec->proc.user ? cell(rec->proc.user)
				: ev->owner.pid ? cellf("%u", ev->owner.uid) : cell("-");
	row->cells[COL_EXE] = cell(rec->proc.exe);
	row->cells[COL_CONTAINER] = rec->proc.container_id ? cellf("%.12s", rec->proc.container_id)
							    : cell("-");
	row->cells[COL_POLICY] = alert ? cellf("ALERT %s", verdict->rule) : cell("allowed");
	row->cells[COL_NETNS] = cellf("%u", ev->netns);
	run->n_rows++;
	for (i = 0; i < COL_COUNT; i++)
		if (!row->cells[i])
			return -ENOMEM;
	return 0;
}

static int emit_json(struct ports_run *run, struct pw_record *rec)
{
	int err;

	rec->seq = ++run->seq;
	err = pw_encode_json(pw_sink_buf(&run->sink), rec);
	if (err)
		return err;
	pw_sink_commit_line(&run->sink);
	return 0;
}

static int on_socket(void *ctx, const struct pw_event *ev)
{
	struct ports_run *run = ctx;
	struct pw_policy_verdict verdict;
	struct pw_record rec = { 0 };
	bool alert = false;
	int err = 0;

	rec.type = PW_REC_SNAPSHOT;
	rec.time_ns = run->now_ns;
	rec.host = run->host;
	rec.ev = ev;
	pw_annotate(run->annotator, &rec);
	if (run->policy) {
		alert = pw_policy_check(run->policy, &rec, &verdict);
		run->alerts += alert;
	}
	if (run->opts->alerts_only && !alert)
		return 0;
	if (!run->opts->json) {
		err = add_row(run, &rec, &verdict, alert);
		if (!err && alert)
			err = pw_buf_printf(&run->reasons, "alert: %s\n", verdict.reason);
		return err;
	}
	if (!run->opts->alerts_only)
		err = emit_json(run, &rec);
	if (!err && alert) {
		struct pw_record alert_rec;

		pw_policy_alert_record(&rec, &verdict, &alert_rec);
		err = emit_json(run, &alert_rec);
	}
	return err;
}

static bool column_shown(const struct ports_run *run, enum column col)
{
	if (col == COL_STATE || col == COL_REMOTE)
		return run->opts->all;
	if (col == COL_POLICY)
		return run->policy != NULL;
	if (col == COL_NETNS)
		return run->opts->all_netns;
	return true;
}

/* Columns as wide as their widest cell, two spaces apart; the last one
 * (EXE, CONTAINER or POLICY) is not padded. */
static void print_table(struct ports_run *run)
{
	struct pw_buf *out = pw_sink_buf(&run->sink);
	size_t width[COL_COUNT], r;
	int c, last = COL_COUNT - 1;

	while (!column_shown(run, (enum column)last))
		last--;
	for (c = 0; c < COL_COUNT; c++) {
		width[c] = strlen(column_titles[c]);
		for (r = 0; r < run->n_rows; r++)
			if (strlen(run->rows[r].cells[c]) > width[c])
				width[c] = strlen(run->rows[r].cells[c]);
	}
	for (r = 0; r <= run->n_rows; r++) {
		for (c = 0; c <= last; c++) {
			const char *text = r ? run->rows[r - 1].cells[c] : column_titles[c];

			if (!column_shown(run, (enum column)c))
				continue;
			if (c == last)
				pw_buf_printf(out, "%s\n", text);
			else
				pw_buf_printf(out, "%-*s  ", (int)width[c], text);
		}
		pw_sink_commit_line(&run->sink);
	}
	if (run->reasons.len)
		pw_buf_append(out, run->reasons.data, run->reasons.len);
}

static uint64_t wall_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int pw_ports_main(int argc, char **argv)
{
	struct pw_annotator_config annotate_cfg = { .proc_root = "/proc",
						    .services_path = "/etc/services" };
	struct pw_inventory_config inventory_cfg = { .proc_root = "/proc" };
	struct ports_options opts;
	struct ports_run run = { 0 };
	char err[1024];
	size_t r, c;
	int code, exit_code = EXIT_ERROR;

	pw_sink_init(&run.sink, STDOUT_FILENO);
	pw_buf_init(&run.reasons);
	code = parse_args(&opts, argc, argv, err, sizeof(err));
	if (code) {
		if (code < 0)
			fprintf(stderr, "portwarden ports: %s\n", err);
		exit_code = code < 0 ? EXIT_USAGE : 0;
		goto cleanup;
	}
	run.opts = &opts;
	if (opts.policy_path) {
		code = pw_policy_load(opts.policy_path, &run.policy, err, sizeof(err));
		if (code) {
			fprintf(stderr, "portwarden ports: %s\n", err);
			goto cleanup;
		}
	}
	code = pw_annotator_new(&run.annotator, &annotate_cfg);
	if (code) {
		fprintf(stderr, "portwarden ports: cannot set up annotation: %s\n", strerror(-code));
		goto cleanup;
	}
	if (gethostname(run.host, sizeof(run.host) - 1))
		strcpy(run.host, "unknown");
	run.now_ns = wall_now_ns();
	inventory_cfg.all_states = opts.all;
	inventory_cfg.family = opts.family;
	inventory_cfg.all_netns = opts.all_netns;
	code = pw_inventory_snapshot(&inventory_cfg, on_socket, &run, err, sizeof(err));
	if (code) {
		if (err[0])
			fprintf(stderr, "portwarden ports: %s\n", err);
		else
			fprintf(stderr, "portwarden ports: %s\n", strerror(-code));
		goto cleanup;
	}
	if (err[0]) /* namespaces left out: the listing is incomplete, say so */
		fprintf(stderr, "portwarden ports: warning: %s\n", err);
	if (!opts.json)
		print_table(&run);
	code = pw_sink_flush(&run.sink);
	if (code && code != -EPIPE) {
		fprintf(stderr, "portwarden ports: writing the output failed: %s\n", strerror(-code));
		goto cleanup;
	}
	if (run.reasons.failed || run.sink.lines_lost) {
		fprintf(stderr, "portwarden ports: out of memory writing the output\n");
		goto cleanup;
	}
	exit_code = run.alerts ? EXIT_NOT_ALLOWED : 0;

cleanup:
	for (r = 0; r < run.n_rows; r++)
		for (c = 0; c < COL_COUNT; c++)
			free(run.rows[r].cells[c]);
	free(run.rows);
	pw_buf_free(&run.reasons);
	pw_policy_free(run.policy);
	pw_annotator_free(run.annotator);
	pw_sink_free(&run.sink);
	return exit_code;
}
