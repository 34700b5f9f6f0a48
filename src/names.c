/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Constant tables behind the names in the event contract. */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include "portwarden.h"
#include "names.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const tcp_states[PW_TCP_MAX_STATES] = {
	[PW_TCP_ESTABLISHED] = "ESTABLISHED",
	[PW_TCP_SYN_SENT] = "SYN_SENT",
	[PW_TCP_SYN_RECV] = "SYN_RECV",
	[PW_TCP_FIN_WAIT1] = "FIN_WAIT1",
	[PW_TCP_FIN_WAIT2] = "FIN_WAIT2",
	[PW_TCP_TIME_WAIT] = "TIME_WAIT",
	[PW_TCP_CLOSE] = "CLOSE",
	[PW_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[PW_TCP_LAST_ACK] = "LAST_ACK",
	[PW_TCP_LISTEN] = "LISTEN",
	[PW_TCP_CLOSING] = "CLOSING",
	[PW_TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
	[PW_TCP_BOUND_INACTIVE] = "BOUND_INACTIVE",
};

static const char *const attributions[] = {
	[PW_ATTR_NONE] = "none",
	[PW_ATTR_SYSCALL] = "syscall",
	[PW_ATTR_SOCKET] = "socket",
	[PW_ATTR_LISTENER] = "listener",
	[PW_ATTR_CURRENT] = "current",
};

static const char *const directions[] = {
	[PW_DIR_INBOUND] = "inbound",
	[PW_DIR_OUTBOUND] = "outbound",
	[PW_DIR_LISTEN] = "listen",
};

static const char *const hooks[] = {
	[PW_HOOK_STATE_TP_BTF] = "tp_btf",
	[PW_HOOK_STATE_TRACEPOINT] = "tracepoint",
	[PW_HOOK_BIND_FEXIT] = "fexit",
	[PW_HOOK_BIND_SYSCALL] = "syscall",
	[PW_HOOK_BIND_CGROUP] = "cgroup",
};

/* Every errno Linux defines (asm-generic numbering, through the libc macros
 * so that other numberings still come out right). Aliases (EWOULDBLOCK,
 * EDEADLOCK, ENOTSUP) are left out: they share a value with the name kept. */
static const char *const errnos[] = {
	[EPERM] = "EPERM",
	[ENOENT] = "ENOENT",
	[ESRCH] = "ESRCH",
	[EINTR] = "EINTR",
	[EIO] = "EIO",
	[ENXIO] = "ENXIO",
	[E2BIG] = "E2BIG",
	[ENOEXEC] = "ENOEXEC",
	[EBADF] = "EBADF",
	[ECHILD] = "ECHILD",
	[EAGAIN] = "EAGAIN",
	[ENOMEM] = "ENOMEM",
	[EACCES] = "EACCES",
	[EFAULT] = "EFAULT",
	[ENOTBLK] = "ENOTBLK",
	[EBUSY] = "EBUSY",
	[EEXIST] = "EEXIST",
	[EXDEV] = "EXDEV",
	[ENODEV] = "ENODEV",
	[ENOTDIR] = "ENOTDIR",
	[EISDIR] = "EISDIR",
	[EINVAL] = "EINVAL",
	[ENFILE] = "ENFILE",
	[EMFILE] = "EMFILE",
	[ENOTTY] = "ENOTTY",
	[ETXTBSY] = "ETXTBSY",
	[EFBIG] = "EFBIG",
	[ENOSPC] = "ENOSPC",
	[ESPIPE] = "ESPIPE",
	[EROFS] = "EROFS",
	[EMLINK] = "EMLINK",
	[EPIPE] = "EPIPE",
	[EDOM] = "EDOM",
	[ERANGE] = "ERANGE",
	[EDEADLK] = "EDEADLK",
	[ENAMETOOLONG] = "ENAMETOOLONG",
	[ENOLCK] = "ENOLCK",
	[ENOSYS] = "ENOSYS",
	[ENOTEMPTY] = "ENOTEMPTY",
	[ELOOP] = "ELOOP",
	[ENOMSG] = "ENOMSG",
	[EIDRM] = "EIDRM",
	[ECHRNG] = "ECHRNG",
	[EL2NSYNC] = "EL2NSYNC",
	[EL3HLT] = "EL3HLT",
	[EL3RST] = "EL3RST",
	[ELNRNG] = "ELNRNG",
	[EUNATCH] = "EUNATCH",
	[ENOCSI] = "ENOCSI",
	[EL2HLT] = "EL2HLT",
	[EBADE] = "EBADE",
	[EBADR] = "EBADR",
	[EXFULL] = "EXFULL",
	[ENOANO] = "ENOANO",
	[EBADRQC] = "EBADRQC",
	[EBADSLT] = "EBADSLT",
	[EBFONT] = "EBFONT",
	[ENOSTR] = "ENOSTR",
	[ENODATA] = "ENODATA",
	[ETIME] = "ETIME",
	[ENOSR] = "ENOSR",
	[ENONET] = "ENONET",
	[ENOPKG] = "ENOPKG",
	[EREMOTE] = "EREMOTE",
	[ENOLINK] = "ENOLINK",
	[EADV] = "EADV",
	[ESRMNT] = "ESRMNT",
	[ECOMM] = "ECOMM",
	[EPROTO] = "EPROTO",
	[EMULTIHOP] = "EMULTIHOP",
	[EDOTDOT] = "EDOTDOT",
	[EBADMSG] = "EBADMSG",
	[EOVERFLOW] = "EOVERFLOW",
	[ENOTUNIQ] = "ENOTUNIQ",
	[EBADFD] = "EBADFD",
	[EREMCHG] = "EREMCHG",
	[ELIBACC] = "ELIBACC",
	[ELIBBAD] = "ELIBBAD",
	[ELIBSCN] = "ELIBSCN",
	[ELIBMAX] = "ELIBMAX",
	[ELIBEXEC] = "ELIBEXEC",
	[EILSEQ] = "EILSEQ",
	[ERESTART] = "ERESTART",
	[ESTRPIPE] = "ESTRPIPE",
	[EUSERS] = "EUSERS",
	[ENOTSOCK] = "ENOTSOCK",
	[EDESTADDRREQ] = "EDESTADDRREQ",
	[EMSGSIZE] = "EMSGSIZE",
	[EPROTOTYPE] = "EPROTOTYPE",
	[ENOPROTOOPT] = "ENOPROTOOPT",
	[EPROTONOSUPPORT] = "EPROTONOSUPPORT",
	[ESOCKTNOSUPPORT] = "ESOCKTNOSUPPORT",
	[EOPNOTSUPP] = "EOPNOTSUPP",
	[EPFNOSUPPORT] = "EPFNOSUPPORT",
	[EAFNOSUPPORT] = "EAFNOSUPPORT",
	[EADDRINUSE] = "EADDRINUSE",
	[EADDRNOTAVAIL] = "EADDRNOTAVAIL",
	[ENETDOWN] = "ENETDOWN",
	[ENETUNREACH] = "ENETUNREACH",
	[ENETRESET] = "ENETRESET",
	[ECONNABORTED] = "ECONNABORTED",
	[ECONNRESET] = "ECONNRESET",
	[ENOBUFS] = "ENOBUFS",
	[EISCONN] = "EISCONN",
	[ENOTCONN] = "ENOTCONN",
	[ESHUTDOWN] = "ESHUTDOWN",
	[ETOOMANYREFS] = "ETOOMANYREFS",
	[ETIMEDOUT] = "ETIMEDOUT",
	[ECONNREFUSED] = "ECONNREFUSED",
	[EHOSTDOWN] = "EHOSTDOWN",
	[EHOSTUNREACH] = "EHOSTUNREACH",
	[EALREADY] = "EALREADY",
	[EINPROGRESS] = "EINPROGRESS",
	[ESTALE] = "ESTALE",
	[EUCLEAN] = "EUCLEAN",
	[ENOTNAM] = "ENOTNAM",
	[ENAVAIL] = "ENAVAIL",
	[EISNAM] = "EISNAM",
	[EREMOTEIO] = "EREMOTEIO",
	[EDQUOT] = "EDQUOT",
	[ENOMEDIUM] = "ENOMEDIUM",
	[EMEDIUMTYPE] = "EMEDIUMTYPE",
	[ECANCELED] = "ECANCELED",
	[ENOKEY] = "ENOKEY",
	[EKEYEXPIRED] = "EKEYEXPIRED",
	[EKEYREVOKED] = "EKEYREVOKED",
	[EKEYREJECTED] = "EKEYREJECTED",
	[EOWNERDEAD] = "EOWNERDEAD",
	[ENOTRECOVERABLE] = "ENOTRECOVERABLE",
	[ERFKILL] = "ERFKILL",
	[EHWPOISON] = "EHWPOISON",
};

const char *pw_tcp_state_name(unsigned int state)
{
	if (state >= ARRAY_LEN(tcp_states) || !tcp_states[state])
		return "UNKNOWN";
	return tcp_states[state];
}

const char *pw_attribution_name(unsigned int attribution)
{
	if (attribution >= ARRAY_LEN(attributions))
		return NULL;
	return attributions[attribution];
}

const char *pw_direction_name(unsigned int direction)
{
	if (direction >= ARRAY_LEN(directions))
		return NULL;
	return directions[direction];
}

const char *pw_transport_name(uint8_t protocol)
{
	/* MPTCP (IPPROTO_MPTCP, 262) cannot appear: the kernel reports its
	 * subflows as plain TCP sockets and the record field is 8 bits. */
	switch (protocol) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_UDPLITE:
		return "udplite";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_RAW:
		return "raw";
	default:
		return "other";
	}
}

const char *pw_family_name(uint16_t family)
{
	switch (family) {
	case AF_INET:
		return "ipv4";
	case AF_INET6:
		return "ipv6";
	default:
		return NULL;
	}
}

const char *pw_errno_name(int err)
{
	if (err > 0 && (size_t)err < ARRAY_LEN(errnos) && errnos[err])
		return errnos[err];
	/* Kernel-internal codes (include/linux/errno.h) that are not meant to
	 * reach userspace but can show up when a hook reads a return value
	 * before the syscall layer translates it. */
	switch (err) {
	case 512:
		return "ERESTARTSYS";
	case 513:
		return "ERESTARTNOINTR";
	case 514:
		return "ERESTARTNOHAND";
	case 516:
		return "ERESTART_RESTARTBLOCK";
	case 524:
		return "ENOTSUPP";
	default:
		return NULL;
	}
}

const char *pw_hook_name(uint8_t hook)
{
	if (hook >= ARRAY_LEN(hooks))
		return NULL;
	return hooks[hook];
}

const char *pw_port_category(uint16_t port)
{
	if (port <= 1023)
		return "well-known";
	if (port <= 49151)
		return "registered";
	return "dynamic";
}
