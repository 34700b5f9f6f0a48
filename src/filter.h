/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The user's filters (--pid, --port, --uid, --tcp/--udp, -4/-6, --cgroup)
 * applied in userspace, to events that did not come through the in-kernel
 * filters: the start-up snapshot of sockets already open. */
#ifndef PW_FILTER_H
#define PW_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include "options.h"
#include "portwarden.h"

struct pw_filter {
	const struct pw_options *opts;
	uint64_t cgroup_id; /* of opts->cgroup_path, 0 for no cgroup filter */
};

/* Returns 0, or a negative errno with a one-line message in err. */
int pw_filter_init(struct pw_filter *f, const struct pw_options *opts, char *err,
		   size_t err_len);
/* The same decision the BPF side's filters take for a ring event. */
bool pw_filter_matches(const struct pw_filter *f, const struct pw_event *ev);

#endif /* PW_FILTER_H */
