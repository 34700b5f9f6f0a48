#!/usr/bin/python3
"""Soak test (issue 7): run the tracer for several minutes under a steady
loopback connection storm and report its memory over time and any loss.
Not a CI test: `make soak SOAK_MINUTES=5` runs it and prints a table; the
result also goes to build/soak/result.json.

Memory must stay flat: every cache and map is bounded, so after warm-up the
tracer's RSS may wobble but must not grow with the number of events."""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

SUMMARY = re.compile(r"(\d+) events written, (\d+) lost in the kernel \(ring full\), "
                     r"(\d+) lost in output.*; (\d+) program runs skipped by the kernel")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracer", default="build/portwarden")
    parser.add_argument("--storm", default="build/bench/storm")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=2000, help="connections per second")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--out", default="build/soak/result.json")
    args = parser.parse_args()

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    # Unfiltered: other traffic on the machine adds to what is written.
    tracer = subprocess.Popen([args.tracer, "--json", "--no-snapshot", "--states-only"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while True:
        line = tracer.stderr.readline()
        if not line:
            sys.exit("soak: the tracer did not start")
        if line.startswith("portwarden: tracing"):
            break

    deadline = time.monotonic() + args.minutes * 60
    samples, connections, rounds = [], 0, 0
    started = time.monotonic()
    while time.monotonic() < deadline:
        count = int(args.rate * args.sample)
        storm = subprocess.run([args.storm, "tcp", "-n", str(count), "-r", str(args.rate)],
                               capture_output=True, text=True)
        if storm.returncode != 0:
            sys.exit(f"soak: storm failed: {storm.stderr.strip()}")
        connections += count
        rounds += 1
        samples.append({"t_s": round(time.monotonic() - started, 1),
                        "rss_kib": rss_kib(tracer.pid), "connections": connections})
        print(f"soak: {samples[-1]['t_s']:7.1f} s  {connections:9d} connections  "
              f"RSS {samples[-1]['rss_kib'] / 1024:6.1f} MiB", flush=True)

    tracer.send_signal(signal.SIGINT)
    _, err = tracer.communicate(timeout=60)
    m = SUMMARY.search(err)
    if not m:
        sys.exit(f"soak: no summary from the tracer: {err}")
    written, lost, output_lost, skipped = map(int, m.groups())
    warm = samples[len(samples) // 5:] or samples
    result = {
        "minutes": args.minutes, "rate": args.rate, "connections": connections,
        "events_expected": connections * 10, "events_written": written,
        "lost_in_kernel": lost, "lost_in_output": output_lost, "kernel_skipped": skipped,
        "rss_first_kib": samples[0]["rss_kib"], "rss_last_kib": samples[-1]["rss_kib"],
        "rss_min_after_warmup_kib": min(s["rss_kib"] for s in warm),
        "rss_max_after_warmup_kib": max(s["rss_kib"] for s in warm),
        "samples": samples,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    growth = result["rss_max_after_warmup_kib"] - result["rss_min_after_warmup_kib"]
    print(f"soak: {connections} connections in {args.minutes} min, "
          f"{written} events written (expected {connections * 10}), "
          f"{lost} lost in the kernel, {output_lost} lost in output, "
          f"{skipped} program runs skipped by the kernel")
    print(f"soak: RSS after warm-up {result['rss_min_after_warmup_kib'] / 1024:.1f}"
          f"..{result['rss_max_after_warmup_kib'] / 1024:.1f} MiB (spread {growth} KiB); "
          f"result in {args.out}")
    flat = growth <= 1024
    print("soak: memory " + ("flat" if flat else "GREW") + " after warm-up")
    return 0 if flat and lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
