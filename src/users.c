/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* User names by uid: an open-addressing table in front of getpwuid_r, which
 * may be slow (NSS, LDAP) and must not run once per event. */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "users.h"

#define DEFAULT_CAPACITY 1024
#define NAME_MAX_LEN 256 /* longer names are cut here */

struct user_slot {
	uint32_t uid;
	bool used;
	char *name; /* NULL: the database does not know this uid */
};

struct pw_users {
	struct user_slot *slots;
	size_t nslots; /* power of two, twice the capacity */
	size_t used, capacity;
	pw_user_lookup_fn lookup;
};

int pw_user_lookup_passwd(uint32_t uid, char *buf, size_t len)
{
	struct passwd pwd, *found = NULL;
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t scratch_len = hint > 0 ? (size_t)hint : 1024;
	char *scratch = NULL;
	int err;

	for (;;) {
		char *grown = realloc(scratch, scratch_len);

		if (!grown) {
			err = -ENOMEM;
			goto cleanup;
		}
		scratch = grown;
		err = getpwuid_r((uid_t)uid, &pwd, scratch, scratch_len, &found);
		if (err != ERANGE || scratch_len >= (1u << 20))
			break;
		scratch_len *= 2;
	}
	if (err) {
		err = -err;
		goto cleanup;
	}
	if (!found) {
		err = -ENOENT;
		goto cleanup;
	}
	if (strlen(found->pw_name) >= len) {
		err = -ERANGE;
		goto cleanup;
	}
	strcpy(buf, found->pw_name);
cleanup:
	free(scratch);
	return err;
}

int pw_users_new(struct pw_users **out, size_t capacity, pw_user_lookup_fn lookup)
{
	struct pw_users *u;
	size_t nslots = 16;

	*out = NULL;
	if (!capacity)
		capacity = DEFAULT_CAPACITY;
	while (nslots < capacity * 2)
		nslots *= 2;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->slots = calloc(nslots, sizeof(*u->slots));
	if (!u->slots) {
		free(u);
		return -ENOMEM;
	}
	u->nslots = nslots;
	u->capacity = capacity;
	u->lookup = lookup ? lookup : pw_user_lookup_passwd;
	*out = u;
	return 0;
}

static void forget_all(struct pw_users *u)
{
	size_t i;

	for (i = 0; i < u->nslots; i++) {
		free(u->slots[i].name);
		u->slots[i].name = NULL;
		u->slots[i].used = false;
	}
	u->used = 0;
}

void pw_users_free(struct pw_users *u)
{
	if (!u)
		return;
	forget_all(u);
	free(u->slots);
	free(u);
}

static size_t slot_of(const struct pw_users *u, uint32_t uid)
{
	/* Fibonacci hashing spreads the small consecutive uids of a system. */
	return (size_t)((uid * 2654435769u) >> 8) & (u->nslots - 1);
}

const char *pw_user_name(struct pw_users *u, uint32_t uid)
{
	char name[NAME_MAX_LEN];
	struct user_slot *slot;
	size_t i;

	for (i = slot_of(u, uid);; i = (i + 1) & (u->nslots - 1)) {
		slot = &u->slots[i];
		if (!slot->used)
			break;
		if (slot->uid == uid)
			return slot->name;
	}
	if (u->used >= u->capacity) {
		forget_all(u);
		for (i = slot_of(u, uid); u->slots[i].used; i = (i + 1) & (u->nslots - 1))
			;
		slot = &u->slots[i];
	}
	slot->used = true;
	slot->uid = uid;
	/* Any failure (unknown uid, NSS down, no memory) is remembered as
	 * "no name": asking again for every event would not help. */
	slot->name = u->lookup(uid, name, sizeof(name)) == 0 ? strdup(name) : NULL;
	u->used++;
	return slot->name;
}
