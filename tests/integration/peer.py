"""A scripted socket peer run as its own process by the integration tests.

It names itself (the kernel comm) so the tests can tell processes apart,
prints what it did as "key value" lines on stdout, and can wait for "go" on
stdin before it starts, so a tracer can be started with --pid first.

    peer.py [--comm NAME] [--wait] ROLE [options]

Roles:
    server  --family 4|6 --port P [--reply N] [--accepts K] [--say-cookie]
            listen, accept K connections one by one, read each until EOF,
            send N bytes back, close it; close the listener, exit.
            --say-cookie: print "cookie N", each accepted socket's SO_COOKIE.
    client  --family 4|6 --port P [--send N] [--exit-now]
            connect, send N bytes, shut down writing, read until EOF, close.
            --exit-now: exit right after connect, leaving the kernel to close.
    bind    --family 4|6 --proto tcp|udp --port P [--reuseaddr] [--reuseport]
            [--hold] [--listen]
            bind (0 for an ephemeral port), print "bound PORT" or
            "errno N"; with --hold wait for EOF on stdin before closing.
"""
import argparse
import ctypes
import errno
import os
import socket
import sys

PR_SET_NAME = 15
SO_COOKIE = getattr(socket, "SO_COOKIE", 57)


def set_comm(name):
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(name.encode("utf-8", "surrogateescape")[:15])
    if libc.prctl(PR_SET_NAME, buf, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")


def say(key, value):
    print(f"{key} {value}", flush=True)


def family_of(arg):
    return socket.AF_INET6 if arg == "6" else socket.AF_INET


def loopback(family):
    return "::1" if family == socket.AF_INET6 else "127.0.0.1"


def read_all(conn):
    total = 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return total
        total += len(chunk)


def socket_cookie(sock):
    """The kernel's cookie of sock (SO_COOKIE; asking assigns one)."""
    return int.from_bytes(sock.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8), sys.byteorder)


def run_server(args):
    family = family_of(args.family)
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.addr or loopback(family), args.port))
    listener.listen(16)
    say("listening", listener.getsockname()[1])
    for _ in range(args.accepts):
        conn, _peer = listener.accept()
        if args.say_cookie:
            say("cookie", socket_cookie(conn))
        say("received", read_all(conn))
        conn.sendall(b"r" * args.reply)
        conn.close()
    listener.close()
    say("done", 1)


def run_client(args):
    family = family_of(args.family)
    conn = socket.socket(family, socket.SOCK_STREAM)
    conn.connect((args.addr or loopback(family), args.port))
    say("local_port", conn.getsockname()[1])
    if args.exit_now:
        os._exit(0)
    conn.sendall(b"s" * args.send)
    conn.shutdown(socket.SHUT_WR)
    say("received", read_all(conn))
    conn.close()
    say("done", 1)


def run_bind(args):
    family = family_of(args.family)
    kind = socket.SOCK_DGRAM if args.proto == "udp" else socket.SOCK_STREAM
    sock = socket.socket(family, kind)
    if args.reuseaddr:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.reuseport:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((args.addr or loopback(family), args.port))
    except OSError as exc:
        say("errno", exc.errno)
        say("error", errno.errorcode.get(exc.errno, "?"))
        sock.close()
        return
    say("bound", sock.getsockname()[1])
    if args.listen:
        sock.listen(4)
        say("listening", sock.getsockname()[1])
    if args.hold:
        sys.stdin.read()
    sock.close()
    say("done", 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--comm")
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("role", choices=["server", "client", "bind"])
    parser.add_argument("--family", default="4")
    parser.add_argument("--addr")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--proto", default="tcp")
    parser.add_argument("--reply", type=int, default=0)
    parser.add_argument("--send", type=int, default=0)
    parser.add_argument("--accepts", type=int, default=1)
    parser.add_argument("--exit-now", action="store_true")
    parser.add_argument("--reuseaddr", action="store_true")
    parser.add_argument("--reuseport", action="store_true")
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--listen", action="store_true")
    parser.add_argument("--say-cookie", action="store_true")
    args = parser.parse_args()
    if args.comm:
        set_comm(args.comm)
    say("pid", os.getpid())
    if args.wait and sys.stdin.readline().strip() != "go":
        return
    {"server": run_server, "client": run_client, "bind": run_bind}[args.role](args)


if __name__ == "__main__":
    main()
