/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Checks every ring record before the rest of the pipeline trusts it: the
 * encoders index tables with its enums and print its strings. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "decode.h"

int pw_decode(const void *data, size_t size, struct pw_event *out)
{
	if (!data || size != sizeof(*out))
		return -EINVAL;
	memcpy(out, data, sizeof(*out));
	if (out->type != PW_EVENT_STATE && out->type != PW_EVENT_BIND)
		return -EINVAL;
	if (out->family != AF_INET && out->family != AF_INET6)
		return -EINVAL;
	if (out->old_state >= PW_TCP_MAX_STATES || out->new_state >= PW_TCP_MAX_STATES)
		return -EINVAL;
	if (out->attribution > PW_ATTR_CURRENT || out->direction > PW_DIR_LISTEN)
		return -EINVAL;
	if (out->bind_errno < 0 || out->bind_errno > 4095)
		return -EINVAL;
	/* comm comes from the kernel NUL-terminated, but never trust a record. */
	out->owner.comm[PW_COMM_LEN - 1] = '\0';
	return 0;
}
