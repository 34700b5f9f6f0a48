"""Issue 5: `portwarden --policy`, the allowlist in trace mode, on the real
kernel. Listeners opened before and after the tracer starts, each in its own
named process; alerts must name exactly the ones the policy does not allow.
Machine sockets outside the test's ports are ignored: the assertions are
about the test's own ports."""
import random
import signal
import subprocess
import time

from conftest import Peer, binary
from test_ports import Listener, pick_port


def pick_ports(count, lo=20000, hi=60000):
    """count distinct ports free for TCP and UDP on both families."""
    rng = random.Random()
    chosen = []
    while len(chosen) < count:
        port = pick_port([rng.randrange(lo, hi) for _ in range(50)], "tcp", "6", "::")
        if port not in chosen and all(
                pick_port([port], proto, "4", "0.0.0.0") == port for proto in ("tcp", "udp")):
            chosen.append(port)
    return chosen


def alerts_by_socket(events, ours):
    """(transport, port) -> alert records, for the test's own ports only
    (other tests may be running on this machine)."""
    out = {}
    for e in events:
        if e["type"] != "alert":
            continue
        key = (e["transport"], e["local"]["port"])
        if key in ours and e["local"]["ip"] == ours[key].addr:
            out.setdefault(key, []).append(e)
    return out


def check_alert(alert, lst, policy_path):
    assert alert["rule"] == "default"
    assert alert["process"]["pid"] == lst.pid
    assert alert["process"]["comm"] == lst.comm
    assert alert["local"]["ip"] == lst.addr
    assert alert["reason"].startswith(f"{lst.proto} port {lst.port}")
    assert alert["reason"].endswith(
        f"by {lst.comm} (pid {lst.pid}, user root) is not allowed by {policy_path}")


def test_alerts_for_exactly_the_sockets_not_allowed(tracers, tmp_path):
    a, b, c, d, e, f = pick_ports(6)
    policy = tmp_path / "trace.policy"
    policy.write_text(
        "# the test's allowlist\n"
        f"allow listen tcp {a} comm=pw-pol-a\n"
        f"allow listen tcp {c}\n"
        f"allow listen tcp {d} comm=someone-else   # d is not from someone-else\n"
        f"allow listen udp {f} scope=loopback\n")
    before = [Listener("tcp", "4", "0.0.0.0", a, "pw-pol-a"),
              Listener("udp", "6", "::", b, "pw-pol-b")]
    after = []
    try:
        tracer = tracers("--policy", str(policy))
        after = [Listener("tcp", "6", "::1", c, "pw-pol-c"),
                 Listener("tcp", "4", "127.0.0.1", d, "pw-pol-d"),
                 Listener("udp", "4", "0.0.0.0", e, "pw-pol-e"),
                 Listener("udp", "4", "127.0.0.1", f, "pw-pol-f")]
        for port, action in ((d, "listen"), (e, "bind")):
            assert tracer.wait_for(lambda ev, port=port, action=action: ev["type"] == "alert" and
                                   ev["local"]["port"] == port and ev["action"] == action), \
                tracer.stderr_lines
    finally:
        for lst in before + after:
            lst.peer.finish()
    tracer.stop()
    assert tracer.returncode == 0, tracer.stderr_lines
    events = tracer.events()
    ours = {(lst.proto, lst.port): lst for lst in before + after}
    alerts = alerts_by_socket(events, ours)
    assert set(alerts) == {("udp", b), ("tcp", d), ("udp", e)}, alerts

    # Open before the start: in the snapshot, alerted as "existing".
    snapshot = {(ev["transport"], ev["local"]["port"]): ev for ev in events
                if ev["type"] == "snapshot" and (ev["transport"], ev["local"]["port"]) in ours
                and ev["local"]["ip"] == ours[(ev["transport"], ev["local"]["port"])].addr}
    assert snapshot[("tcp", a)]["process"]["pid"] == before[0].pid
    assert snapshot[("udp", b)]["process"]["pid"] == before[1].pid
    assert [al["action"] for al in alerts[("udp", b)]] == ["existing"]
    check_alert(alerts[("udp", b)][0], before[1], policy)
    assert " already bound on :: (all interfaces) " in alerts[("udp", b)][0]["reason"]

    # Opened after: alerted when it happened. A socket opened while the
    # snapshot was being taken may be in both; the live alert must be there.
    for lst, action, words in ((after[1], "listen", "opened for listening on 127.0.0.1"),
                               (after[2], "bind", "bound on 0.0.0.0")):
        live = [al for al in alerts[(lst.proto, lst.port)] if al["action"] == action]
        assert len(live) == 1, alerts[(lst.proto, lst.port)]
        check_alert(live[0], lst, policy)
        assert f" {words} " in live[0]["reason"]
        assert {al["action"] for al in alerts[(lst.proto, lst.port)]} <= {action, "existing"}

    # An alert follows the record that raised it.
    index = {id(ev): i for i, ev in enumerate(events)}
    for group in alerts.values():
        for al in group:
            i = index[id(al)]
            raised = events[i - 1]
            assert raised["type"] in ("snapshot", "state", "bind")
            assert raised["sock_cookie"] == al["sock_cookie"]
            assert raised["seq"] + 1 == al["seq"]


