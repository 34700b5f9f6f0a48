/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Container runtimes name a container's cgroup after its 64-hex id; this
 * module knows their naming schemes, one path component at a time. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "container.h"

static bool is_hex_id(const char *s, size_t len)
{
	size_t i;

	if (len != PW_CONTAINER_ID_LEN)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* systemd-driver scopes: "<prefix><id>.scope". */
static const char *const scope_prefixes[] = {
	"docker-",         /* dockerd with the systemd cgroup driver */
	"cri-containerd-", /* containerd's CRI plugin (Kubernetes) */
	"crio-",           /* cri-o */
	"libpod-",         /* podman */
};

static const char *scope_id(const char *comp, size_t len)
{
	static const char suffix[] = ".scope";
	const size_t suffix_len = sizeof(suffix) - 1;
	size_t i, plen;

	if (len <= suffix_len || memcmp(comp + len - suffix_len, suffix, suffix_len) != 0)
		return NULL;
	for (i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
		plen = strlen(scope_prefixes[i]);
		/* "libpod-conmon-<id>.scope" and "crio-conmon-<id>.scope" hold
		 * the runtime's monitor, not the container: is_hex_id rejects
		 * them since "conmon-<id>" is not 64 hex digits. */
		if (has_prefix(comp, len, scope_prefixes[i]) &&
		    is_hex_id(comp + plen, len - plen - suffix_len))
			return comp + plen;
	}
	return NULL;
}

/* cgroupfs-driver layouts name the container by a bare id below a parent
 * that says who made it: "/docker/<id>", "/libpod_parent/libpod-<id>",
 * "/kubepods[/<qos>]/pod<uid>/<id>". */
static const char *bare_id(const char *path, const char *comp, size_t len, const char *parent,
			   size_t parent_len)
{
	if (has_prefix(comp, len, "libpod-") && is_hex_id(comp + 7, len - 7))
		return comp + 7;
	if (!is_hex_id(comp, len) || !parent)
		return NULL;
	if (parent_len == 6 && memcmp(parent, "docker", 6) == 0)
		return comp;
	if (has_prefix(parent, parent_len, "pod") && strstr(path, "/kubepods"))
		return comp;
	return NULL;
}

const char *pw_container_id(const char *cgroup_path, char buf[PW_CONTAINER_ID_LEN + 1])
{
	const char *end, *comp, *parent, *id = NULL;
	size_t len, parent_len;

	if (!cgroup_path)
		return NULL;
	/* Walk components from the last to the first: a container's own
	 * subgroups ("libpod-<id>.scope/container") and nested runtimes
	 * (docker in docker) put the innermost container last. */
	end = cgroup_path + strlen(cgroup_path);
	while (end > cgroup_path && !id) {
		comp = end;
		while (comp > cgroup_path && comp[-1] != '/')
			comp--;
		len = (size_t)(end - comp);
		parent = NULL;
		parent_len = 0;
		if (comp > cgroup_path) {
			const char *pend = comp - 1;

			parent = pend;
			while (parent > cgroup_path && parent[-1] != '/')
				parent--;
			parent_len = (size_t)(pend - parent);
		}
		if (len) {
			id = scope_id(comp, len);
			if (!id)
				id = bare_id(cgroup_path, comp, len, parent, parent_len);
		}
		end = comp > cgroup_path ? comp - 1 : cgroup_path;
	}
	if (!id)
		return NULL;
	memcpy(buf, id, PW_CONTAINER_ID_LEN);
	buf[PW_CONTAINER_ID_LEN] = '\0';
	return buf;
}
