/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Process identity cache: a fixed array of entries, a chained hash on
 * (pid, start time) and a least-recently-used list, all by index, all
 * allocated up front; only filling an entry from /proc allocates. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "process.h"
#include "process_cache.h"

#define DEFAULT_CAPACITY 4096
#define DEFAULT_MISS_TTL_NS 1000000000ull
#define NONE UINT32_MAX

struct entry {
	uint64_t start_ns;
	uint64_t retry_ns; /* unknown or unverified entries: read /proc again from then on */
	uint32_t pid;
	uint32_t hash_next;          /* next entry in the same bucket */
	uint32_t lru_prev, lru_next; /* towards the most / least recently used */
	bool known;                  /* /proc was read for this process */
	char comm[PW_COMM_LEN];      /* the main thread's, when /proc was read */
	struct pw_proc_info info;
	struct pw_process_identity identity;
	char container_id[PW_CONTAINER_ID_LEN + 1];
};

struct pw_process_cache {
	char *proc_root;
	struct entry *entries;
	uint32_t *buckets;
	uint32_t capacity, used, bucket_mask;
	uint32_t lru_head, lru_tail; /* most, least recently used */
	uint64_t miss_ttl_ns;
	long clock_ticks;
	struct pw_process_cache_stats stats;
};

int pw_process_cache_new(struct pw_process_cache **out, const struct pw_process_cache_config *cfg)
{
	struct pw_process_cache *c;
	size_t capacity = cfg->capacity ? cfg->capacity : DEFAULT_CAPACITY;
	size_t nbuckets = 16, i;
	int err = -ENOMEM;

	*out = NULL;
	if (capacity >= NONE / 2 || !cfg->proc_root)
		return -EINVAL;
	while (nbuckets < capacity * 2)
		nbuckets *= 2;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->proc_root = strdup(cfg->proc_root);
	c->entries = calloc(capacity, sizeof(*c->entries));
	c->buckets = malloc(nbuckets * sizeof(*c->buckets));
	if (!c->proc_root || !c->entries || !c->buckets)
		goto cleanup;
	for (i = 0; i < nbuckets; i++)
		c->buckets[i] = NONE;
	c->capacity = (uint32_t)capacity;
	c->bucket_mask = (uint32_t)(nbuckets - 1);
	c->lru_head = c->lru_tail = NONE;
	c->miss_ttl_ns = cfg->miss_ttl_ns ? cfg->miss_ttl_ns : DEFAULT_MISS_TTL_NS;
	c->clock_ticks = cfg->clock_ticks ? cfg->clock_ticks : sysconf(_SC_CLK_TCK);
	if (c->clock_ticks <= 0) {
		err = -EINVAL;
		goto cleanup;
	}
	*out = c;
	return 0;
cleanup:
	pw_process_cache_free(c);
	return err;
}

void pw_process_cache_free(struct pw_process_cache *c)
{
	uint32_t i;

	if (!c)
		return;
	for (i = 0; c->entries && i < c->used; i++)
		pw_proc_info_free(&c->entries[i].info);
	free(c->entries);
	free(c->buckets);
	free(c->proc_root);
	free(c);
}

void pw_process_cache_stats(const struct pw_process_cache *c, struct pw_process_cache_stats *out)
{
	*out = c->stats;
}

static uint32_t bucket_of(const struct pw_process_cache *c, uint32_t pid, uint64_t start_ns)
{
	uint64_t h = (pid * 0x9e3779b97f4a7c15ull) ^ (start_ns * 0xc2b2ae3d27d4eb4full);

	return (uint32_t)(h >> 32 ^ h) & c->bucket_mask;
}

static void lru_unlink(struct pw_process_cache *c, uint32_t i)
{
	struct entry *e = &c->entries[i];

	if (e->lru_prev != NONE)
		c->entries[e->lru_prev].lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next != NONE)
		c->entries[e->lru_next].lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
}

