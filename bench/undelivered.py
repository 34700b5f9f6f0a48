#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Which state changes reach no BPF program, and in whose context.

Runs portwarden and the kernel's own event tracer (ftrace, in a tracefs
instance of its own) side by side on the same connection storms, then
compares, change by change, what ftrace recorded with what portwarden wrote.
For every change portwarden did not write it prints the context ftrace saw it
in: the task that was current on the CPU (and, for a thread, its process) and
whether it ran in softirq. It also prints what portwarden itself reported as
lost, so an unreported gap shows.

    make bench-undelivered                      (or, after make bench:)
    python3 bench/undelivered.py --runs 20 --load

Needs root, tracefs, build/portwarden and build/bench/storm. --load runs a
busy loop and a disk writer beside each storm, which makes softirq work
spill onto whatever task is current more often. docs/performance.md
("Changes the kernel does not deliver") tells what this finds here.
"""
import argparse
import calendar
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TRACEFS = "/sys/kernel/tracing"
INSTANCE = "portwarden-undelivered"
FTRACE_LINE = re.compile(
    r"^\s*(?P<task>.+?)-(?P<pid>\d+)\s+\[(?P<cpu>\d+)\]\s+(?P<flags>\S{4,5})\s+"
    r"(?P<ts>[\d.]+): inet_sock_set_state: .*?protocol=(?P<proto>\S+) sport=(?P<sport>\d+) "
    r"dport=(?P<dport>\d+) .*?oldstate=TCP_(?P<old>\S+) newstate=TCP_(?P<new>\S+)")
SUMMARY = re.compile(r"portwarden: summary: .*")
UNDELIVERED = re.compile(r"(\d+) made by the kernel but delivered to no program")
RECOVERED = re.compile(r"(\d+) more skipped and run by the backup program")


def write(path, value):
    with open(path, "w") as f:
        f.write(value)


class Ftrace:
    """An ftrace instance recording sock:inet_sock_set_state only."""

    def __init__(self, buffer_kib):
        if not os.path.isdir(os.path.join(TRACEFS, "instances")):
            subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS], check=False)
        self.dir = os.path.join(TRACEFS, "instances", INSTANCE)
        if not os.path.isdir(self.dir):
            os.mkdir(self.dir)
        write(os.path.join(self.dir, "tracing_on"), "0")
        write(os.path.join(self.dir, "buffer_size_kb"), str(buffer_kib))
        # CLOCK_MONOTONIC, so a change can be matched with portwarden's by time.
        write(os.path.join(self.dir, "trace_clock"), "mono")
        write(os.path.join(self.dir, "events/sock/inet_sock_set_state/enable"), "1")

    def start(self):
        write(os.path.join(self.dir, "trace"), "")
        write(os.path.join(self.dir, "tracing_on"), "1")

    def stop(self):
        write(os.path.join(self.dir, "tracing_on"), "0")
        with open(os.path.join(self.dir, "trace")) as f:
            text = f.read()
        overrun = re.search(r"entries-in-buffer/entries-written: (\d+)/(\d+)", text)
        if overrun and overrun.group(1) != overrun.group(2):
            sys.exit(f"undelivered: ftrace overwrote {int(overrun.group(2)) - int(overrun.group(1))}"
                     " changes: raise --ftrace-kib")
        return text

    def close(self):
        write(os.path.join(self.dir, "tracing_on"), "0")
        write(os.path.join(self.dir, "events/sock/inet_sock_set_state/enable"), "0")
        os.rmdir(self.dir)


# A change portwarden wrote and one ftrace recorded are the same change when
# their ports and states agree and their times are this close (the two
# clocks are read apart; ports repeat across a storm, but not within this).
MATCH_NS = 5_000_000


def change_key(sport, dport, old, new):
    # Some kernels (6.1) fire LISTEN>SYN_RECV before the new socket has its
    # peer's port; portwarden holds that event back until it has it. So that
    # change is matched on the listener's port and time alone.
    if (old, new) == ("LISTEN", "SYN_RECV"):
        dport = 0
    return (int(sport), int(dport), old, new)


def ftrace_changes(text):
    """TCP state changes ftrace recorded: key -> [(monotonic ns, task, pid, softirq)]."""
    changes = collections.defaultdict(list)
    for line in text.splitlines():
        m = FTRACE_LINE.match(line)
        if not m or m.group("proto") != "IPPROTO_TCP":
            continue
        key = change_key(m.group("sport"), m.group("dport"), m.group("old"), m.group("new"))
        secs, _, frac = m.group("ts").partition(".")
        changes[key].append((int(secs) * 10**9 + int(frac.ljust(9, "0")[:9]), m.group("task"),
                             int(m.group("pid")), "s" in m.group("flags")[2:4]))
    return changes


def wall_to_ns(stamp):
    """'2026-11-26T16:47:25.711931167Z' -> ns since the epoch."""
    day, _, frac = stamp.rstrip("Z").partition(".")
    whole = calendar.timegm(time.strptime(day, "%Y-%m-%dT%H:%M:%S"))
    return whole * 10**9 + int(frac.ljust(9, "0")[:9])


def portwarden_changes(path, wall_minus_mono):
    """TCP state changes portwarden wrote: key -> [monotonic ns]."""
    seen = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            if ev.get("type") != "state" or ev.get("transport") != "tcp":
                continue
            key = change_key(ev["local"]["port"] or 0, ev["remote"]["port"] or 0,
                             ev["tcp"]["old_state"], ev["tcp"]["new_state"])
            seen[key].append(wall_to_ns(ev["time"]) - wall_minus_mono)
    return seen


def process_of(pid):
    """'comm (pid N)' of the process a thread belongs to, or '' if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            tgid = int(re.search(r"^Tgid:\s+(\d+)", f.read(), re.M).group(1))
        with open(f"/proc/{tgid}/comm") as f:
            comm = f.read().strip()
    except (OSError, AttributeError):
        return ""
    return f"{comm} (pid {tgid})"