def test_alerts_only(tracers, tmp_path):
    allowed, denied = pick_ports(2)
    policy = tmp_path / "only.policy"
    policy.write_text(f"allow listen tcp {allowed}\n")
    early = Listener("tcp", "4", "127.0.0.1", denied, "pw-pol-early")
    late = None
    try:
        tracer = tracers("--policy", str(policy), "--alerts-only")
        late = Listener("tcp", "4", "127.0.0.1", allowed, "pw-pol-late")
        assert tracer.wait_for(lambda ev: ev["local"]["port"] == denied)
    finally:
        early.peer.finish()
        if late:
            late.peer.finish()
    tracer.stop()
    events = tracer.events()
    assert events and {ev["type"] for ev in events} <= {"alert", "loss", "stats"}, events
    pids = {ev["process"]["pid"] for ev in events if ev["type"] == "alert"}
    assert early.pid in pids and late.pid not in pids


def test_malformed_policy_stops_the_start(tmp_path):
    policy = tmp_path / "broken.policy"
    policy.write_text("# fine so far\nallow listen tcp 22\nallow listen tpc 80\n")
    proc = subprocess.run([binary(), "--json", "--policy", str(policy)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert (f"portwarden: {policy}:3:14: expected a transport (tcp, udp, tcp,udp or any) "
            "after 'listen', found 'tpc'") in proc.stderr.splitlines()
    assert not any(line.startswith("portwarden: tracing") for line in proc.stderr.splitlines())

    proc = subprocess.run([binary(), "--policy", str(tmp_path / "none.policy")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert f"cannot read {tmp_path}/none.policy: No such file or directory" in proc.stderr


def wait_stderr(tracer, text, start=0, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in tracer.stderr_lines[start:]:
            if text in line:
                return line
        time.sleep(0.02)
    raise AssertionError(f"no stderr line with {text!r}: {tracer.stderr_lines}")


def test_sighup_reloads_and_a_broken_policy_keeps_the_old_one(tracers, tmp_path):
    p1, p2, p3 = pick_ports(3)
    policy = tmp_path / "reload.policy"
    policy.write_text(f"allow listen tcp {p1}\n")
    tracer = tracers("--policy", str(policy))

    policy.write_text(f"allow listen tcp {p2}\n")
    mark = len(tracer.stderr_lines)
    tracer.proc.send_signal(signal.SIGHUP)
    wait_stderr(tracer, "reloaded", mark)
    first = [Listener("tcp", "4", "127.0.0.1", p, f"pw-hup-{i}") for i, p in enumerate((p1, p2))]
    try:
        assert tracer.wait_for(lambda ev: ev["type"] == "alert" and ev["local"]["port"] == p1)
    finally:
        for lst in first:
            lst.peer.finish()

    policy.write_text(f"allow listen tcp {p3}\nallow listen tcp {p2} scope=everywhere\n")
    mark = len(tracer.stderr_lines)
    tracer.proc.send_signal(signal.SIGHUP)
    line = wait_stderr(tracer, f"{policy}:2:", mark)
    assert line.endswith(f"{policy}:2:30: expected loopback, any or address after 'scope=', "
                         "found 'everywhere'"), line
    second = [Listener("tcp", "4", "127.0.0.1", p, f"pw-hup2-{i}") for i, p in enumerate((p2, p3))]
    try:
        assert tracer.wait_for(lambda ev: ev["type"] == "alert" and ev["local"]["port"] == p3)
    finally:
        for lst in second:
            lst.peer.finish()
    tracer.stop()
    assert tracer.returncode == 0
    ours = {("tcp", p1): first[0], ("tcp", p2): second[0], ("tcp", p3): second[1]}
    alerts = alerts_by_socket(tracer.events(), ours)
    # p1 after the first reload, p3 under the kept policy; p2 never.
    assert set(alerts) == {("tcp", p1), ("tcp", p3)}, alerts
    pids = sorted(al["process"]["pid"] for group in alerts.values() for al in group)
    assert pids == sorted([first[0].pid, second[1].pid])


def test_connect_rules_alert_on_other_destinations(tracers, tmp_path):
    ok_port, bad_port = pick_ports(2)
    policy = tmp_path / "out.policy"
    policy.write_text("allow listen tcp any\n"
                      f"allow connect tcp {ok_port} name=allowed-out\n")
    tracer = tracers("--policy", str(policy), "--states-only")
    servers = [Peer("server", "--family", "4", "--port", p, comm="pw-out-srv") for p in
               (ok_port, bad_port)]
    for s in servers:
        s.expect("listening")
    clients = [Peer("client", "--family", "4", "--port", p, "--send", 10, comm="pw-out-cli")
               for p in (ok_port, bad_port)]
    for peer in clients + servers:
        peer.finish()
    assert tracer.wait_for(lambda ev: ev["type"] == "alert" and ev["remote"]["port"] == bad_port)
    tracer.stop()
    events = tracer.events()
    alerts = [ev for ev in events if ev["type"] == "alert"
              and (ev["remote"]["port"] in (ok_port, bad_port)
                   or ev["local"]["port"] in (ok_port, bad_port))]
    assert len(alerts) == 1, alerts
    alert = alerts[0]
    assert alert["action"] == "connect"
    assert alert["rule"] == "default"
    assert alert["process"]["pid"] == clients[1].pid
    service = alert["remote"]["service"]
    named = f" ({service})" if service else ""
    assert alert["reason"] == (f"tcp connection to 127.0.0.1 port {bad_port}{named} by pw-out-cli "
                               f"(pid {clients[1].pid}, user root) is not allowed by {policy}")


def test_policy_option_errors():
    for args, message in ((["--alerts-only"], "--alerts-only needs --policy FILE"),
                          (["--policy", ""], "--policy: empty file name"),
                          (["--policy"], "--policy: needs a value")):
        proc = subprocess.run([binary(), *args], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.strip() == f"portwarden: {message}", (args, proc.stderr)
        assert proc.stdout == ""
