"""State changes the kernel made but delivered to no program are reported
lost (reason kernel_undelivered), found by the socket ledger: from a break in
a socket's chain of changes, or from the kernel's socket table (sock_diag),
which the tracer reads every --socket-check seconds and at exit.

The kernel does this only now and then under heavy load (docs/performance.md),
so the hidden --pretend-undelivered N switch drops every Nth state change as
it is read from the ring, unseen, as the kernel would have: real sockets,
real events, real sock_diag, only the loss is made on purpose."""
import os
import re
import socket
import subprocess
import sys
import threading
import time

from conftest import REPO, binary, free_port, written_gaps

STATES_PER_CONNECTION = 10  # bench/storm.c: client 5, server 5 (docs/performance.md)

UNDELIVERED = re.compile(r"; (\d+) made by the kernel but delivered to no program "
                         r"\(socket check(: off)?\)")
MADE = re.compile(r"(\d+) events written, (\d+) lost in the kernel .* (\d+) made in the kernel")


def listen_on(port):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(128)
    return server


def connect_and_close(server, port):
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    client.close()
    accepted.close()


def traffic(port, short, held, hold_s):
    """short connections opened and closed at once, held ones kept open
    across hold_s seconds (several checks), all to one listener on port,
    whose life ends last. Everything is closed when this returns."""
    server = listen_on(port)
    for _ in range(short):
        connect_and_close(server, port)
    kept = []
    for _ in range(held):
        kept.append(socket.create_connection(("127.0.0.1", port)))
        kept.append(server.accept()[0])
    time.sleep(hold_s)
    for s in kept:
        s.close()
    server.close()


def undelivered_lines(events):
    return [e for e in events if e["type"] == "loss" and e["reason"] == "kernel_undelivered"]


def test_changes_never_delivered_are_reported_lost(tracers):
    port = free_port()
    tracer = tracers("--port", str(port), "--states-only", "--socket-check", "1",
                     "--pretend-undelivered", "4")
    traffic(port, short=40, held=4, hold_s=2.5)
    time.sleep(0.5)
    tracer.stop()
    events = tracer.events()
    summary = tracer.summary()
    written, lost_in_kernel, made = map(int, MADE.search(summary).groups())
    dropped = made - written  # every fourth change, left unseen on purpose
    reported = sum(e["lost"] for e in undelivered_lines(events))
    # A run both programs were skipped for (rare) is reported as such and
    # not again by the ledger.
    skipped = sum(e["lost"] for e in events
                  if e["type"] == "loss" and e["reason"] == "kernel_skipped")
    lower = written_gaps(events)
    assert lost_in_kernel == 0, summary
    assert dropped >= 80, summary  # 40 * 10 + 4 * 10 + 2 changes, a quarter of them
    # Everything the written stream shows missing is reported, and no
    # more than was dropped: the ledger sees some drops the stream does
    # not show (a held socket's state that moved on without an event).
    assert 0 < lower <= reported + skipped, (lower, reported, skipped, summary)
    assert reported <= dropped, (reported, dropped, summary)
    assert int(UNDELIVERED.search(summary).group(1)) == reported, summary
    stats = [e for e in events if e["type"] == "stats"][-1]
    assert stats["lost"] == reported + skipped, stats


def test_a_clean_trace_reports_nothing_undelivered(tracers):
    """No false alarm: sockets held open across checks, and connections
    opening and closing while the kernel's table is read, so events are in
    flight at every check."""
    port, churn_port = free_port(), free_port()
    tracer = tracers("--port", f"{port},{churn_port}", "--states-only", "--socket-check", "1")
    stop = threading.Event()

    def churn():
        server = listen_on(churn_port)
        while not stop.is_set():
            connect_and_close(server, churn_port)
            time.sleep(0.005)  # some 150 connections a second: every event is schema-checked
        server.close()

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        traffic(port, short=40, held=4, hold_s=3.5)
    finally:
        stop.set()
        worker.join()
    time.sleep(0.5)
    tracer.stop()
    events = tracer.events()
    summary = tracer.summary()
    assert written_gaps(events) == 0, summary
    assert len({e["sock_cookie"] for e in events if e["type"] == "state"}) > 100, summary
    assert not undelivered_lines(events), undelivered_lines(events)
    assert UNDELIVERED.search(summary).groups() == ("0", None), summary


def test_the_socket_check_is_off_when_filters_pick_by_owner(tracers):
    """A --pid filter could keep some changes of a socket and drop others:
    the ledger would take those for losses, so it does not run."""
    port = free_port()
    tracer = tracers("--pid", "1", "--port", str(port), "--states-only",
                     "--socket-check", "1", "--pretend-undelivered", "2")
    traffic(port, short=5, held=0, hold_s=0)
    tracer.stop()
    assert UNDELIVERED.search(tracer.summary()).groups() == ("0", ": off"), tracer.summary()
    assert not undelivered_lines(tracer.events())


def run_undelivered_diagnostic(connections):
    """One run of bench/undelivered.py on a storm, every 4th change dropped
    unseen by the tracer; its output and (recorded, written, missing,
    reported)."""
    storm = os.environ.get("PW_STORM", os.path.join(REPO, "build", "bench", "storm"))
    r = subprocess.run(
        [sys.executable, os.path.join(REPO, "bench", "undelivered.py"), "--runs", "1",
         "--connections", str(connections), "--portwarden", binary(), "--storm", storm,
         "--ftrace-kib", "4096", "--tracer-args", "--pretend-undelivered 4"],
        capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    run = re.search(r"run 1: (\d+) TCP state changes \(ftrace\), portwarden wrote (\d+), "
                    r"missing (\d+), reported undelivered (\d+)", r.stdout)
    assert run, r.stdout
    return r.stdout, tuple(map(int, run.groups()))


def test_the_undelivered_diagnostic_finds_exactly_what_was_dropped():
    """bench/undelivered.py, the evidence behind docs/performance.md's account
    of undelivered changes, matches what ftrace recorded with what portwarden
    wrote. With every 4th change dropped unseen, it must find exactly a
    quarter of the storm's changes missing, and name the storm's own
    processes as the context most of them ran in.

    A change the kernel itself delivers to no program (this VM does that
    now and then, docs/performance.md) would be missing on top of the
    quarter; only then is the run made once more, and the second run is
    held to the same exact count."""
    connections = 400
    out, (recorded, written, missing, reported) = run_undelivered_diagnostic(connections)
    if missing > (recorded + 3) // 4:
        print(f"first run: {missing} missing of {recorded}, more than a quarter; again")
        out, (recorded, written, missing, reported) = run_undelivered_diagnostic(connections)
    storm_changes = connections * STATES_PER_CONNECTION + 4 * 2
    # Other processes' TCP changes may add to both sides, never take away.
    assert recorded >= storm_changes, out
    assert recorded == written + missing, out
    # The tracer drops every 4th change it reads; a change of another
    # process in the window is dropped or kept like the storm's.
    assert missing == recorded // 4 or missing == (recorded + 3) // 4, out
    assert "written changes matched none" not in out, out
    by_task = dict((task, int(n)) for n, task in
                   re.findall(r"^    (\d+) (?:in softirq )?while (\S+) ", out, re.M))
    assert sum(n for task, n in by_task.items() if task.startswith("storm-")) >= missing * 9 // 10, \
        out
    assert 0 < reported <= missing, out
