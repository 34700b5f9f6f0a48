/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Userspace mirror of the in-kernel filters (bpf/portwarden.bpf.c,
 * event_wanted): keep the two in step. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cgroup.h"
#include "filter.h"

int pw_filter_init(struct pw_filter *f, const struct pw_options *opts, char *err,
		   size_t err_len)
{
	int code;

	f->opts = opts;
	f->cgroup_id = 0;
	if (!opts->cgroup_path)
		return 0;
	code = pw_cgroup_id_of(opts->cgroup_path, &f->cgroup_id);
	if (code)
		snprintf(err, err_len, "--cgroup: '%s': %s (give a cgroup v2 directory)",
			 opts->cgroup_path, strerror(-code));
	return code;
}

static bool u32_listed(const uint32_t *list, size_t n, uint32_t value)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == value)
			return true;
	return false;
}

static bool port_listed(const struct pw_options *opts, uint16_t port)
{
	for (size_t i = 0; i < opts->n_ports; i++)
		if (port >= opts->ports[i].first && port <= opts->ports[i].last)
			return true;
	return false;
}

bool pw_filter_matches(const struct pw_filter *f, const struct pw_event *ev)
{
	const struct pw_options *o = f->opts;

	if (o->family && ev->family != o->family)
		return false;
	if (o->protocol && ev->protocol != o->protocol)
		return false;
	if (o->n_pids && !u32_listed(o->pids, o->n_pids, ev->owner.pid))
		return false;
	if (o->n_uids && !u32_listed(o->uids, o->n_uids, ev->owner.uid))
		return false;
	if (f->cgroup_id && ev->owner.cgroup_id != f->cgroup_id)
		return false;
	if (o->n_ports && !port_listed(o, ev->sport) && !port_listed(o, ev->dport) &&
	    !port_listed(o, ev->requested_port))
		return false;
	return true;
}
