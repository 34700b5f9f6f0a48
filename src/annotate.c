/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Annotation step: the kernel record names a process by pid, start time and
 * uid and a socket by its ports; this step adds the user name, the process
 * identity from /proc (cached) and the ports' IANA service names. */
#include <errno.h>
#include <stdlib.h>
#include "annotate.h"
#include "process_cache.h"
#include "services.h"
#include "users.h"

/* Service names of recent ports: a socket's events come five or more to the
 * socket, a server's port with every connection. A services table does not
 * change once loaded, so a remembered answer stays right. */
#define SERVICE_MEMO_SLOTS 256
#define SERVICE_MEMO_FILLED (1u << 24)

struct service_memo {
	uint32_t key; /* SERVICE_MEMO_FILLED | port << 8 | protocol; 0: empty */
	const char *name;
};

struct pw_annotator {
	struct pw_process_cache *processes;
	struct pw_users *users;
	struct pw_services *services;
	struct service_memo service_memo[SERVICE_MEMO_SLOTS];
};

int pw_annotator_new(struct pw_annotator **out, const struct pw_annotator_config *cfg)
{
	struct pw_process_cache_config pcfg = {
		.proc_root = cfg->proc_root ? cfg->proc_root : "/proc",
		.capacity = cfg->process_cache_size,
		.miss_ttl_ns = cfg->miss_ttl_ns,
	};
	struct pw_annotator *a;
	int err;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	err = pw_process_cache_new(&a->processes, &pcfg);
	if (err)
		goto cleanup;
	err = pw_users_new(&a->users, 0, cfg->user_lookup);
	if (err)
		goto cleanup;
	err = pw_services_new(&a->services, cfg->services_path);
	if (err)
		goto cleanup;
	*out = a;
	return 0;
cleanup:
	pw_annotator_free(a);
	return err;
}

void pw_annotator_free(struct pw_annotator *a)
{
	if (!a)
		return;
	pw_services_free(a->services);
	pw_users_free(a->users);
	pw_process_cache_free(a->processes);
	free(a);
}

static const char *service_of(struct pw_annotator *a, uint16_t port, uint8_t protocol)
{
	uint32_t key = SERVICE_MEMO_FILLED | (uint32_t)port << 8 | protocol;
	struct service_memo *m = &a->service_memo[(port ^ protocol) % SERVICE_MEMO_SLOTS];

	if (m->key != key) {
		m->key = key;
		m->name = pw_service_name(a->services, port, protocol);
	}
	return m->name;
}

void pw_annotate(struct pw_annotator *a, struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;
	const struct pw_process_identity *id;

	rec->proc = (struct pw_process){ 0 };
	rec->local_service = NULL;
	rec->remote_service = NULL;
	if (!ev)
		return;

	rec->local_service = service_of(a, ev->sport, ev->protocol);
	if (ev->dport)
		rec->remote_service = service_of(a, ev->dport, ev->protocol);

	/* Without an owner the uid is no one's. */
	if (ev->attribution == PW_ATTR_NONE)
		return;
	rec->proc.user = pw_user_name(a->users, ev->owner.uid);
	/* pid 0 is the idle task: no /proc entry. */
	if (!ev->owner.pid)
		return;
	id = pw_process_lookup(a->processes, &ev->owner, ev->ts_ns);
	rec->proc.exe = id->exe;
	rec->proc.cmdline = id->cmdline;
	rec->proc.cgroup = id->cgroup;
	rec->proc.container_id = id->container_id;
	rec->proc.exe_shape = id->exe_shape;
	rec->proc.cmdline_shape = id->cmdline_shape;
	rec->proc.cgroup_shape = id->cgroup_shape;
	rec->proc.container_id_shape = id->container_id_shape;
}
