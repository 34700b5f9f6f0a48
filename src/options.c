/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Parsing and validating the command line into struct pw_options. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "options.h"
#include "output_spec.h"
#include "portwarden.h"

enum long_only_option {
	OPT_FORMAT = 0x100,
	OPT_OUTPUT,
	OPT_STATES_ONLY,
	OPT_BINDS_ONLY,
	OPT_STATE_HOOK,
	OPT_BIND_HOOK,
	OPT_RINGBUF_SIZE,
	OPT_FLUSH_MS,
	OPT_COLOR,
	OPT_NO_COLOR,
	OPT_UID,
	OPT_TCP,
	OPT_UDP,
	OPT_LISTEN_ONLY,
	OPT_CGROUP,
	OPT_USER,
	OPT_POLICY,
	OPT_ALERTS_ONLY,
	OPT_NO_SNAPSHOT,
	OPT_STATS_INTERVAL,
	OPT_SOCKET_CHECK,
	OPT_PRETEND_MISSING,
	OPT_PRETEND_SKIPPED,
	OPT_PRETEND_TWICE,
	OPT_PRETEND_UNDELIVERED,
};

static const struct option long_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "pid", required_argument, NULL, 'p' },
	{ "port", required_argument, NULL, 'P' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "states-only", no_argument, NULL, OPT_STATES_ONLY },
	{ "binds-only", no_argument, NULL, OPT_BINDS_ONLY },
	{ "listen-only", no_argument, NULL, OPT_LISTEN_ONLY },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "tcp", no_argument, NULL, OPT_TCP },
	{ "udp", no_argument, NULL, OPT_UDP },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "user", required_argument, NULL, OPT_USER },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "alerts-only", no_argument, NULL, OPT_ALERTS_ONLY },
	{ "no-snapshot", no_argument, NULL, OPT_NO_SNAPSHOT },
	{ "state-hook", required_argument, NULL, OPT_STATE_HOOK },
	{ "bind-hook", required_argument, NULL, OPT_BIND_HOOK },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF_SIZE },
	{ "flush-ms", required_argument, NULL, OPT_FLUSH_MS },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "socket-check", required_argument, NULL, OPT_SOCKET_CHECK },
	/* Hidden (not in --help): for the tests, see docs/security.md. */
	{ "pretend-missing", required_argument, NULL, OPT_PRETEND_MISSING },
	{ "pretend-skipped", required_argument, NULL, OPT_PRETEND_SKIPPED },
	{ "pretend-twice", required_argument, NULL, OPT_PRETEND_TWICE },
	{ "pretend-undelivered", required_argument, NULL, OPT_PRETEND_UNDELIVERED },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void pw_options_usage(FILE *out)
{
	fputs("Usage: portwarden [OPTION]...\n"
	      "       portwarden ports [--all] [--json] [--policy FILE]   open ports now (--help)\n"
	      "       portwarden report [--json|--html] FILE...           audit summary of a capture\n"
	      "Trace TCP state changes and bind() calls live, attributed to the socket's owner.\n"
	      "Starts with the sockets already open (type snapshot), then the live events.\n"
	      "\n"
	      "Output:\n"
	      "  -j, --json               JSON lines (same as --format json)\n"
	      "      --format FMT         text (default) or json\n"
	      "      --output SPEC        where events go, repeatable (docs/formats.md): - (stdout),\n"
	      "                           file:PATH, udp://HOST:PORT, tcp://HOST:PORT (syslog), then\n"
	      "                           ,format=text|json|ecs|ocsf ,max-size=10M ,keep=5 (files)\n"
	      "                           ,facility=daemon|local0..7 (syslog) ,queue=LINES\n"
	      "      --color WHEN         auto (default: only on a terminal), always, never\n"
	      "      --no-color           same as --color never\n"
	      "Filters (applied in the kernel):\n"
	      "  -p, --pid PID[,PID...]   only sockets owned by these processes\n"
	      "  -P, --port PORT[,...]    only sockets with this local, remote or requested port;\n"
	      "                           ranges allowed: --port 8000-8999,443\n"
	      "      --uid UID[,UID...]   only sockets owned by these users\n"
	      "      --cgroup PATH        only sockets owned by processes in this cgroup v2 directory\n"
	      "      --tcp, --udp         only this transport (bind events; state events are TCP)\n"
	      "  -4, --ipv4               IPv4 only\n"
	      "  -6, --ipv6               IPv6 only\n"
	      "      --states-only        TCP state changes only\n"
	      "      --binds-only         bind() calls only\n"
	      "      --listen-only        listen, listen_close and bind only: a low-rate shadow-IT watch\n"
	      "      --no-snapshot        do not start with the sockets already open (type snapshot)\n"
	      "Policy (docs/policy.md):\n"
	      "      --policy FILE        alert on every listen, UDP bind and (if the policy has\n"
	      "                           connect rules) outgoing connect it does not allow, also\n"
	      "                           for sockets open at start-up; SIGHUP reloads FILE\n"
	      "      --alerts-only        write alert records only (and loss and stats lines)\n"
	      "Tuning:\n"
	      "      --ringbuf-size BYTES ring buffer size, a power of two >= 4096 (K/M suffix; default 8M)\n"
	      "      --flush-ms MS        longest a quiet event waits before it is written (default 10)\n"
	      "      --stats-interval S   a stats record (totals so far, a heartbeat) every S seconds\n"
	      "                           (default 60; 0: only the final one at exit)\n"
	      "      --socket-check S     compare the TCP sockets seen with the kernel's socket table\n"
	      "                           every S seconds, so state changes the kernel made but never\n"
	      "                           delivered are reported lost (default 10; 0: off)\n"
	      "      --state-hook HOOK    auto (default), tp_btf or tracepoint\n"
	      "      --bind-hook HOOK     auto (default), fexit or syscall\n"
	      "      --user NAME          once attached, run as this user (capabilities are dropped\n"
	      "                           either way: see docs/security.md)\n"
	      "  -v, --verbose            say which hooks are active; show libbpf's log\n"
	      "  -h, --help               this help\n"
	      "  -V, --version            version\n"
	      "\n"
	      "Needs root (CAP_BPF and CAP_PERFMON). SIGINT or SIGTERM stops tracing after\n"
	      "writing every event still queued; a summary goes to stderr.\n"
	      "\n"
	      "portwarden ports [--all] [--json]: the ports open right now (see ports --help).\n",
	      out);
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A whole decimal number in [min, max], nothing else. */
static int parse_number(const char *text, unsigned long long min, unsigned long long max,
			unsigned long long *out)
{
	char *end;
	unsigned long long value;

	if (!text[0] || text[0] == '-' || text[0] == '+' || text[0] == ' ')
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || *end || value < min || value > max)
		return -EINVAL;
	*out = value;
	return 0;
}

