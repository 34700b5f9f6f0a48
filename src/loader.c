/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Opens the skeleton, probes which hooks load and attach on this kernel, sets
 * the filters, loads and attaches. A hook that fails in auto mode is a
 * fallback, not an error; a forced hook that fails is an error. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgroup.h"
#include "loader.h"
#include "portwarden.skel.h"

/* The programs behind each hook choice, by their names in portwarden.bpf.c. */
/* The backup runs the state changes the kernel skips in the first (see
 * state_guards in portwarden.bpf.c); it must be attached after it. */
static const char *const state_tp_btf_progs[] = { "state_tp_btf", "state_tp_btf_backup", NULL };
static const char *const state_tracepoint_progs[] = { "state_tracepoint", NULL };
static const char *const bind_fexit_progs[] = { "inet_bind_exit", "inet6_bind_exit", NULL };
static const char *const bind_syscall_progs[] = { "bind_enter", "bind_exit", NULL };
static const char *const accept_progs[] = { "accept4_exit", "accept_exit", NULL };
/* Needs bpf_get_current_task_btf (5.11+), as the tp_btf state hook does. */
static const char *const accept_btf_progs[] = { "accept4_exit_btf", "accept_exit_btf", NULL };
static const char *const cookie_progs[] = { "sock_create", NULL };
static const char *const post_bind_progs[] = { "post_bind4", "post_bind6", NULL };

__attribute__((format(printf, 3, 4))) static void say(char *err, size_t err_len, const char *fmt,
						       ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

static bool in_list(const char *name, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

/* Where cgroup v2 is mounted: the root the sock_create program attaches to. */
static int open_cgroup2_root(void)
{
	char path[PATH_MAX];
	int fd, err;

	err = pw_cgroup2_mount(path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Plain tracepoints are found through tracefs, which many systems (and
 * containers) do not mount by default. Mount it where libbpf looks. */
static void ensure_tracefs(int verbose)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) || !stat("/sys/kernel/debug/tracing/events", &st))
		return;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		if (verbose)
			fprintf(stderr, "portwarden: cannot mount tracefs on /sys/kernel/tracing: %s\n",
				strerror(errno));
		return;
	}
	if (verbose)
		fprintf(stderr, "portwarden: mounted tracefs on /sys/kernel/tracing\n");
}

static struct bpf_link *attach_one(struct bpf_program *prog, int cgroup_fd)
{
	if (bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SOCK)
		return bpf_program__attach_cgroup(prog, cgroup_fd);
	return bpf_program__attach(prog);
}

static bool is_backup(const struct bpf_program *prog)
{
	const char *name = bpf_program__name(prog), *suffix = "_backup";
	size_t len = strlen(name), suffix_len = strlen(suffix);

	return len > suffix_len && !strcmp(name + len - suffix_len, suffix);
}

/* Load and attach exactly the programs named in the lists, into skel.
 * Returns 0 or a negative errno; links are stored in the loader. */
static int load_and_attach(struct pw_loader *loader, struct portwarden_bpf *skel,
			   const char *const *lists[], const char **failed)
{
	struct bpf_program *prog;
	struct bpf_link *link;
	int i, pass, err;

	bpf_object__for_each_program(prog, skel->obj) {
		bool wanted = false;

		for (i = 0; lists[i]; i++)
			wanted |= in_list(bpf_program__name(prog), lists[i]);
		bpf_program__set_autoload(prog, wanted);
	}
	err = portwarden_bpf__load(skel);
	if (err) {
		*failed = "load";
		return err;
	}
	/* Programs on one hook run in the order they were attached: backups
	 * (named *_backup) go last. */
	for (pass = 0; pass < 2; pass++) {
		bpf_object__for_each_program(prog, skel->obj) {
			if (!bpf_program__autoload(prog) || is_backup(prog) != (pass == 1))
				continue;
			link = attach_one(prog, loader->cgroup_fd);
			if (!link) {
				*failed = bpf_program__name(prog);
				return -errno;
			}
			if (loader->n_links == PW_MAX_LINKS) {
				bpf_link__destroy(link);
				return -E2BIG;
			}
			loader->links[loader->n_links++] = link;
		}
	}
	return 0;
}

static void detach_all(struct pw_loader *loader)
{
	while (loader->n_links > 0)
		bpf_link__destroy(loader->links[--loader->n_links]);
}

/* Does this set of programs load and attach here? A throw-away skeleton with
 * small maps answers without touching the real one. */