def start_load(workdir):
    busy = subprocess.Popen(["sh", "-c", "while :; do :; done"])
    writer = subprocess.Popen(
        ["sh", "-c", f"while :; do dd if=/dev/zero of={workdir}/load.dd bs=1M count=200 "
                     "conv=fsync status=none; done"])
    return [busy, writer]


def stop_processes(procs):
    for p in procs:
        p.kill()
        p.wait()


def one_run(args, ftrace, workdir):
    out = os.path.join(workdir, "events.json")
    if os.path.exists(out):
        os.unlink(out)
    tracer = subprocess.Popen(
        [args.portwarden, "--json", "--states-only", "--output", f"file:{out}",
         *args.tracer_args.split()],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = []
    for line in tracer.stderr:
        stderr.append(line)
        if line.startswith("portwarden: tracing"):
            break
    else:
        sys.exit("undelivered: portwarden did not start:\n" + "".join(stderr))
    ftrace.start()
    subprocess.run([args.storm, "tcp", "-6" if args.ipv6 else "-4", "-n", str(args.connections),
                    "-k", "4"],
                   check=True, stdout=subprocess.DEVNULL)
    time.sleep(2)  # the storm's last closes, then the tracer's drain
    text = ftrace.stop()
    tracer.send_signal(signal.SIGINT)
    stderr.extend(tracer.stderr.readlines())
    tracer.wait(timeout=60)
    summary = next((m.group(0) for m in map(SUMMARY.search, stderr) if m), "")
    reported = UNDELIVERED.search(summary)
    recovered = RECOVERED.search(summary)
    wall_minus_mono = time.time_ns() - time.monotonic_ns()
    return (ftrace_changes(text), portwarden_changes(out, wall_minus_mono),
            int(reported.group(1)) if reported else 0, int(recovered.group(1)) if recovered else 0)


def compare(kernel, written):
    """Changes ftrace recorded that portwarden did not write: per key, both
    lists in time order, each written change takes the first recorded one
    within MATCH_NS of it; recorded ones it passes by are left over. A
    written change that found none within MATCH_NS (a slow machine's clocks,
    or an emulated one's) then takes the nearest left-over one of its key.
    What is left over is missing, with the context it ran in. Also returns
    how many written changes matched nothing at all (should be 0). The
    counts are exact; where one key repeats within MATCH_NS (a listener's
    SYN_RECVs), a missing one's context may be its neighbour's."""
    missing, strays = [], 0
    for key, recorded in kernel.items():
        recorded.sort()
        left, late, j = [], [], 0
        for ts in sorted(written.get(key, [])):
            while j < len(recorded) and recorded[j][0] < ts - MATCH_NS:
                left.append(recorded[j])
                j += 1
            if j < len(recorded) and recorded[j][0] <= ts + MATCH_NS:
                j += 1
            else:
                late.append(ts)
        left.extend(recorded[j:])
        for ts in late:
            if not left:
                strays += 1
                continue
            left.pop(min(range(len(left)), key=lambda i: abs(left[i][0] - ts)))
        missing.extend(left)
    strays += sum(len(v) for k, v in written.items() if k not in kernel)
    return missing, strays


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--portwarden", help="the tracer (default: BUILD/portwarden)")
    ap.add_argument("--storm", help="the storm (default: BUILD/bench/storm)")
    ap.add_argument("--ipv6", action="store_true", help="IPv6 storms (default IPv4)")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--connections", type=int, default=20000)
    ap.add_argument("--load", action="store_true", help="a busy loop and a disk writer beside")
    ap.add_argument("--tracer-args", default="",
                    help="more portwarden options (e.g. --pretend-undelivered 4 checks this"
                         " script: every 4th change is dropped unseen)")
    ap.add_argument("--ftrace-kib", type=int, default=65536, help="ftrace buffer per CPU")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("undelivered: run as root (BPF and tracefs)")
    args.portwarden = args.portwarden or os.path.join(args.build, "portwarden")
    args.storm = args.storm or os.path.join(args.build, "bench", "storm")
    for path in (args.portwarden, args.storm):
        if not os.access(path, os.X_OK):
            sys.exit(f"undelivered: {path} missing: run make bench (or make {path}) first")

    workdir = tempfile.mkdtemp(prefix="pw-undelivered.")
    ftrace = Ftrace(args.ftrace_kib)
    load = start_load(workdir) if args.load else []
    totals = collections.Counter()
    try:
        for i in range(1, args.runs + 1):
            kernel, written, reported, recovered = one_run(args, ftrace, workdir)
            missing, strays = compare(kernel, written)
            n_kernel = sum(len(c) for c in kernel.values())
            totals["kernel"] += n_kernel
            totals["missing"] += len(missing)
            totals["reported"] += reported
            line = (f"run {i}: {n_kernel} TCP state changes (ftrace), portwarden wrote "
                    f"{sum(len(v) for v in written.values())}, missing {len(missing)}, "
                    f"reported undelivered {reported} (nested runs the backup program made good: "
                    f"{recovered})"
                    + (f", {strays} written changes matched none recorded" if strays else ""))
            by_task = collections.Counter(
                (task, pid, softirq) for _ts, task, pid, softirq in missing)
            for (task, pid, softirq), n in by_task.most_common():
                owner = process_of(pid)
                line += (f"\n    {n} {'in softirq ' if softirq else ''}while {task}-{pid}"
                         f"{' of ' + owner if owner else ''} was current")
                totals[f"{task}-{pid}{' of ' + owner if owner else ''}"] += n
            print(line, flush=True)
    finally:
        stop_processes(load)
        ftrace.close()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"total: {totals['kernel']} changes, {totals['missing']} missing, "
          f"{totals['reported']} reported undelivered")
    for name, n in totals.most_common():
        if name not in ("kernel", "missing", "reported"):
            print(f"    {n} while {name} was current")


if __name__ == "__main__":
    main()