/* Comma-separated numbers appended to a list of uint32_t. */
static int parse_list(const char *option, const char *text, unsigned long long min,
		      unsigned long long max, uint32_t *list, size_t *count, char *err, size_t err_len)
{
	char copy[1024];
	char *item, *save = NULL;
	unsigned long long value;

	if (strlen(text) >= sizeof(copy))
		return fail(err, err_len, "%s: list too long", option);
	strcpy(copy, text);
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (parse_number(item, min, max, &value))
			return fail(err, err_len, "%s: '%s' is not a number from %llu to %llu", option,
				    item, min, max);
		if (*count >= PW_MAX_FILTER)
			return fail(err, err_len, "%s: at most %d values", option, PW_MAX_FILTER);
		((uint32_t *)list)[(*count)++] = (uint32_t)value;
	}
	if (!*count)
		return fail(err, err_len, "%s: no value given", option);
	return 0;
}

/* Comma-separated ports or FIRST-LAST ranges appended to opts->ports. */
static int parse_ports(const char *text, struct pw_options *opts, char *err, size_t err_len)
{
	char copy[1024];
	char *item, *dash, *save = NULL;
	unsigned long long first, last;

	if (strlen(text) >= sizeof(copy))
		return fail(err, err_len, "--port: list too long");
	strcpy(copy, text);
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		dash = strchr(item, '-');
		if (dash && dash != item)
			*dash = '\0';
		if (parse_number(item, 1, 65535, &first))
			return fail(err, err_len, "--port: '%s' is not a number from 1 to 65535", item);
		last = first;
		if (dash && dash != item && parse_number(dash + 1, first, 65535, &last))
			return fail(err, err_len, "--port: '%s-%s' is not a range FIRST-LAST within 1-65535",
				    item, dash + 1);
		if (opts->n_ports >= PW_MAX_FILTER)
			return fail(err, err_len, "--port: at most %d values", PW_MAX_FILTER);
		opts->ports[opts->n_ports].first = (uint16_t)first;
		opts->ports[opts->n_ports].last = (uint16_t)last;
		opts->n_ports++;
	}
	if (!opts->n_ports)
		return fail(err, err_len, "--port: no value given");
	return 0;
}