static int probe(struct pw_loader *loader, const char *const *progs)
{
	const char *const *lists[] = { progs, NULL };
	struct portwarden_bpf *skel;
	const char *failed = NULL;
	int err;

	skel = portwarden_bpf__open();
	if (!skel)
		return -errno;
	bpf_map__set_max_entries(skel->maps.events, 4096);
	bpf_map__set_max_entries(skel->maps.sock_owners, 16);
	bpf_map__set_max_entries(skel->maps.listeners, 16);
	bpf_map__set_max_entries(skel->maps.bind_calls, 16);
	err = load_and_attach(loader, skel, lists, &failed);
	detach_all(loader);
	portwarden_bpf__destroy(skel);
	return err;
}

static bool is_permission_error(int code)
{
	return code == -EPERM || code == -EACCES;
}

static void explain_failure(int code, const char *what, char *err, size_t err_len)
{
	if (is_permission_error(code))
		say(err, err_len,
		    "cannot %s BPF programs: permission denied; run as root "
		    "(needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)",
		    what);
	else
		say(err, err_len, "cannot %s BPF programs: %s (run with -v for libbpf's log)", what,
		    strerror(-code));
}

/* A probe, unless the tests asked (--pretend-missing) to see this kernel
 * without the feature: then it fails as a kernel without it would. */
static int probe_feature(struct pw_loader *loader, const struct pw_options *opts,
			 uint32_t feature, const char *const *progs)
{
	if (opts->pretend_missing & feature)
		return -EOPNOTSUPP;
	return probe(loader, progs);
}

static int choose_state_hook(struct pw_loader *loader, const struct pw_options *opts, char *err,
			     size_t err_len)
{
	int tp_btf_err = 0, tracepoint_err;

	loader->state_hook = opts->state_hook;
	if (loader->state_hook != PW_STATE_HOOK_TRACEPOINT) {
		tp_btf_err = probe_feature(loader, opts, PW_FEATURE_TP_BTF, state_tp_btf_progs);
		if (!tp_btf_err) {
			loader->state_hook = PW_STATE_HOOK_TP_BTF;
			return 0;
		}
		if (loader->state_hook == PW_STATE_HOOK_TP_BTF) {
			if (is_permission_error(tp_btf_err))
				explain_failure(tp_btf_err, "load", err, err_len);
			else
				say(err, err_len,
				    "--state-hook tp_btf: this kernel cannot run BTF-typed tracepoint "
				    "programs (%s); use --state-hook tracepoint or auto",
				    strerror(-tp_btf_err));
			return tp_btf_err;
		}
		if (opts->verbose)
			fprintf(stderr, "portwarden: tp_btf state hook unavailable (%s), using tracepoint\n",
				strerror(-tp_btf_err));
	}
	tracepoint_err = probe_feature(loader, opts, PW_FEATURE_TRACEPOINT, state_tracepoint_progs);
	if (!tracepoint_err) {
		loader->state_hook = PW_STATE_HOOK_TRACEPOINT;
		return 0;
	}
	if (is_permission_error(tracepoint_err))
		explain_failure(tracepoint_err, "load", err, err_len);
	else if (opts->state_hook == PW_STATE_HOOK_TRACEPOINT)
		say(err, err_len,
		    "--state-hook tracepoint: the sock:inet_sock_set_state tracepoint cannot be "
		    "traced here (%s); use --state-hook tp_btf or auto",
		    strerror(-tracepoint_err));
	else
		say(err, err_len,
		    "no hook for TCP state changes: tp_btf (%s) and the sock:inet_sock_set_state "
		    "tracepoint (%s) both failed; portwarden needs Linux 5.8 or later with BPF "
		    "tracepoints (run with -v for libbpf's log)",
		    strerror(-tp_btf_err), strerror(-tracepoint_err));
	return tracepoint_err;
}

