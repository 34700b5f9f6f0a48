/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Container id from the cgroup path a container runtime put a process in. */
#ifndef PW_CONTAINER_H
#define PW_CONTAINER_H

#define PW_CONTAINER_ID_LEN 64 /* hex digits of a docker/OCI container id */

/* Recognises docker ("/docker/<id>", "docker-<id>.scope"), containerd and
 * Kubernetes ("cri-containerd-<id>.scope", "/kubepods/.../pod<uid>/<id>"),
 * cri-o ("crio-<id>.scope") and podman ("libpod-<id>.scope"; conmon's
 * "libpod-conmon-<id>.scope" is not a container). The innermost match wins.
 * Copies the id into buf and returns buf, or returns NULL. */
const char *pw_container_id(const char *cgroup_path, char buf[PW_CONTAINER_ID_LEN + 1]);

#endif /* PW_CONTAINER_H */
