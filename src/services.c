/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Service names for ports: binary search in the embedded IANA table, then in
 * a sorted copy of the local /etc/services additions. */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "services.h"
#include "services_table.h"

struct local_service {
	uint32_t key;   /* PW_SERVICE_KEY */
	uint32_t order; /* position in the file: the first entry for a key wins */
	char *name;
};

struct pw_services {
	struct local_service *local; /* sorted by key, one entry per key */
	size_t local_len;
};

/* Index of key in a sorted array of n keys, or -1. */
static long find_key(const uint32_t *keys, size_t n, uint32_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (keys[mid] < key)
			lo = mid + 1;
		else if (keys[mid] > key)
			hi = mid;
		else
			return (long)mid;
	}
	return -1;
}

const char *pw_iana_service_name(uint16_t port, uint8_t protocol)
{
	/* The block index narrows the search to the ~45 keys that share the
	 * port's high byte: a few cache lines instead of the whole table. */
	uint32_t first = pw_iana_service_blocks[port >> 8], last = pw_iana_service_blocks[(port >> 8) + 1];
	long i = find_key(pw_iana_service_keys + first, last - first, PW_SERVICE_KEY(port, protocol));

	return i < 0 ? NULL : pw_iana_service_names + pw_iana_service_name_offsets[first + i];
}

static const char *local_service_name(const struct pw_services *s, uint32_t key)
{
	size_t lo = 0, hi = s->local_len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->local[mid].key < key)
			lo = mid + 1;
		else if (s->local[mid].key > key)
			hi = mid;
		else
			return s->local[mid].name;
	}
	return NULL;
}

const char *pw_service_name(const struct pw_services *s, uint16_t port, uint8_t protocol)
{
	const char *name = pw_iana_service_name(port, protocol);

	if (name || !s || !s->local_len)
		return name;
	return local_service_name(s, PW_SERVICE_KEY(port, protocol));
}

static int protocol_number(const char *transport)
{
	if (strcmp(transport, "tcp") == 0)
		return IPPROTO_TCP;
	if (strcmp(transport, "udp") == 0)
		return IPPROTO_UDP;
	return -1;
}

/* One /etc/services line: "name port/transport [aliases...] [# comment]".
 * Returns 1 and fills key/name (pointing into line) for a tcp or udp entry,
 * 0 for anything else (comments, other transports, malformed lines). */
static int parse_services_line(char *line, uint32_t *key, char **name)
{
	char *save = NULL, *port_field, *slash, *end;
	unsigned long port;
	int protocol;

	line[strcspn(line, "#\n")] = '\0';
	*name = strtok_r(line, " \t", &save);
	port_field = strtok_r(NULL, " \t", &save);
	if (!*name || !port_field)
		return 0;
	slash = strchr(port_field, '/');
	if (!slash || slash == port_field || !isdigit((unsigned char)port_field[0]))
		return 0;
	*slash = '\0';
	errno = 0;
	port = strtoul(port_field, &end, 10);
	if (errno || *end || port > 65535)
		return 0;
	protocol = protocol_number(slash + 1);
	if (protocol < 0)
		return 0;
	*key = PW_SERVICE_KEY(port, protocol);
	return 1;
}

static int compare_local(const void *a, const void *b)
{
	const struct local_service *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Reads the additions: entries whose port and transport IANA does not name,
 * the first entry winning when the file repeats one (as getservbyport does). */
static int load_services_file(struct pw_services *s, FILE *f)
{
	char *line = NULL;
	size_t line_cap = 0, cap = 0, i, kept;
	int err = 0;

	while (getline(&line, &line_cap, f) >= 0) {
		struct local_service *grown;
		uint32_t key;
		char *name;

		if (!parse_services_line(line, &key, &name))
			continue;
		if (pw_iana_service_name(key >> 8, key & 0xff))
			continue;
		if (s->local_len == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(s->local, cap * sizeof(*grown));
			if (!grown) {
				err = -ENOMEM;
				goto cleanup;
			}
			s->local = grown;
		}
		s->local[s->local_len].key = key;
		s->local[s->local_len].order = (uint32_t)s->local_len;
		s->local[s->local_len].name = strdup(name);
		if (!s->local[s->local_len].name) {
			err = -ENOMEM;
			goto cleanup;
		}
		s->local_len++;
	}
	if (ferror(f)) {
		err = -EIO;
		goto cleanup;
	}
	if (s->local_len) /* qsort's base must not be NULL, even for 0 elements */
		qsort(s->local, s->local_len, sizeof(*s->local), compare_local);
	for (i = 0, kept = 0; i < s->local_len; i++) {
		if (kept && s->local[kept - 1].key == s->local[i].key) {
			free(s->local[i].name);
			continue;
		}
		s->local[kept++] = s->local[i];
	}
	s->local_len = kept;
cleanup:
	free(line);
	return err;
}

int pw_services_new(struct pw_services **out, const char *path)
{
	struct pw_services *s;
	FILE *f = NULL;
	int err = 0;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (path) {
		f = fopen(path, "re");
		if (!f) {
			if (errno != ENOENT)
				err = -errno;
			goto cleanup;
		}
		err = load_services_file(s, f);
	}
cleanup:
	if (f)
		fclose(f);
	if (err) {
		pw_services_free(s);
		return err;
	}
	*out = s;
	return 0;
}

void pw_services_free(struct pw_services *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->local_len; i++)
		free(s->local[i].name);
	free(s->local);
	free(s);
}