/* The --pretend-missing words. */
static const struct {
	const char *name;
	uint32_t bit;
} feature_names[] = {
	{ "btf", PW_FEATURE_BTF },
	{ "tp_btf", PW_FEATURE_TP_BTF },
	{ "tracepoint", PW_FEATURE_TRACEPOINT },
	{ "fexit", PW_FEATURE_FEXIT },
	{ "post_bind", PW_FEATURE_POST_BIND },
	{ "sock_create", PW_FEATURE_SOCK_CREATE },
};

/* "tp_btf,fexit" -> the feature bits; 0, or -EINVAL naming the bad word. */
static int parse_features(const char *text, uint32_t *out, char *err, size_t err_len)
{
	const char *word = text;

	*out = 0;
	while (*word) {
		size_t len = strcspn(word, ","), i;

		for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
			if (strlen(feature_names[i].name) == len &&
			    !strncmp(word, feature_names[i].name, len))
				break;
		if (i == sizeof(feature_names) / sizeof(feature_names[0]))
			return fail(err, err_len,
				    "--pretend-missing: '%.*s' is not one of btf, tp_btf, tracepoint, "
				    "fexit, post_bind, sock_create",
				    (int)len, word);
		*out |= feature_names[i].bit;
		word += len;
		if (*word == ',')
			word++;
	}
	return 0;
}

/* A byte size with an optional K or M suffix. */
static int parse_size(const char *text, uint32_t *out)
{
	char digits[32];
	size_t len = strlen(text);
	unsigned long long value, scale = 1;

	if (!len || len >= sizeof(digits))
		return -EINVAL;
	strcpy(digits, text);
	switch (digits[len - 1]) {
	case 'k': case 'K': scale = 1ull << 10; digits[len - 1] = '\0'; break;
	case 'm': case 'M': scale = 1ull << 20; digits[len - 1] = '\0'; break;
	}
	if (parse_number(digits, 1, 1ull << 31, &value) || value * scale > (1ull << 31))
		return -EINVAL;
	*out = (uint32_t)(value * scale);
	return 0;
}

const char *pw_state_hook_name(enum pw_state_hook hook)
{
	switch (hook) {
	case PW_STATE_HOOK_TP_BTF: return "tp_btf";
	case PW_STATE_HOOK_TRACEPOINT: return "tracepoint";
	default: return "auto";
	}
}

const char *pw_bind_hook_name(enum pw_bind_hook hook)
{
	switch (hook) {
	case PW_BIND_HOOK_FEXIT: return "fexit";
	case PW_BIND_HOOK_SYSCALL: return "syscall";
	default: return "auto";
	}
}

