/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `portwarden ports`: the open-port inventory for an audit, as a table or as
 * JSON lines (type "snapshot", action "existing"). */
#ifndef PW_PORTS_CMD_H
#define PW_PORTS_CMD_H

/* argv[0] is "ports". Returns the process exit code: 0, 1 on error, 2 on a
 * usage error, 3 when --policy was given and a socket is not allowed. */
int pw_ports_main(int argc, char **argv);

#endif /* PW_PORTS_CMD_H */
