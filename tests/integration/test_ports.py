"""Issue 5: `portwarden ports`, the open-port inventory, on the real kernel.
Listeners on a well-known, a registered and a dynamic port, TCP and UDP,
loopback and wildcard, each in its own named process; the inventory must
list each with its owner, scope and category, and agree with `ss -tulpn`."""
import json
import os
import random
import re
import shutil
import socket
import subprocess

import pytest

from conftest import PYTHON, Peer, binary, netns_inode, validate_events

WELL_KNOWN_CANDIDATES = [7, 9, 13, 19, 37, 79, 113, 119, 179, 389, 513, 543]


def port_is_free(port, proto, family, addr):
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    fam = socket.AF_INET6 if family == "6" else socket.AF_INET
    with socket.socket(fam, kind) as s:
        try:
            s.bind((addr, port))
        except OSError:
            return False
    return True


def pick_port(candidates, proto, family, addr):
    for port in candidates:
        if port_is_free(port, proto, family, addr):
            return port
    raise RuntimeError(f"no free {proto} port among {candidates[:5]}...")


def run_ports(*args, check=True):
    proc = subprocess.run([binary(), "ports", *args], capture_output=True, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def ports_json(*args):
    proc = run_ports("--json", *args)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    validate_events(events)
    return events


class Listener:
    """One peer process holding a listening TCP or bound UDP socket."""

    def __init__(self, proto, family, addr, port, comm):
        args = ["bind", "--family", family, "--proto", proto, "--port", port, "--addr", addr,
                "--hold"]
        if proto == "tcp":
            args.append("--listen")
        self.proto, self.family, self.addr, self.port, self.comm = proto, family, addr, port, comm
        self.peer = Peer(*args, comm=comm)
        bound = self.peer.expect("bound") if proto == "udp" else self.peer.expect("listening")
        assert int(bound) == port, self.peer.said
        self.pid = self.peer.pid

    def scope(self):
        if self.addr in ("0.0.0.0", "::"):
            return "any"
        if self.addr in ("127.0.0.1", "::1"):
            return "loopback"
        return "address"

    def category(self):
        if self.port < 1024:
            return "well-known"
        return "registered" if self.port < 49152 else "dynamic"

    def find(self, events):
        fam = "ipv6" if self.family == "6" else "ipv4"
        found = [e for e in events if e["type"] == "snapshot" and e["transport"] == self.proto
                 and e["family"] == fam and e["local"]["port"] == self.port
                 and e["local"]["ip"] == self.addr]
        assert len(found) == 1, (self.proto, self.port, found)
        return found[0]


@pytest.fixture
def listeners():
    """Six listeners: well-known, registered, dynamic x TCP, UDP, loopback, wildcard."""
    rng = random.Random(os.getpid())
    made = []
    plan = [
        ("tcp", "4", "0.0.0.0", WELL_KNOWN_CANDIDATES, "pw-inv-wk-tcp"),
        ("udp", "4", "127.0.0.1", WELL_KNOWN_CANDIDATES, "pw-inv-wk-udp"),
        ("tcp", "6", "::1", [rng.randrange(20000, 30000) for _ in range(50)], "pw-inv-rg-tcp"),
        ("udp", "6", "::", [rng.randrange(20000, 30000) for _ in range(50)], "pw-inv-rg-udp"),
        ("tcp", "4", "127.0.0.1", [rng.randrange(61000, 65535) for _ in range(50)], "pw-inv-dy-tcp"),
        ("udp", "4", "0.0.0.0", [rng.randrange(61000, 65535) for _ in range(50)], "pw-inv-dy-udp"),
    ]
    try:
        for proto, family, addr, candidates, comm in plan:
            port = pick_port(candidates, proto, family, addr)
            made.append(Listener(proto, family, addr, port, comm))
        yield made
    finally:
        for listener in made:
            listener.peer.finish()


def test_json_lists_each_listener_with_owner_scope_and_category(listeners):
    events = ports_json()
    netns = netns_inode()
    for lst in listeners:
        e = lst.find(events)
        assert e["action"] == "existing"
        assert e["process"]["pid"] == lst.pid
        assert e["process"]["comm"] == lst.comm
        assert e["process"]["uid"] == os.getuid()
        assert e["process"]["user"] == "root"
        assert e["process"]["ppid"] == os.getpid()
        assert os.path.realpath(e["process"]["exe"]) == os.path.realpath(PYTHON)
        assert e["attribution"] == "socket"
        assert e["local"]["ip"] == lst.addr
        assert e["local"]["scope"] == lst.scope()
        assert e["local"]["category"] == lst.category()
        assert e["remote"]["port"] is None
        assert e["netns"] == netns
        assert isinstance(e["sock_cookie"], int) and e["sock_cookie"] > 0
        if lst.proto == "tcp":
            assert e["direction"] == "listen"
            assert e["tcp"]["state"] == "LISTEN"
        else:
            assert "tcp" not in e
    # One line per socket, each socket once.
    cookies = [e["sock_cookie"] for e in events]
    assert len(cookies) == len(set(cookies))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    # Sorted: tcp before udp, then by port.
    keys = [(e["transport"], e["local"]["port"]) for e in events]
    assert keys == sorted(keys)


def parse_ss(output):
    """(transport, ip, port) -> set of pids, from `ss -tulpnH`."""
    out = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        netid, local = fields[0], fields[4]
        ip, _, port = local.rpartition(":")
        ip = ip.split("%")[0].strip("[]")
        ip = {"*": "::"}.get(ip, ip)
        pids = {int(p) for p in re.findall(r"pid=(\d+)", line)}
        out[(netid, ip, int(port))] = pids
    return out


def test_agrees_with_ss(listeners):
    if not shutil.which("ss"):
        pytest.fail("ss (iproute2) is needed: scripts/deps.sh test installs it")

    def ss():
        proc = subprocess.run(["ss", "-tulpnH"], capture_output=True, text=True, check=True)
        return parse_ss(proc.stdout)

    before = ss()
    events = ports_json()
    after = ss()
    ours = {}
    for e in events:
        ip = e["local"]["ip"]
        # ss prints an unspecified IPv6 address as '*'.
        ours[(e["transport"], ip, e["local"]["port"])] = e
    # Whatever was open throughout is listed; whatever is listed was open.
    stable = set(before) & set(after)
    assert stable - set(ours) == set(), (stable, sorted(ours))
    assert set(ours) - (set(before) | set(after)) == set(), (before, after, sorted(ours))
    for key in stable:
        pids = before[key] & after[key]
        if pids:
            assert ours[key]["process"]["pid"] in pids, (key, pids, ours[key]["process"])
        elif not before[key] and not after[key]:
            assert ours[key]["process"]["pid"] is None, ours[key]
    for lst in listeners:
        ip = lst.addr
        assert before[(lst.proto, ip, lst.port)] == {lst.pid}


def test_text_table(listeners):
    out = run_ports().stdout
    lines = out.splitlines()
    assert lines[0].split() == ["PROTO", "LOCAL", "SCOPE", "CATEGORY", "SERVICE", "PID", "COMM",
                                "USER", "EXE", "CONTAINER"]
    for lst in listeners:
        local = f"[{lst.addr}]:{lst.port}" if lst.family == "6" else f"{lst.addr}:{lst.port}"
        proto = lst.proto + ("6" if lst.family == "6" else "")
        rows = [line.split() for line in lines[1:] if line.split()[:2] == [proto, local]]
        assert len(rows) == 1, (local, out)
        row = rows[0]
        assert row[2] == lst.scope()
        assert row[3] == lst.category()
        # SERVICE may be '-'; the owner columns follow it.
        assert row[5] == str(lst.pid)
        assert row[6] == lst.comm
        assert row[7] == "root"
        assert row[-1] == "-"  # no container


def test_family_filter(listeners):
    v4 = ports_json("-4")
    v6 = ports_json("--ipv6")
    assert v4 and all(e["family"] == "ipv4" for e in v4)
    assert v6 and all(e["family"] == "ipv6" for e in v6)
    for lst in listeners:
        lst.find(v6 if lst.family == "6" else v4)


HOLD_SERVER = """
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
print("accepted", flush=True)
sys.stdin.read()
"""
HOLD_CLIENT = """
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(c.getsockname()[1], flush=True)
sys.stdin.read()
"""


def test_all_shows_established_connections_with_direction():
    server = subprocess.Popen([PYTHON, "-c", HOLD_SERVER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    client = None
    try:
        port = int(server.stdout.readline())
        client = subprocess.Popen([PYTHON, "-c", HOLD_CLIENT, str(port)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        client_port = int(client.stdout.readline())
        assert server.stdout.readline().strip() == "accepted"

        default = ports_json()
        assert not [e for e in default if e["local"]["port"] == client_port]
        assert [e["direction"] for e in default if e["local"]["port"] == port] == ["listen"]

        events = ports_json("--all")
        outbound = [e for e in events if e["local"]["port"] == client_port
                    and e["remote"]["port"] == port]
        inbound = [e for e in events if e["local"]["port"] == port
                   and e["remote"]["port"] == client_port]
        assert len(outbound) == 1 and len(inbound) == 1, events
        assert outbound[0]["direction"] == "outbound"
        assert outbound[0]["process"]["pid"] == client.pid
        assert outbound[0]["tcp"]["state"] == "ESTABLISHED"
        assert outbound[0]["remote"]["ip"] == "127.0.0.1"
        assert inbound[0]["direction"] == "inbound"
        assert inbound[0]["process"]["pid"] == server.pid
        assert inbound[0]["tcp"]["state"] == "ESTABLISHED"

        table = run_ports("--all").stdout.splitlines()
        assert table[0].split()[:4] == ["PROTO", "STATE", "LOCAL", "REMOTE"]
        assert any(line.split()[:4] == ["tcp", "ESTABLISHED", f"127.0.0.1:{client_port}",
                                        f"127.0.0.1:{port}"] for line in table), table
    finally:
        for proc in (client, server):
            if proc:
                proc.stdin.close()
                proc.wait(10)


def test_cookie_is_the_tracers(tracers, listeners):
    """The inventory's sock_cookie is the kernel cookie the tracer reports."""
    lst = Listener("tcp", "4", "127.0.0.1", pick_port(
        [random.randrange(30000, 40000) for _ in range(50)], "tcp", "4", "127.0.0.1"),
        "pw-inv-cookie")
    try:
        events = ports_json()
        cookie = lst.find(events)["sock_cookie"]
    finally:
        lst.peer.finish()
    # Now watch a fresh listener get the same cookie in both views.
    port = pick_port([random.randrange(40000, 49000) for _ in range(50)], "tcp", "4", "127.0.0.1")
    tracer = tracers("--port", str(port), "--states-only")
    lst = Listener("tcp", "4", "127.0.0.1", port, "pw-inv-cookie2")
    try:
        assert tracer.wait_for(lambda e: e.get("action") == "listen"), tracer.stderr_lines
        snap = lst.find(ports_json())
    finally:
        lst.peer.finish()
    tracer.stop()
    listen = [e for e in tracer.events() if e.get("action") == "listen"]
    assert len(listen) == 1
    assert listen[0]["sock_cookie"] == snap["sock_cookie"]
    assert listen[0]["process"]["pid"] == snap["process"]["pid"] == lst.pid
    assert cookie != snap["sock_cookie"]


def test_usage_errors():
    proc = run_ports("--bogus", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "portwarden ports: --bogus: unknown option (see ports --help)"
    proc = run_ports("--alerts-only", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "portwarden ports: --alerts-only needs --policy FILE"
    proc = run_ports("-4", "-6", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "portwarden ports: -4 and -6 exclude each other"
    proc = run_ports("extra", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "portwarden ports: 'extra': unexpected argument (see ports --help)"
    proc = run_ports("--help")
    assert proc.stdout.startswith("Usage: portwarden ports")


def test_policy_marks_exactly_the_sockets_not_allowed(listeners, tmp_path):
    allowed = listeners[0:2] + listeners[4:5]
    policy = tmp_path / "inv.policy"
    policy.write_text("# allow three of our six\n" + "".join(
        f"allow listen {lst.proto} {lst.port} comm={lst.comm}\n" for lst in allowed))
    proc = run_ports("--json", "--policy", str(policy), check=False)
    assert proc.returncode == 3, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    validate_events(events)
    # Other tests may run on this machine: look at the test's own processes.
    ours = {lst.pid: lst for lst in listeners}

    def alerted_of(lines):
        return sorted((e["transport"], e["local"]["port"]) for e in lines
                      if e["type"] == "alert" and e["process"]["pid"] in ours)

    alerted = alerted_of(events)
    assert alerted == sorted((lst.proto, lst.port) for lst in listeners if lst not in allowed)
    for e in events:
        if e["type"] == "alert" and e["process"]["pid"] in ours:
            lst = ours[e["process"]["pid"]]
            assert e["rule"] == "default"
            assert e["process"]["pid"] == lst.pid
            assert e["action"] == "existing"
            verb = "already listening" if lst.proto == "tcp" else "already bound"
            assert e["reason"].startswith(f"{lst.proto} port {lst.port}")
            assert f" {verb} on {lst.addr} " in e["reason"]
            assert e["reason"].endswith(
                f"by {lst.comm} (pid {lst.pid}, user root) is not allowed by {policy}")

    only = run_ports("--json", "--alerts-only", "--policy", str(policy), check=False)
    assert only.returncode == 3
    lines = [json.loads(line) for line in only.stdout.splitlines()]
    assert lines and all(e["type"] == "alert" for e in lines)
    assert alerted_of(lines) == alerted

    table = run_ports("--policy", str(policy), check=False)
    assert table.returncode == 3
    for lst in listeners:
        local = f"[{lst.addr}]:{lst.port}" if lst.family == "6" else f"{lst.addr}:{lst.port}"
        row = [line for line in table.stdout.splitlines() if f" {local} " in line]
        assert len(row) == 1
        assert row[0].endswith("allowed" if lst in allowed else "ALERT default"), row


def test_policy_mistake_is_reported_with_its_place(tmp_path):
    policy = tmp_path / "bad.policy"
    policy.write_text("allow listen tcp 22\n\nallow listen tcp ssh\n")
    proc = run_ports("--policy", str(policy), check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.strip() == (f"portwarden ports: {policy}:3:18: expected a port, range or "
                                   "category after 'tcp', found 'ssh'")
    proc = run_ports("--policy", str(tmp_path / "missing.policy"), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"portwarden ports: cannot read {tmp_path}/missing.policy: "
                                   "No such file or directory")


def test_all_netns_lists_listeners_in_other_namespaces(netns):
    """A listener in its own network namespace (as a container's) is not in
    the default inventory, which like ss is this namespace's, and is in the
    --all-netns one, with its namespace and owner."""
    name = netns()
    ns_inode = os.stat(f"/run/netns/{name}").st_ino
    lst = Peer("bind", "--family", "4", "--proto", "tcp", "--port", 8080, "--addr", "0.0.0.0",
               "--listen", "--hold", comm="pw-inv-netns", netns=name)
    try:
        assert int(lst.expect("listening")) == 8080
        default = ports_json()
        assert not [e for e in default if e["process"]["pid"] == lst.pid]
        assert all(e["netns"] == netns_inode() for e in default)

        proc = run_ports("--json", "--all-netns")
        events = [json.loads(line) for line in proc.stdout.splitlines()]
        validate_events(events)
        found = [e for e in events if e["process"]["pid"] == lst.pid]
        assert len(found) == 1, found
        e = found[0]
        assert e["netns"] == ns_inode
        assert e["process"]["comm"] == "pw-inv-netns"
        assert (e["transport"], e["local"]["ip"], e["local"]["port"]) == ("tcp", "0.0.0.0", 8080)
        assert e["local"]["scope"] == "any"
        assert e["tcp"]["state"] == "LISTEN"
        # Root may still be refused a process or two (another user
        # namespace): then the listing says so, and nothing else.
        for line in proc.stderr.splitlines():
            assert line.startswith("portwarden ports: warning: the network namespace of "), line

        table = run_ports("--all-netns").stdout.splitlines()
        assert table[0].split()[-1] == "NETNS"
        assert [line.split()[-1] for line in table if f" {lst.pid} " in line] == [str(ns_inode)]
    finally:
        lst.finish()


def test_all_netns_without_the_right_to_enter_says_what_is_missing(netns):
    name = netns()
    lst = Peer("bind", "--family", "4", "--proto", "udp", "--port", 5353, "--addr", "0.0.0.0",
               "--hold", comm="pw-inv-netns2", netns=name)
    try:
        lst.expect("bound")
        # Root without CAP_SYS_ADMIN (util-linux's setpriv, always there).
        proc = subprocess.run(["setpriv", "--bounding-set", "-sys_admin", "--", binary(),
                               "ports", "--json", "--all-netns"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        events = [json.loads(line) for line in proc.stdout.splitlines()]
        assert not [e for e in events if e["process"]["pid"] == lst.pid]
        assert re.search(r"portwarden ports: warning: \d+ network namespaces? could not be "
                         r"entered \((Operation not permitted|Permission denied)\): (its|their) "
                         r"sockets are not listed",
                         proc.stderr), proc.stderr
    finally:
        lst.finish()


def test_policy_connect_rules_check_existing_outbound_connections(tmp_path):
    server = subprocess.Popen([PYTHON, "-c", HOLD_SERVER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    client = None
    try:
        port = int(server.stdout.readline())
        client = subprocess.Popen([PYTHON, "-c", HOLD_CLIENT, str(port)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        client_port = int(client.stdout.readline())
        assert server.stdout.readline().strip() == "accepted"
        policy = tmp_path / "out.policy"
        policy.write_text("allow listen any any\nallow connect tcp 443\n")
        proc = run_ports("--all", "--json", "--alerts-only", "--policy", str(policy), check=False)
        assert proc.returncode == 3, proc.stderr
        alerts = [json.loads(line) for line in proc.stdout.splitlines()]
        validate_events(alerts)
        ours = [a for a in alerts if a["process"]["pid"] in (server.pid, client.pid)]
        assert len(ours) == 1, ours
        alert = ours[0]
        assert alert["process"]["pid"] == client.pid
        assert alert["action"] == "existing"
        assert alert["direction"] == "outbound"
        assert (alert["local"]["port"], alert["remote"]["port"]) == (client_port, port)
        service = alert["remote"]["service"]
        named = f" ({service})" if service else ""
        assert alert["reason"] == (f"existing tcp connection to 127.0.0.1 port {port}{named} by "
                                   f"python3 (pid {client.pid}, user root) is not allowed by "
                                   f"{policy}")
        # Without --all there are no connections to check.
        proc = run_ports("--json", "--alerts-only", "--policy", str(policy), check=False)
        assert not [line for line in proc.stdout.splitlines()
                    if json.loads(line)["process"]["pid"] in (server.pid, client.pid)]
    finally:
        for proc in (client, server):
            if proc:
                proc.stdin.close()
                proc.wait(10)