static int choose_hooks(struct pw_loader *loader, const struct pw_options *opts, char *err,
			size_t err_len)
{
	int probe_err;

	if (opts->classes & (PW_CLASS_STATE | PW_CLASS_LISTEN)) {
		probe_err = choose_state_hook(loader, opts, err, err_len);
		if (probe_err)
			return probe_err;
	} else {
		loader->state_hook = PW_STATE_HOOK_TP_BTF; /* programs stay unloaded */
	}

	loader->bind_hook = opts->bind_hook;
	if (!(opts->classes & PW_CLASS_BIND)) {
		loader->bind_hook = PW_BIND_HOOK_SYSCALL; /* programs stay unloaded */
	} else if (loader->bind_hook == PW_BIND_HOOK_AUTO) {
		probe_err = probe_feature(loader, opts, PW_FEATURE_FEXIT, bind_fexit_progs);
		loader->bind_hook = probe_err ? PW_BIND_HOOK_SYSCALL : PW_BIND_HOOK_FEXIT;
		if (probe_err && opts->verbose)
			fprintf(stderr,
				"portwarden: fexit bind hook unavailable (%s), using bind() syscall tracepoints\n",
				strerror(-probe_err));
	} else if (loader->bind_hook == PW_BIND_HOOK_FEXIT) {
		probe_err = probe_feature(loader, opts, PW_FEATURE_FEXIT, bind_fexit_progs);
		if (probe_err) {
			say(err, err_len,
			    "--bind-hook fexit: this kernel refuses fexit programs on inet_bind (%s; "
			    "locked down or no BPF trampoline); use --bind-hook syscall or auto",
			    strerror(-probe_err));
			return probe_err;
		}
	}

	/* With the syscall bind hook, cgroup post_bind adds the binds made
	 * outside bind(2) (io_uring); fexit already sees those. */
	loader->binds_outside_syscall = false;
	if (loader->bind_hook == PW_BIND_HOOK_SYSCALL && loader->cgroup_fd >= 0 &&
	    (opts->classes & PW_CLASS_BIND)) {
		probe_err = probe_feature(loader, opts, PW_FEATURE_POST_BIND, post_bind_progs);
		loader->binds_outside_syscall = !probe_err;
		if (probe_err && opts->verbose)
			fprintf(stderr,
				"portwarden: cgroup post_bind hook unavailable (%s): binds made outside "
				"bind(2), e.g. through io_uring, are not seen\n",
				strerror(-probe_err));
	}

	loader->cookies_at_create = false;
	if (loader->cgroup_fd >= 0) {
		probe_err = probe_feature(loader, opts, PW_FEATURE_SOCK_CREATE, cookie_progs);
		loader->cookies_at_create = !probe_err;
		if (probe_err && opts->verbose)
			fprintf(stderr,
				"portwarden: cgroup sock_create hook unavailable (%s): bind events may lack sock_cookie\n",
				strerror(-probe_err));
	}
	return 0;
}

static int fill_set(struct bpf_map *map, const uint32_t *keys, size_t n)
{
	uint8_t yes = 1;
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = bpf_map__update_elem(map, &keys[i], sizeof(keys[i]), &yes, sizeof(yes), BPF_ANY);
		if (err)
			return err;
	}
	return 0;
}

/* The port bitmap: set the bit of every port in every range. */
static int fill_ports(struct bpf_map *map, const struct pw_options *opts)
{
	uint64_t words[PW_PORT_WORDS] = { 0 };
	uint32_t port, word;
	size_t i;
	int err;

	for (i = 0; i < opts->n_ports; i++)
		for (port = opts->ports[i].first; port <= opts->ports[i].last; port++)
			words[port >> 6] |= 1ull << (port & 63);
	for (word = 0; word < PW_PORT_WORDS; word++) {
		if (!words[word])
			continue;
		err = bpf_map__update_elem(map, &word, sizeof(word), &words[word], sizeof(words[word]),
					   BPF_ANY);
		if (err)
			return err;
	}
	return 0;
}

static int set_filters(struct portwarden_bpf *skel, const struct pw_options *opts)
{
	int err;

	err = fill_set(skel->maps.filter_pids, opts->pids, opts->n_pids);
	if (!err)
		err = fill_set(skel->maps.filter_uids, opts->uids, opts->n_uids);
	if (!err)
		err = fill_ports(skel->maps.filter_ports, opts);
	return err;
}

