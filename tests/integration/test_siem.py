"""Issue 4: delivery to SIEMs. A real rsyslog (started by the test on
loopback ports, with its own config, work dir and pid file) receives RFC 5424
over UDP and over TCP with octet counting; it is stopped mid-run to prove the
reconnect and the loss accounting. File outputs: rotation into gzip files,
SIGHUP re-open, a full disk. ECS and OCSF lines of real events."""
import datetime
import glob
import gzip
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import REPO, binary, free_port, socket_events, validate_events

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
HEADER = re.compile(r"^<(\d+)>1 (\S+) (\S+) portwarden (\d+) - - (.*)$")
SOCKET_TYPES = ("state", "bind", "snapshot", "alert")
DAEMON_NOTICE = 3 * 8 + 5
DAEMON_INFO = 3 * 8 + 6
DAEMON_WARNING = 3 * 8 + 4

RSYSLOG_CONF = """\
global(workDirectory="{work}" maxMessageSize="64k")
module(load="imudp")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\\n")
ruleset(name="from_udp") {{ action(type="omfile" file="{out}/udp.log" template="raw") }}
ruleset(name="from_tcp") {{ action(type="omfile" file="{out}/tcp.log" template="raw") }}
input(type="imudp" address="127.0.0.1" port="{udp}" ruleset="from_udp")
input(type="imtcp" address="127.0.0.1" port="{tcp}" ruleset="from_tcp")
"""


