/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* uid -> user name through the system's user database (getpwuid_r, so NSS
 * sources such as LDAP too), cached: each uid is asked about once. */
#ifndef PW_USERS_H
#define PW_USERS_H

#include <stddef.h>
#include <stdint.h>

struct pw_users;

/* Writes the name of uid into buf (NUL-terminated). Returns 0, -ENOENT when
 * the database has no such user, -ERANGE when buf is too small, or another
 * negative errno. */
typedef int (*pw_user_lookup_fn)(uint32_t uid, char *buf, size_t len);

/* capacity: uids remembered (0 for the default, 1024); when the cache is
 * full it starts afresh. lookup: NULL for getpwuid_r, a stub in tests.
 * Returns 0 or a negative errno. */
int pw_users_new(struct pw_users **out, size_t capacity, pw_user_lookup_fn lookup);
void pw_users_free(struct pw_users *u);

/* Name of uid, NULL when the database does not know it (also cached). The
 * string stays valid until the next call. */
const char *pw_user_name(struct pw_users *u, uint32_t uid);

/* The default lookup, through getpwuid_r. */
int pw_user_lookup_passwd(uint32_t uid, char *buf, size_t len);

#endif /* PW_USERS_H */
