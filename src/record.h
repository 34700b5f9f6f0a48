/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One event on its way from the ring buffer to a sink: the kernel record
 * plus everything userspace adds (sequence, wall time, process identity). */
#ifndef PW_RECORD_H
#define PW_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include "json_writer.h"
#include "portwarden.h"

enum pw_record_type {
	PW_REC_STATE = PW_EVENT_STATE, /* "state" */
	PW_REC_BIND = PW_EVENT_BIND,   /* "bind" */
	PW_REC_LOSS,                   /* "loss" */
	PW_REC_STATS,                  /* "stats" */
	PW_REC_SNAPSHOT,               /* "snapshot": a socket open when tracing began */
	PW_REC_ALERT,                  /* "alert": a socket event the policy does not allow */
};

/* What userspace learnt about a socket's owner beyond the kernel record.
 * Every string may be NULL when unknown (the process already exited). */
struct pw_process {
	const char *user;         /* name of owner.uid */
	const char *exe;          /* /proc/PID/exe target */
	const char *cmdline;      /* arguments joined by single spaces */
	const char *cgroup;       /* cgroup v2 path */
	const char *container_id; /* docker/containerd/cri-o/podman id, else NULL */
	/* How the JSON encoder may copy exe, cmdline, cgroup and container_id
	 * (measured once per process by the annotator's cache); zeroed ones
	 * make it measure the strings itself. */
	struct pw_json_shape exe_shape, cmdline_shape, cgroup_shape, container_id_shape;
};

struct pw_loss {
	uint64_t lost;      /* events lost since the last loss record */
	const char *reason; /* "ringbuf_full", ... */
};

struct pw_stats {
	uint64_t events;   /* socket events written so far */
	uint64_t lost;     /* events lost so far */
	uint64_t filtered; /* events dropped by the in-kernel filters */
};

struct pw_alert {
	const char *rule;   /* the policy rule that decided, or "default" */
	const char *reason; /* why this is an alert, in words */
	bool existing;      /* raised by a socket found open at start-up (a snapshot
			     * record): its action is "existing" */
};

struct pw_record {
	enum pw_record_type type;
	uint64_t seq;     /* +1 for every line emitted in this run */
	uint64_t time_ns; /* wall clock, ns since the Unix epoch */
	const char *host;
	const struct pw_event *ev; /* state and bind records */
	struct pw_process proc;
	const char *local_service;  /* IANA service name of ev->sport, NULL if none */
	const char *remote_service; /* IANA service name of ev->dport, NULL if none */
	struct pw_alert alert; /* alert records: ev is the socket event that raised it */
	struct pw_loss loss;
	struct pw_stats stats;
};

#endif /* PW_RECORD_H */