def wait_until(predicate, timeout=30.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class Rsyslog:
    """A private rsyslogd: imudp and imtcp on loopback, omfile into out/."""

    def __init__(self, root):
        if not os.access(RSYSLOGD, os.X_OK):
            pytest.fail("rsyslogd is needed: scripts/deps.sh test installs it")
        self.root = str(root)
        self.out = os.path.join(self.root, "out")
        self.work = os.path.join(self.root, "work")
        os.makedirs(self.out)
        os.makedirs(self.work)
        self.udp_port = free_port(kind=socket.SOCK_DGRAM)
        self.tcp_port = free_port()
        self.conf = os.path.join(self.root, "rsyslog.conf")
        self.pidfile = os.path.join(self.root, "rsyslogd.pid")
        with open(self.conf, "w") as f:
            f.write(RSYSLOG_CONF.format(work=self.work, out=self.out, udp=self.udp_port,
                                        tcp=self.tcp_port))
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(os.path.join(self.root, f"rsyslogd.{self.starts}.log"), "w")
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i", self.pidfile],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        assert wait_until(self._listening, 20), "rsyslogd did not open its ports: " + \
            open(log.name).read()

    def _listening(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"rsyslogd exited with {self.proc.returncode}")
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", self.udp_port))
            return False  # the UDP port is still free: imudp is not up yet
        except OSError:
            pass
        try:
            socket.create_connection(("127.0.0.1", self.tcp_port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        self.proc = None

    def lines(self, name):
        path = os.path.join(self.out, name)
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return [l.rstrip("\n") for l in f if l.strip()]


@pytest.fixture
def rsyslog(tmp_path):
    r = Rsyslog(tmp_path / "rsyslog")
    r.start()
    yield r
    r.stop()


def conversations(port, n, listener=None):
    """n loopback TCP connections to port in this process: about ten state
    changes each (connect, accepted, the FIN states, closes)."""
    own = listener is None
    if own:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = listener.accept()
        c.sendall(b"x")
        a.recv(1)
        c.close()
        a.close()
    if own:
        listener.close()


def parse_syslog(lines):
    """[(pri, timestamp, host, pid, event)] from raw RFC 5424 lines."""
    out = []
    for line in lines:
        m = HEADER.match(line)
        assert m, f"not an RFC 5424 portwarden message: {line[:200]}"
        out.append((int(m.group(1)), m.group(2), m.group(3), int(m.group(4)),
                    json.loads(m.group(5))))
    return out


def stdout_events(tracer):
    return [json.loads(l) for l in tracer.stdout_lines if l.strip()]


def summary_line(tracer, name):
    for line in tracer.stderr_lines:
        if line.startswith(f"portwarden: output {name} "):
            return line
    raise AssertionError(f"no summary for {name}: {tracer.stderr_lines}")


def summary_counts(tracer, name):
    line = summary_line(tracer, name)
    return {k: int(v) for v, k in re.findall(r"(\d+) (delivered|lost|connects|replayed|rotations)",
                                             line)}


def test_events_arrive_intact_over_udp_and_tcp(tracers, rsyslog):
    port = free_port()
    udp = f"udp://127.0.0.1:{rsyslog.udp_port}"
    tcp = f"tcp://127.0.0.1:{rsyslog.tcp_port}"
    tracer = tracers("--port", str(port), "--output", "-", "--output", udp, "--output", tcp)
    conversations(port, 3)
    assert tracer.wait_for(lambda e: e.get("action") == "listen_close"), tracer.stderr_lines
    tracer.stop()
    assert tracer.returncode == 0
    produced = stdout_events(tracer)
    validate_events(produced)
    assert len(socket_events(produced)) >= 3 * 8
    for name in ("udp.log", "tcp.log"):
        assert wait_until(lambda: len(rsyslog.lines(name)) >= len(produced), 15), \
            (name, len(rsyslog.lines(name)), len(produced))
        got = parse_syslog(rsyslog.lines(name))
        # Same records, same order, byte for byte the same JSON.
        assert [g[4] for g in got] == produced, name
        validate_events([g[4] for g in got])
        for pri, stamp, host, pid, event in got:
            # Socket events are notices; the closing stats line is info.
            assert pri == (DAEMON_INFO if event["type"] == "stats" else DAEMON_NOTICE)
            assert host == socket.gethostname()
            assert pid == tracer.proc.pid
            # Header time: the event's time to the microsecond.
            assert stamp == event["time"][:26] + "Z"
    for name in (udp, tcp):
        counts = summary_counts(tracer, name)
        assert counts["delivered"] == len(produced) and counts["lost"] == 0, \
            summary_line(tracer, name)


def test_collector_restart_every_event_delivered_or_counted(tracers, rsyslog):
    """Stop rsyslog mid-run, make events, start it again: the tracer
    reconnects, replays, and reports what its small queue had to drop, so
    delivered + reported lost == produced (deduplicated by host and seq)."""
    port = free_port()
    tcp = f"tcp://127.0.0.1:{rsyslog.tcp_port}"
    # 64 lines: enough for a burst while the collector is up, far too few
    # for the ~400 events made while it is down.
    tracer = tracers("--port", str(port), "--output", "-", "--output", tcp + ",queue=64")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)

    def accounted(must_lose):
        got = {}
        for _, _, host, _, e in parse_syslog(rsyslog.lines("tcp.log")):
            got[(host, e["seq"])] = e
        produced = len(socket_events(stdout_events(tracer)))
        delivered = sum(1 for e in got.values() if e["type"] in SOCKET_TYPES)
        lost = sum(e["lost"] for e in got.values()
                   if e["type"] == "loss" and e["reason"] == "output_queue_full")
        return produced > 10 and delivered + lost == produced and (lost > 0 or not must_lose)

    conversations(port, 2, listener)
    assert wait_until(lambda: accounted(False)), tracer.stderr_lines

    rsyslog.stop()
    conversations(port, 40, listener)  # ~400 events: far more than the queue holds
    assert wait_until(lambda: any("connection lost" in l or "cannot connect" in l
                                  for l in tracer.stderr_lines), 15), tracer.stderr_lines
    rsyslog.start()
    conversations(port, 2, listener)
    listener.close()

    assert wait_until(lambda: accounted(True), 30), tracer.stderr_lines
    tracer.stop()
    assert tracer.returncode == 0

    produced = socket_events(stdout_events(tracer))
    seen = {}
    for pri, _, host, _, e in parse_syslog(rsyslog.lines("tcp.log")):
        key = (host, e["seq"])
        # A replayed line is the same line again, never a different one.
        assert seen.setdefault(key, e) == e
        assert pri == {"loss": DAEMON_WARNING, "stats": DAEMON_INFO}.get(e["type"], DAEMON_NOTICE)
    delivered = [e for e in seen.values() if e["type"] in SOCKET_TYPES]
    losses = [e for e in seen.values() if e["type"] == "loss"]
    # Program runs the kernel skipped (nesting on one CPU) and changes it
    # ran no program for are reported as their own loss, not this output's.
    losses = [e for e in losses if e["reason"] not in ("kernel_skipped", "kernel_undelivered")]
    lost = sum(e["lost"] for e in losses)
    assert {e["reason"] for e in losses} == {"output_queue_full"}
    assert lost > 0
    assert len(delivered) + lost == len(produced)
    # Every gap in this output's seq is accounted for by a loss record.
    seqs = {s for (_, s) in seen}
    assert len(set(range(1, max(seqs) + 1)) - seqs) == lost
    # What arrived is what was traced: the same events, in order.
    key = lambda e: (e["sock_cookie"], e["action"], e["time"])
    produced_keys = [key(e) for e in produced]
    delivered_keys = [key(e) for e in sorted(delivered, key=lambda e: e["seq"])]
    it = iter(produced_keys)
    assert all(k in it for k in delivered_keys), "delivered events out of order or unknown"
    counts = summary_counts(tracer, tcp)
    assert counts["lost"] == lost
    assert counts["connects"] >= 2
    assert any("connected again" in l for l in tracer.stderr_lines), tracer.stderr_lines


def test_file_rotates_at_size_into_gzip(tracers, tmp_path):
    port = free_port()
    path = tmp_path / "pw.json"
    tracer = tracers("--port", str(port),
                     "--output", "-", "--output", f"file:{path},max-size=8K,keep=3")
    conversations(port, 12)
    assert tracer.wait_for(lambda e: e.get("action") == "listen_close")
    tracer.stop()
    produced = stdout_events(tracer)
    rotated = sorted(glob.glob(f"{path}.*"))
    assert rotated == [f"{path}.{i}.gz" for i in (1, 2, 3)], rotated
    lines = []
    for i in (3, 2, 1):
        name = f"{path}.{i}.gz"
        subprocess.run(["gzip", "-t", name], check=True)
        data = gzip.open(name).read()
        assert 0 < len(data) <= 8192
        lines += data.decode().splitlines()
    current = path.read_bytes()
    assert len(current) <= 8192
    lines += current.decode().splitlines()
    events = [json.loads(l) for l in lines]
    validate_events(events)
    # The newest events, whole and in order, as on stdout (older ones were
    # rotated out by keep=3).
    assert events == produced[-len(events):]
    assert summary_counts(tracer, f"file:{path}")["rotations"] >= 4


def test_sighup_reopens_the_file(tracers, tmp_path):
    port = free_port()
    path = tmp_path / "pw.json"
    moved = tmp_path / "pw.json.old"
    tracer = tracers("--port", str(port), "--output", "-", "--output", f"file:{path}")
    conversations(port, 1)
    assert wait_until(lambda: path.exists() and path.stat().st_size > 0)
    os.rename(path, moved)  # what logrotate does
    tracer.proc.send_signal(signal.SIGHUP)
    assert wait_until(path.exists, 10), "no new file after SIGHUP"
    conversations(port, 1)
    assert tracer.wait_for(lambda e: e.get("action") == "listen_close")
    tracer.stop()
    assert tracer.returncode == 0
    old = [json.loads(l) for l in moved.read_text().splitlines()]
    new = [json.loads(l) for l in path.read_text().splitlines()]
    assert old and new
    assert old + new == stdout_events(tracer)


@pytest.fixture
def tiny_fs(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], check=True)
    yield mnt
    # Lazy: a tracer still running after a failed test holds the file.
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_is_counted_loss_not_a_crash(tracers, tiny_fs):
    port = free_port()
    path = tiny_fs / "pw.json"
    tracer = tracers("--port", str(port), "--output", "-", "--output", f"file:{path}")
    filler = tiny_fs / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    conversations(port, 3)  # written while the disk is full
    assert wait_until(lambda: any("No space left on device" in l for l in tracer.stderr_lines),
                      15), tracer.stderr_lines
    filler.unlink()
    conversations(port, 1)  # writing works again: the loss record follows
    assert tracer.wait_for(lambda e: e.get("action") == "listen_close")
    assert wait_until(lambda: '"type":"loss"' in path.read_text(), 15)
    tracer.stop()
    assert tracer.returncode == 0
    assert tracer.proc.returncode == 0
    events = [json.loads(l) for l in path.read_text().splitlines()]  # whole lines only
    validate_events(events)
    losses = [e for e in events if e["type"] == "loss"]
    assert {e["reason"] for e in losses} == {"output_error"}
    lost = sum(e["lost"] for e in losses)
    produced = socket_events(stdout_events(tracer))
    assert lost > 0
    assert len(socket_events(events)) + lost == len(produced)
    seqs = {e["seq"] for e in events}
    assert len(set(range(1, max(seqs) + 1)) - seqs) == lost
    assert summary_counts(tracer, f"file:{path}")["lost"] == lost


ECS_KINDS = {"alert", "event", "metric", "state", "pipeline_error", "signal", "enrichment"}
ECS_TYPES = {"access", "admin", "allowed", "change", "connection", "creation", "deletion",
             "denied", "end", "error", "group", "indicator", "info", "installation", "protocol",
             "start", "user"}
ECS_CATEGORIES = {"network", "process", "host", "intrusion_detection"}


def check_ecs(e):
    """The ECS fields portwarden writes, with ECS's types and allowed values."""
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", e["@timestamp"])
    assert e["ecs"]["version"].startswith("8.")
    ev = e["event"]
    assert ev["kind"] in ECS_KINDS
    assert set(ev["type"]) <= ECS_TYPES
    assert set(ev.get("category", [])) <= ECS_CATEGORIES
    assert ev.get("outcome", "unknown") in {"success", "failure", "unknown"}
    assert ev["dataset"].startswith("portwarden.")
    assert isinstance(ev["sequence"], int)
    assert isinstance(e["host"]["name"], str)
    for end in ("source", "destination"):
        if end in e:
            ipaddress.ip_address(e[end]["ip"])
            assert 0 < e[end].get("port", 1) < 65536
    if "process" in e:
        assert isinstance(e["process"]["pid"], int)
        assert isinstance(e["process"]["name"], str)
        assert isinstance(e["process"]["user"]["id"], str)
    if ev["kind"] == "event":
        assert e["network"]["transport"] in ("tcp", "udp")
        assert e["network"]["type"] in ("ipv4", "ipv6")
        assert "source" in e or "destination" in e


OCSF_ACTIVITIES = {4001: {1, 2, 3, 4, 5, 6, 7, 99}, 0: {99}}


def check_ocsf(e):
    """The attributes OCSF requires of Network Activity / Base Event."""
    assert e["class_uid"] in OCSF_ACTIVITIES
    assert e["category_uid"] == e["class_uid"] // 1000
    assert e["activity_id"] in OCSF_ACTIVITIES[e["class_uid"]]
    assert e["type_uid"] == e["class_uid"] * 100 + e["activity_id"]
    assert isinstance(e["time"], int) and e["time"] > 1_600_000_000_000
    assert e["severity_id"] in {0, 1, 2, 3, 4, 5, 6, 99}
    assert e["status_id"] in {0, 1, 2, 99}
    assert e["metadata"]["product"]["name"] == "portwarden"
    assert re.match(r"^1\.\d+\.\d+$", e["metadata"]["version"])
    if e["class_uid"] == 4001:
        assert "src_endpoint" in e or "dst_endpoint" in e
        for end in ("src_endpoint", "dst_endpoint"):
            if end in e:
                ipaddress.ip_address(e[end]["ip"])
        assert e["connection_info"]["protocol_num"] in (6, 17)


def rfc3339_ms(text):
    whole = datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")
    whole = whole.replace(tzinfo=datetime.timezone.utc)
    return int(whole.timestamp()) * 1000 + int(text[20:23])


def test_ecs_and_ocsf_files_of_real_events(tracers, tmp_path):
    port = free_port()
    ecs, ocsf = tmp_path / "ecs.json", tmp_path / "ocsf.json"
    tracer = tracers("--port", str(port), "--output", "-",
                     "--output", f"file:{ecs},format=ecs", "--output", f"file:{ocsf},format=ocsf")
    conversations(port, 2)
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    second = socket.socket()
    with pytest.raises(OSError):
        second.bind(("127.0.0.1", port))  # bind_failed, EADDRINUSE
    second.close()
    holder.close()
    assert tracer.wait_for(lambda e: e.get("action") == "bind_failed")
    assert tracer.wait_for(lambda e: e.get("action") == "listen_close")
    tracer.stop()
    produced = stdout_events(tracer)
    ecs_events = [json.loads(l) for l in ecs.read_text().splitlines()]
    ocsf_events = [json.loads(l) for l in ocsf.read_text().splitlines()]
    assert len(ecs_events) == len(ocsf_events) == len(produced)
    actions = set()
    for j, e, o in zip(produced, ecs_events, ocsf_events):
        check_ecs(e)
        check_ocsf(o)
        assert e["portwarden"]["seq"] == o["unmapped"]["seq"] == j["seq"]
        assert e["@timestamp"] == j["time"]
        assert o["time"] == rfc3339_ms(j["time"])
        if j["type"] in SOCKET_TYPES:
            actions.add(j["action"])
            assert e["event"]["action"] == o["unmapped"]["action"] == j["action"]
            assert e["process"]["pid"] == o["actor"]["process"]["pid"] == j["process"]["pid"]
            assert e["network"]["transport"] == j["transport"]
            local = {"ip": j["local"]["ip"], "port": j["local"]["port"]}
            ends = [{k: v for k, v in e.get(x, {}).items() if k in ("ip", "port")}
                    for x in ("source", "destination")]
            assert local in ends or j["local"]["port"] == 0
    assert {"bind", "bind_failed", "listen", "connect", "connected", "accepted", "close",
            "listen_close"} <= actions
    failed = [o for j, o in zip(produced, ocsf_events) if j.get("action") == "bind_failed"]
    assert failed[0]["status_code"] == "EADDRINUSE" and failed[0]["status_id"] == 2


def formats_doc_examples():
    """The example line under each '### format' heading of docs/formats.md."""
    text = open(os.path.join(REPO, "docs", "formats.md")).read()
    examples = {}
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        name = section.split("\n", 1)[0].strip()
        block = re.search(r"^```(?:json)?\n(.*)\n```", section, re.M)
        if block:
            examples[name] = block.group(1)
    return examples


def test_docs_examples_are_valid():
    ex = formats_doc_examples()
    assert set(ex) >= {"text", "json", "ecs", "ocsf", "syslog"}, ex.keys()
    assert " accepted " in ex["text"]
    validate_events([json.loads(ex["json"])])
    check_ecs(json.loads(ex["ecs"]))
    check_ocsf(json.loads(ex["ocsf"]))
    m = HEADER.match(ex["syslog"].split(" ", 1)[1])  # "LEN <PRI>1 ..." as sent over TCP
    assert m and int(ex["syslog"].split(" ", 1)[0]) == len(ex["syslog"].split(" ", 1)[1].encode())
    validate_events([json.loads(m.group(5))])


@pytest.mark.parametrize("conf", sorted(glob.glob(os.path.join(REPO, "examples", "rsyslog",
                                                               "*.conf"))))
def test_example_rsyslog_configs_pass_rsyslogd_check(conf, tmp_path):
    # -N1: check the config and exit. The examples name their spool dirs
    # under /var/spool/rsyslog; point them at a scratch dir instead.
    text = open(conf).read().replace("/var/spool/rsyslog", str(tmp_path))
    local = tmp_path / os.path.basename(conf)
    local.write_text(text)
    r = subprocess.run([RSYSLOGD, "-N1", "-f", str(local)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_start_errors_are_clear():
    r = subprocess.run([binary(), "--output", "file:/nonexistent-dir/pw.json"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "cannot open output file /nonexistent-dir/pw.json: No such file or directory" in r.stderr
    r = subprocess.run([binary(), "--output", "tcp://127.0.0.1"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert "--output 'tcp://127.0.0.1': missing ':PORT' after the host" in r.stderr
    r = subprocess.run([binary(), "--output", "udp://no-such-host.invalid:514"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "cannot resolve 'no-such-host.invalid'" in r.stderr


def test_every_example_rsyslog_config_is_checked():
    names = {os.path.basename(p) for p in glob.glob(os.path.join(REPO, "examples", "rsyslog",
                                                                 "*.conf"))}
    assert {"portwarden-to-elasticsearch.conf", "portwarden-to-kafka.conf",
            "portwarden-forward-from-host.conf"} <= names


def args_are_valid(args):
    """portwarden parses (and checks) every option before it acts on --help."""
    r = subprocess.run([binary()] + list(args) + ["--help"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr


def test_daemonset_manifest():
    yaml = pytest.importorskip("yaml")  # python3-yaml, in scripts/deps.sh test
    docs = list(yaml.safe_load_all(open(os.path.join(REPO, "examples", "k8s",
                                                     "daemonset.yaml"))))
    ds = next(d for d in docs if d["kind"] == "DaemonSet")
    assert ds["apiVersion"] == "apps/v1"
    assert ds["spec"]["selector"]["matchLabels"].items() <= \
        ds["spec"]["template"]["metadata"]["labels"].items()
    pod = ds["spec"]["template"]["spec"]
    assert pod["hostPID"] is True
    (container,) = pod["containers"]
    caps = set(container["securityContext"]["capabilities"]["add"])
    assert {"BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH"} <= caps
    volumes = {v["name"] for v in pod["volumes"]}
    assert {m["name"] for m in container["volumeMounts"]} <= volumes
    args_are_valid(container["args"])


def test_systemd_unit():
    unit = open(os.path.join(REPO, "dist", "portwarden.service")).read()
    env = re.search(r"^Environment=PORTWARDEN_OUTPUTS=(.*)$", unit, re.M).group(1)
    args_are_valid(env.split())
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze not installed")
    with open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "portwarden-test.service"), "w") as f:
        f.write(unit.replace("/usr/local/sbin/portwarden", binary()))
    r = subprocess.run([analyze, "verify", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    # verify exits 0 on unknown keys too: any message is a finding.
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


def test_vector_and_fluent_bit_examples_parse():
    import tomllib
    with open(os.path.join(REPO, "examples", "vector.toml"), "rb") as f:
        vector = tomllib.load(f)
    known = set(vector["sources"]) | set(vector.get("transforms", {}))
    for section in ("transforms", "sinks"):
        for name, conf in vector[section].items():
            assert set(conf["inputs"]) <= known, (section, name)
    assert vector["sources"]["portwarden"]["include"] == ["/var/log/portwarden/events.json"]
    # Fluent Bit's classic format: [SECTION] then "Key Value" lines.
    sections = []
    for line in open(os.path.join(REPO, "examples", "fluent-bit.conf")):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            assert re.fullmatch(r"\[(SERVICE|INPUT|FILTER|OUTPUT)\]", line), line
            sections.append((line, {}))
        else:
            key, value = line.split(None, 1)
            sections[-1][1][key] = value
    inputs = [s for n, s in sections if n == "[INPUT]"]
    outputs = [s for n, s in sections if n == "[OUTPUT]"]
    assert inputs[0]["Path"] == "/var/log/portwarden/events.json"
    assert outputs[0]["Match"] == inputs[0]["Tag"]