static void lru_push_front(struct pw_process_cache *c, uint32_t i)
{
	struct entry *e = &c->entries[i];

	e->lru_prev = NONE;
	e->lru_next = c->lru_head;
	if (c->lru_head != NONE)
		c->entries[c->lru_head].lru_prev = i;
	c->lru_head = i;
	if (c->lru_tail == NONE)
		c->lru_tail = i;
}

static void hash_unlink(struct pw_process_cache *c, uint32_t i)
{
	struct entry *e = &c->entries[i];
	uint32_t *link = &c->buckets[bucket_of(c, e->pid, e->start_ns)];

	while (*link != i)
		link = &c->entries[*link].hash_next;
	*link = e->hash_next;
}

/* A free entry, or the least recently used one emptied for reuse. */
static uint32_t take_entry(struct pw_process_cache *c)
{
	uint32_t i;

	if (c->used < c->capacity)
		return c->used++;
	i = c->lru_tail;
	lru_unlink(c, i);
	hash_unlink(c, i);
	pw_proc_info_free(&c->entries[i].info);
	c->stats.evictions++;
	return i;
}

/* (Re)reads /proc for entry e. */
static void fill_entry(struct pw_process_cache *c, struct entry *e, const struct pw_task *owner,
		       uint64_t now_ns)
{
	c->stats.proc_reads++;
	memcpy(e->comm, owner->comm, PW_COMM_LEN);
	pw_proc_info_free(&e->info);
	memset(&e->identity, 0, sizeof(e->identity));
	e->known = pw_proc_read(c->proc_root, e->pid, owner->tid, e->start_ns, c->clock_ticks, &e->info) == 0;
	/* Gone, reused by another process, or unreadable: report what the
	 * kernel gave and try again only after a while, so a storm of events
	 * from a vanished pid does not hammer /proc. Without a start time the
	 * pid alone was checked: that too is trusted only for a while. */
	e->retry_ns = now_ns + c->miss_ttl_ns;
	if (!e->known)
		return;
	e->identity.exe = e->info.exe;
	e->identity.cmdline = e->info.cmdline;
	e->identity.cgroup = e->info.cgroup;
	e->identity.container_id = pw_container_id(e->info.cgroup, e->container_id);
	e->identity.exe_shape = pw_json_shape_of(e->identity.exe);
	e->identity.cmdline_shape = pw_json_shape_of(e->identity.cmdline);
	e->identity.cgroup_shape = pw_json_shape_of(e->identity.cgroup);
	e->identity.container_id_shape = pw_json_shape_of(e->identity.container_id);
}

/* Whether a cached entry must be read again. A process that exec()s keeps
 * its pid and start time but changes its main thread's comm; other threads
 * may name themselves freely, so only the main thread's comm counts. */
static bool stale(const struct entry *e, const struct pw_task *owner, uint64_t now_ns)
{
	if (now_ns < e->retry_ns)
		return false;
	if (!e->known || !e->start_ns)
		return true;
	return owner->tid == owner->pid && strncmp(e->comm, owner->comm, PW_COMM_LEN) != 0;
}

const struct pw_process_identity *pw_process_lookup(struct pw_process_cache *c,
						    const struct pw_task *owner, uint64_t now_ns)
{
	uint32_t pid = owner->pid, b = bucket_of(c, pid, owner->start_ns), i;
	uint64_t start_ns = owner->start_ns;
	struct entry *e;

	for (i = c->buckets[b]; i != NONE; i = c->entries[i].hash_next) {
		e = &c->entries[i];
		if (e->pid != pid || e->start_ns != start_ns)
			continue;
		if (i != c->lru_head) {
			lru_unlink(c, i);
			lru_push_front(c, i);
		}
		if (stale(e, owner, now_ns))
			fill_entry(c, e, owner, now_ns);
		else
			c->stats.hits++;
		return &e->identity;
	}

	i = take_entry(c);
	e = &c->entries[i];
	e->pid = pid;
	e->start_ns = start_ns;
	e->hash_next = c->buckets[b];
	c->buckets[b] = i;
	lru_push_front(c, i);
	fill_entry(c, e, owner, now_ns);
	return &e->identity;
}
