/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Annotation step: adds process identity and port service names to a record. */
#ifndef PW_ANNOTATE_H
#define PW_ANNOTATE_H

#include <stdint.h>
#include "record.h"
#include "users.h"

struct pw_annotator;

struct pw_annotator_config {
	const char *proc_root;     /* "/proc", or a fixture tree in tests */
	const char *services_path; /* "/etc/services", NULL to use only the embedded table */
	size_t process_cache_size; /* processes remembered; 0 for the default (4096) */
	uint64_t miss_ttl_ns;      /* a process /proc cannot tell about is asked again
				    * after this long; 0 for the default (1 s) */
	pw_user_lookup_fn user_lookup; /* NULL: getpwuid_r; tests pass a stub */
};

/* Returns 0 or a negative errno. */
int pw_annotator_new(struct pw_annotator **out, const struct pw_annotator_config *cfg);
void pw_annotator_free(struct pw_annotator *a);

/* Fill rec->proc, rec->local_service and rec->remote_service for a state or
 * bind record. Strings stay valid until the next call. Never fails: what
 * cannot be learnt is left NULL. */
void pw_annotate(struct pw_annotator *a, struct pw_record *rec);

#endif /* PW_ANNOTATE_H */