int pw_loader_start(struct pw_loader *loader, const struct pw_options *opts, char *err,
		    size_t err_len)
{
	const char *const *lists[6] = { 0 };
	const char *failed = NULL;
	int n = 0, code;

	memset(loader, 0, sizeof(*loader));
	loader->cgroup_fd = -1;
	if ((opts->pretend_missing & PW_FEATURE_BTF) || access("/sys/kernel/btf/vmlinux", R_OK)) {
		say(err, err_len,
		    "this kernel exposes no BTF (/sys/kernel/btf/vmlinux): portwarden needs a kernel "
		    "built with CONFIG_DEBUG_INFO_BTF=y (5.8 or later)");
		return -ENOENT;
	}
	if (geteuid() != 0 && opts->verbose)
		fprintf(stderr, "portwarden: not running as root; loading may be refused\n");
	loader->cgroup_fd = open_cgroup2_root();
	ensure_tracefs(opts->verbose);

	code = choose_hooks(loader, opts, err, err_len);
	if (code)
		goto cleanup;

	if (opts->classes & (PW_CLASS_STATE | PW_CLASS_LISTEN))
		lists[n++] = loader->state_hook == PW_STATE_HOOK_TP_BTF ? state_tp_btf_progs
									: state_tracepoint_progs;
	if (opts->classes & PW_CLASS_BIND)
		lists[n++] = loader->bind_hook == PW_BIND_HOOK_FEXIT ? bind_fexit_progs
								     : bind_syscall_progs;
	if (loader->binds_outside_syscall)
		lists[n++] = post_bind_progs;
	lists[n++] = loader->state_hook == PW_STATE_HOOK_TP_BTF ? accept_btf_progs : accept_progs;
	if (loader->cookies_at_create)
		lists[n++] = cookie_progs;

	loader->skel = portwarden_bpf__open();
	if (!loader->skel) {
		code = -errno;
		explain_failure(code, "open", err, err_len);
		goto cleanup;
	}
	loader->skel->rodata->self_tgid = (uint32_t)getpid();
	loader->skel->rodata->class_mask = opts->classes;
	loader->skel->rodata->family_filter = opts->family;
	loader->skel->rodata->filter_by_pid = opts->n_pids > 0;
	loader->skel->rodata->filter_by_port = opts->n_ports > 0;
	loader->skel->rodata->filter_by_uid = opts->n_uids > 0;
	loader->skel->rodata->protocol_filter = opts->protocol;
	loader->skel->rodata->pretend_skipped_every = opts->pretend_skipped_every;
	loader->skel->rodata->pretend_twice_every = opts->pretend_twice_every;
	if (opts->cgroup_path) {
		uint64_t id = 0;

		code = pw_cgroup_id_of(opts->cgroup_path, &id);
		if (code) {
			say(err, err_len, "--cgroup: '%s': %s (give a cgroup v2 directory)",
			    opts->cgroup_path, strerror(-code));
			goto cleanup;
		}
		loader->skel->rodata->cgroup_filter = id;
	}
	/* Wake the consumer when a quarter of the ring is queued: large
	 * enough to batch, small enough to leave room while it drains. */
	loader->skel->rodata->wakeup_bytes = opts->ringbuf_bytes / 4;
	code = bpf_map__set_max_entries(loader->skel->maps.events, opts->ringbuf_bytes);
	if (code) {
		say(err, err_len, "--ringbuf-size: %s", strerror(-code));
		goto cleanup;
	}

	code = load_and_attach(loader, loader->skel, lists, &failed);
	if (code) {
		if (!strcmp(failed, "load"))
			explain_failure(code, "load", err, err_len);
		else
			say(err, err_len, "cannot attach BPF program %s: %s (run with -v for details)",
			    failed, strerror(-code));
		goto cleanup;
	}
	/* Filters are read at event time, so filling them after attach only
	 * matters for the first microseconds; fill before any event is read. */
	code = set_filters(loader->skel, opts);
	if (code) {
		say(err, err_len, "cannot set filters: %s", strerror(-code));
		goto cleanup;
	}
	return 0;

cleanup:
	pw_loader_stop(loader);
	return code;
}

void pw_loader_detach(struct pw_loader *loader)
{
	detach_all(loader);
}

void pw_loader_stop(struct pw_loader *loader)
{
	detach_all(loader);
	portwarden_bpf__destroy(loader->skel);
	loader->skel = NULL;
	if (loader->cgroup_fd >= 0)
		close(loader->cgroup_fd);
	loader->cgroup_fd = -1;
}

int pw_loader_ringbuf_fd(const struct pw_loader *loader)
{
	return bpf_map__fd(loader->skel->maps.events);
}

int pw_loader_counter(const struct pw_loader *loader, uint32_t counter, uint64_t *value)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t values[1024];
	uint32_t set, key;
	int cpu, err;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	if (ncpus > 1024)
		return -E2BIG;
	*value = 0;
	/* One set of counters per kind of program (PW_COUNTER_SETS), added up. */
	for (set = 0; set < PW_COUNTER_SETS; set++) {
		key = set * PW_COUNTER_MAX + counter;
		err = bpf_map__lookup_elem(loader->skel->maps.counters, &key, sizeof(key), values,
					   sizeof(uint64_t) * ncpus, 0);
		if (err)
			return err;
		for (cpu = 0; cpu < ncpus; cpu++)
			*value += values[cpu];
	}
	return 0;
}

int pw_loader_counters(const struct pw_loader *loader, uint64_t *out)
{
	uint32_t counter;
	int err;

	for (counter = 0; counter < PW_COUNTER_MAX; counter++) {
		err = pw_loader_counter(loader, counter, &out[counter]);
		if (err)
			return err;
	}
	return 0;
}

int pw_loader_skipped(const struct pw_loader *loader, uint64_t *skipped)
{
	struct bpf_program *prog;

	*skipped = 0;
	bpf_object__for_each_program(prog, loader->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		/* Not loaded (a hook this kernel does not use), or a backup: a
		 * backup is skipped when it would nest in itself, and then the
		 * program it backs up has run. */
		if (fd < 0 || is_backup(prog))
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return -errno;
		*skipped += info.recursion_misses;
	}
	return 0;
}