int pw_options_parse(struct pw_options *opts, int argc, char **argv, char *err, size_t err_len)
{
	unsigned long long value;
	int c, err_code;

	memset(opts, 0, sizeof(*opts));
	opts->classes = PW_CLASS_STATE | PW_CLASS_BIND;
	opts->ringbuf_bytes = PW_DEFAULT_RINGBUF_BYTES;
	opts->flush_ms = PW_DEFAULT_FLUSH_MS;
	opts->stats_interval_s = PW_DEFAULT_STATS_INTERVAL_S;
	opts->socket_check_s = PW_DEFAULT_SOCKET_CHECK_S;
	err[0] = '\0';
	optind = 0; /* reset getopt so the parser can run more than once (tests) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jp:P:46vhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'j':
			opts->format = PW_FORMAT_JSON;
			break;
		case OPT_OUTPUT: {
			struct pw_output_spec spec;

			if (opts->n_outputs == PW_MAX_OUTPUT_SPECS)
				return fail(err, err_len, "--output: at most %d outputs", PW_MAX_OUTPUT_SPECS);
			if (pw_output_spec_parse(optarg, &spec, err, err_len))
				return -EINVAL;
			opts->outputs[opts->n_outputs++] = optarg;
			break;
		}
		case OPT_FORMAT:
			if (!strcmp(optarg, "json"))
				opts->format = PW_FORMAT_JSON;
			else if (!strcmp(optarg, "text"))
				opts->format = PW_FORMAT_TEXT;
			else
				return fail(err, err_len, "--format: '%s' is not text or json", optarg);
			break;
		case 'p':
			err_code = parse_list("--pid", optarg, 1, 4194304, opts->pids, &opts->n_pids, err,
					      err_len);
			if (err_code)
				return err_code;
			break;
		case 'P':
			err_code = parse_ports(optarg, opts, err, err_len);
			if (err_code)
				return err_code;
			break;
		case OPT_UID:
			err_code = parse_list("--uid", optarg, 0, UINT32_MAX - 1, opts->uids, &opts->n_uids,
					      err, err_len);
			if (err_code)
				return err_code;
			break;
		case OPT_TCP:
		case OPT_UDP:
			if (opts->protocol)
				return fail(err, err_len, "--tcp and --udp exclude each other");
			opts->protocol = c == OPT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
			break;
		case OPT_CGROUP:
			opts->cgroup_path = optarg;
			break;
		case OPT_POLICY:
			if (!optarg[0])
				return fail(err, err_len, "--policy: empty file name");
			opts->policy_path = optarg;
			break;
		case OPT_ALERTS_ONLY:
			opts->alerts_only = true;
			break;
		case OPT_NO_SNAPSHOT:
			opts->no_snapshot = true;
			break;
		case OPT_USER:
			if (!optarg[0])
				return fail(err, err_len, "--user: empty user name");
			opts->run_as_user = optarg;
			break;
		case '4':
		case '6':
			if (opts->family)
				return fail(err, err_len, "-4 and -6 exclude each other");
			opts->family = c == '4' ? AF_INET : AF_INET6;
			break;
		case OPT_STATES_ONLY:
		case OPT_BINDS_ONLY:
		case OPT_LISTEN_ONLY:
			if (opts->classes != (PW_CLASS_STATE | PW_CLASS_BIND))
				return fail(err, err_len,
					    "--states-only, --binds-only and --listen-only exclude each other");
			opts->classes = c == OPT_STATES_ONLY  ? PW_CLASS_STATE
					: c == OPT_BINDS_ONLY ? PW_CLASS_BIND
							      : PW_CLASS_LISTEN | PW_CLASS_BIND;
			break;
		case OPT_STATE_HOOK:
			if (!strcmp(optarg, "auto"))
				opts->state_hook = PW_STATE_HOOK_AUTO;
			else if (!strcmp(optarg, "tp_btf"))
				opts->state_hook = PW_STATE_HOOK_TP_BTF;
			else if (!strcmp(optarg, "tracepoint"))
				opts->state_hook = PW_STATE_HOOK_TRACEPOINT;
			else
				return fail(err, err_len,
					    "--state-hook: '%s' is not auto, tp_btf or tracepoint", optarg);
			break;
		case OPT_BIND_HOOK:
			if (!strcmp(optarg, "auto"))
				opts->bind_hook = PW_BIND_HOOK_AUTO;
			else if (!strcmp(optarg, "fexit"))
				opts->bind_hook = PW_BIND_HOOK_FEXIT;
			else if (!strcmp(optarg, "syscall"))
				opts->bind_hook = PW_BIND_HOOK_SYSCALL;
			else
				return fail(err, err_len, "--bind-hook: '%s' is not auto, fexit or syscall",
					    optarg);
			break;
		case OPT_RINGBUF_SIZE:
			if (parse_size(optarg, &opts->ringbuf_bytes) || opts->ringbuf_bytes < 4096 ||
			    (opts->ringbuf_bytes & (opts->ringbuf_bytes - 1)))
				return fail(err, err_len,
					    "--ringbuf-size: '%s' is not a power of two from 4096 to 2G",
					    optarg);
			break;
		case OPT_FLUSH_MS:
			if (parse_number(optarg, 1, 1000, &value))
				return fail(err, err_len, "--flush-ms: '%s' is not a number from 1 to 1000",
					    optarg);
			opts->flush_ms = (uint32_t)value;
			break;
		case OPT_STATS_INTERVAL:
			if (parse_number(optarg, 0, 86400, &value))
				return fail(err, err_len,
					    "--stats-interval: '%s' is not a number of seconds from 0 to 86400",
					    optarg);
			opts->stats_interval_s = (uint32_t)value;
			break;
		case OPT_SOCKET_CHECK:
			if (parse_number(optarg, 0, 86400, &value))
				return fail(err, err_len,
					    "--socket-check: '%s' is not a number of seconds from 0 to 86400",
					    optarg);
			opts->socket_check_s = (uint32_t)value;
			break;
		case OPT_PRETEND_SKIPPED:
		case OPT_PRETEND_TWICE:
		case OPT_PRETEND_UNDELIVERED:
			if (parse_number(optarg, 1, 1000000, &value))
				return fail(err, err_len, "--%s: '%s' is not a number from 1 to 1000000",
					    c == OPT_PRETEND_SKIPPED ? "pretend-skipped"
					    : c == OPT_PRETEND_TWICE ? "pretend-twice"
								     : "pretend-undelivered",
					    optarg);
			if (c == OPT_PRETEND_SKIPPED)
				opts->pretend_skipped_every = (uint32_t)value;
			else if (c == OPT_PRETEND_TWICE)
				opts->pretend_twice_every = (uint32_t)value;
			else
				opts->pretend_undelivered_every = (uint32_t)value;
			break;
		case OPT_PRETEND_MISSING:
			err_code = parse_features(optarg, &opts->pretend_missing, err, err_len);
			if (err_code)
				return err_code;
			break;
		case OPT_COLOR:
			if (!strcmp(optarg, "auto"))
				opts->color = PW_COLOR_AUTO;
			else if (!strcmp(optarg, "always"))
				opts->color = PW_COLOR_ALWAYS;
			else if (!strcmp(optarg, "never"))
				opts->color = PW_COLOR_NEVER;
			else
				return fail(err, err_len, "--color: '%s' is not auto, always or never",
					    optarg);
			break;
		case OPT_NO_COLOR:
			opts->color = PW_COLOR_NEVER;
			break;
		case 'v':
			opts->verbose++;
			break;
		case 'h':
			opts->help = true;
			break;
		case 'V':
			opts->version = true;
			break;
		case ':':
			return fail(err, err_len, "%s: needs a value", argv[optind - 1]);
		default:
			if (optopt)
				return fail(err, err_len, "-%c: unknown option (see --help)", optopt);
			return fail(err, err_len, "%s: unknown option (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(err, err_len, "'%s': unexpected argument (see --help)", argv[optind]);
	if (opts->alerts_only && !opts->policy_path)
		return fail(err, err_len, "--alerts-only needs --policy FILE");
	return 0;
}
