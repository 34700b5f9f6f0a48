"""Issue 5: `portwarden report` on a recorded capture (tests/fixtures/capture.ndjson):
the expected counts in text and JSON, gzip and standard input, malformed and
truncated input, and the HTML page rendered by headless Chromium."""
import collections
import gzip
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib

import pytest

from conftest import REPO, Peer, binary, free_port, validate_events

FIXTURE = os.path.join(REPO, "tests", "fixtures", "capture.ndjson")
FIXTURE_LINES = 61


def report(*args, stdin=None):
    return subprocess.run([binary(), "report", *args], input=stdin, capture_output=True,
                          timeout=60)


def report_json(*args, stdin=None):
    done = report("--json", *args, stdin=stdin)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def fixture_events():
    with open(FIXTURE) as f:
        return [json.loads(line) for line in f]


def rows(table, *fields):
    return [tuple(row[f] for f in fields) for row in table]


def test_fixture_follows_the_event_contract():
    events = fixture_events()
    assert len(events) == FIXTURE_LINES
    validate_events(events)
    assert [e["seq"] for e in events] == list(range(1, FIXTURE_LINES + 1))
    assert {e["type"] for e in events} == {"snapshot", "state", "bind", "alert", "loss", "stats"}


def check_fixture_counts(doc):
    """What the capture says, worked out by hand from the recorded story."""
    assert doc["lines"] == FIXTURE_LINES
    assert doc["events"] == FIXTURE_LINES
    assert doc["malformed"] == {"count": 0, "first": []}
    assert doc["lost"] == 22
    assert doc["time"] == {"first": "2026-11-20T09:00:00.000000000Z",
                           "last": "2026-11-20T10:10:00.000000000Z",
                           "span_ns": 4200 * 10**9}
    assert rows(doc["open_ports_by_category"], "category", "ports", "sockets") == [
        ("well-known", 7, 8), ("registered", 2, 2), ("dynamic", 1, 1)]
    # nc's 4444 and redis's 6379 were closed; the ESTABLISHED ssh session is no open port.
    assert rows(doc["open_ports"], "port", "transport", "address", "scope", "process", "user") == [
        (22, "tcp", "0.0.0.0", "any", "sshd", "root"),
        (22, "tcp", "::", "any", "sshd", "root"),
        (53, "tcp", "127.0.0.53", "loopback", "systemd-resolve", "systemd-resolve"),
        (53, "udp", "127.0.0.53", "loopback", "systemd-resolve", "systemd-resolve"),
        (68, "udp", "0.0.0.0", "any", "dhclient", "root"),
        (80, "tcp", "0.0.0.0", "any", "nginx", "root"),
        (323, "udp", "127.0.0.1", "loopback", "chronyd", "_chrony"),
        (443, "tcp", "0.0.0.0", "any", "nginx", "root"),
        (5432, "tcp", "127.0.0.1", "loopback", "postgres", "uid 999"),
        (8000, "tcp", "0.0.0.0", "any", "python3", "alice"),
        (50000, "tcp", "0.0.0.0", "any", "java", "app"),
    ]
    listeners = {r["process"]: (r["user"], r["ports"], r["sockets"], r["open"])
                 for r in doc["listeners"]}
    assert listeners == {
        "nginx": ("root", "80/tcp 443/tcp", 2, 2),
        "sshd": ("root", "22/tcp", 2, 2),
        "systemd-resolve": ("systemd-resolve", "53/tcp 53/udp", 2, 2),
        "chronyd": ("_chrony", "323/udp", 1, 1),
        "dhclient": ("root", "68/udp", 1, 1),
        "java": ("app", "50000/tcp", 1, 1),
        "nc": ("alice", "4444/tcp", 1, 0),
        "postgres": ("uid 999", "5432/tcp", 1, 1),
        "python3": ("alice", "8000/tcp", 1, 1),
        "redis-server": ("redis", "6379/tcp", 1, 0),
    }
    assert rows(doc["alerts"], "rule", "reason", "alerts") == [
        ("default", "listening port not in the allowlist", 2),
        ("no-smtp-out", "outbound connection to port 25 not allowed", 1)]
    assert rows(doc["remote_ports"], "port", "service", "connects", "connected", "failed") == [
        (443, "https", 3, 3, 0), (80, "http", 2, 2, 0), (5432, "postgresql", 2, 0, 2),
        (25, "smtp", 1, 0, 1)]
    assert rows(doc["peers"], "address", "connections", "outbound", "inbound", "failed") == [
        ("198.51.100.4", 4, 0, 4, 0), ("93.184.216.34", 3, 3, 0, 0), ("10.0.0.9", 2, 2, 0, 2),
        ("151.101.2.132", 2, 2, 0, 0), ("198.51.100.23", 1, 1, 0, 1),
        ("203.0.113.7", 1, 0, 1, 0)]
    assert rows(doc["connect_failures"], "address", "port", "process", "failures") == [
        ("10.0.0.9", 5432, "psql", 2), ("198.51.100.23", 25, "mailer", 1)]
    assert rows(doc["loss"], "reason", "reports", "lost") == [("ringbuf_full", 2, 22)]


def test_json_counts():
    doc = report_json(FIXTURE)
    assert doc["report_version"] == 1
    assert doc["files"] == [{"name": FIXTURE, "format": "plain", "lines": FIXTURE_LINES,
                             "error": None}]
    check_fixture_counts(doc)
    # Event counts agree with an independent count of the same file.
    expected = collections.Counter((e["type"], e.get("action")) for e in fixture_events())
    got = {(r["type"], r["action"]): r["events"] for r in doc["events_by_type"]}
    assert got == dict(expected)
    assert rows(doc["hosts"], "host", "events") == [("web1", FIXTURE_LINES)]


def table_rows(text, title):
    """Rows of one text table: the lines after its header, split on 2+ spaces."""
    block = text.split("\n" + title + "\n", 1)[1].split("\n\n", 1)[0]
    lines = block.splitlines()
    return [re.split(r"\s{2,}", line.strip()) for line in lines[1:]]


def test_text_counts():
    done = report(FIXTURE)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""
    text = done.stdout.decode()
    assert text.startswith("portwarden report\n")
    assert f"events:     {FIXTURE_LINES} events in {FIXTURE_LINES} lines (0 malformed, 0 blank)" in text
    assert "(1h 10m 00s)" in text
    assert "loss:       22 events lost in the kernel" in text
    assert table_rows(text, "Open ports by category") == [
        ["well-known", "7", "8"], ["registered", "2", "2"], ["dynamic", "1", "1"]]
    open_ports = table_rows(text, "Open ports at the end of the capture")
    assert [(r[0], r[1], r[6]) for r in open_ports] == [
        ("22", "tcp", "sshd"), ("22", "tcp", "sshd"), ("53", "tcp", "systemd-resolve"),
        ("53", "udp", "systemd-resolve"), ("68", "udp", "dhclient"), ("80", "tcp", "nginx"),
        ("323", "udp", "chronyd"), ("443", "tcp", "nginx"), ("5432", "tcp", "postgres"),
        ("8000", "tcp", "python3"), ("50000", "tcp", "java")]
    assert table_rows(text, "Alerts") == [
        ["default", "listening port not in the allowlist", "2"],
        ["no-smtp-out", "outbound connection to port 25 not allowed", "1"]]
    assert table_rows(text, "Busiest remote ports (outbound)")[0] == [
        "443", "tcp", "https", "well-known", "3", "3", "0"]
    assert table_rows(text, "Connect failures by remote") == [
        ["10.0.0.9", "5432", "postgresql", "psql", "2"],
        ["198.51.100.23", "25", "smtp", "mailer", "1"]]
    assert table_rows(text, "Events lost in the kernel") == [["ringbuf_full", "2", "22"]]
    # Columns are aligned: every row of a table is as long as its header
    # unless its last cell is longer.
    header, *lines = text.split("\nBusiest peers\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert all(len(line) == len(header) for line in lines)


def test_top_limits_the_busiest_tables():
    text = report("--top", "2", FIXTURE).stdout.decode()
    assert len(table_rows(text, "Busiest peers")) == 3  # two rows and the "more" line
    assert "  ... 4 more (--top 0 shows all)" in text
    assert len(table_rows(report("--top", "0", FIXTURE).stdout.decode(), "Busiest peers")) == 6


def test_gzip_and_standard_input(tmp_path):
    gz = tmp_path / "capture.ndjson.gz"
    with open(FIXTURE, "rb") as src, gzip.open(gz, "wb") as dst:
        dst.write(src.read())
    doc = report_json(str(gz))
    assert doc["files"] == [{"name": str(gz), "format": "gzip", "lines": FIXTURE_LINES,
                             "error": None}]
    check_fixture_counts(doc)
    # The magic bytes decide, not the name.
    renamed = tmp_path / "capture.log"
    shutil.copy(gz, renamed)
    assert report_json(str(renamed))["files"][0]["format"] == "gzip"

    with open(FIXTURE, "rb") as f:
        doc = report_json("-", stdin=f.read())
    assert doc["files"][0]["name"] == "<stdin>"
    check_fixture_counts(doc)

    # Two files of the same run: every event counts twice, but a socket seen
    # in both is still one open port.
    doc = report_json(FIXTURE, str(gz))
    assert doc["events"] == 2 * FIXTURE_LINES
    assert doc["lost"] == 44
    assert rows(doc["open_ports_by_category"], "category", "ports", "sockets") == [
        ("well-known", 7, 8), ("registered", 2, 2), ("dynamic", 1, 1)]


def test_malformed_lines_are_counted_not_fatal(tmp_path):
    with open(FIXTURE) as f:
        lines = f.read().splitlines()
    broken = lines[:3] + ['{"schema_version":1,"type":"state",'] + lines[3:10] + \
        ["", "garbage", '{"schema_version":1,"time":"2026-11-20T09:00:00Z","type":"bind",'
         '"action":"bind","local":{"port":70000}}'] + lines[10:]
    # A capture cut off mid-line (the tracer was killed) ends without a newline.
    path = tmp_path / "broken.ndjson"
    path.write_text("\n".join(broken) + "\n" + lines[0][:50])
    done = report("--json", str(path))
    assert done.returncode == 0
    doc = json.loads(done.stdout)
    assert doc["events"] == FIXTURE_LINES
    assert doc["blank_lines"] == 1
    assert doc["malformed"]["count"] == 4
    assert [(m["file"], m["line"], m["column"]) for m in doc["malformed"]["first"]] == [
        (str(path), 4, 36), (str(path), 13, 1), (str(path), 14, None),
        (str(path), len(broken) + 1, 36)]  # the time string that never ends
    assert doc["malformed"]["first"][2]["error"] == \
        "local.port: expected an integer from 0 to 65535"
    assert doc["malformed"]["first"][3]["error"] == "unterminated string"
    assert f"4 malformed lines, the first at {path}:4:36: unexpected end of input" in \
        done.stderr.decode()
    text = report(str(path)).stdout.decode()
    assert f"Malformed lines (4, first 4 shown)\n  {path}:4:36: " in text


def test_unreadable_input(tmp_path):
    gz = tmp_path / "cut.gz"
    data = gzip.compress(open(FIXTURE, "rb").read())
    gz.write_bytes(data[: len(data) // 2])
    done = report("--json", str(gz))
    # What could be read is reported, and the exit status says it was not all.
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["files"][0]["format"] == "gzip"
    assert doc["files"][0]["error"]
    assert 0 < doc["events"] < FIXTURE_LINES
    assert f"{gz}: " in done.stderr.decode()

    done = report(str(tmp_path / "missing.ndjson"))
    assert done.returncode == 1
    assert "missing.ndjson: No such file or directory" in done.stderr.decode()


def test_usage_errors():
    done = report()
    assert done.returncode == 2
    assert b"no input files (use - for standard input)" in done.stderr
    done = report("--json", "--html", FIXTURE)
    assert done.returncode == 2
    assert b"choose one of --text, --json and --html" in done.stderr
    done = report("--top", "x", FIXTURE)
    assert done.returncode == 2
    assert b"--top: 'x' is not a number" in done.stderr
    done = report("--help")
    assert done.returncode == 0
    assert done.stdout.startswith(b"Usage: portwarden report")


def png_pixels(path):
    """Decode an 8-bit RGB or RGBA PNG (what Chromium writes): (width, height, rows)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), f"unexpected PNG format {depth}/{color}"
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        filt = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if filt == 1:
                line[i] = (line[i] + a) & 0xFF
            elif filt == 2:
                line[i] = (line[i] + b) & 0xFF
            elif filt == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [[tuple(r[x * bpp:x * bpp + 3]) for x in range(width)] for r in rows]


def test_html_report_renders_in_chromium(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium is not installed (scripts/deps.sh test installs Debian's chromium)")
    done = report("--html", FIXTURE)
    assert done.returncode == 0, done.stderr.decode()
    html = done.stdout.decode()
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n")
    # Self-contained: no script, nothing fetched.
    assert not re.search(r"<script|<link|<img|\bsrc=|\bhref=|url\(|@import", html)
    page = tmp_path / "report.html"
    page.write_text(html)
    shot = tmp_path / "out.png"
    profile = tempfile.mkdtemp(dir=tmp_path)
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={shot}",
         "--window-size=1200,900", f"file://{page}"],
        capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert shot.stat().st_size > 0
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (1200, 900)
    colours = collections.Counter(p for row in pixels for p in row)
    # A blank or failed page is one or two colours; text, tables and charts are many.
    assert len(colours) > 50, f"only {len(colours)} distinct colours"
    # The page's own colours are on screen: the table header, the first
    # bar of the first chart, and the page background.
    assert colours[(0x0B, 0x4F, 0x6C)] > 1000
    assert colours[(0x2F, 0x80, 0xED)] > 1000
    assert colours[(0xF7, 0xF9, 0xFB)] > 100000


def test_report_on_a_live_capture(tracers, tmp_path):
    """Record the real tracer while our own processes listen, bind, connect and
    fail, then check that the report tells exactly that story."""
    server_port, dead_port = free_port(), free_port()
    server = Peer("server", "--port", server_port, "--accepts", 2, comm="pwrsrv", wait=True)
    holder = Peer("bind", "--listen", "--hold", comm="pwrhold", wait=True)
    udp = Peer("bind", "--proto", "udp", "--addr", "0.0.0.0", "--hold", comm="pwrudp", wait=True)
    clients = [Peer("client", "--port", server_port, "--send", 100, comm="pwrcli", wait=True)
               for _ in range(2)]
    failing = Peer("client", "--port", dead_port, comm="pwrfail", wait=True)
    peers = [server, holder, udp, *clients, failing]
    tracer = tracers("-p", ",".join(str(p.pid) for p in peers))
    server.go()
    server.expect("listening")
    for peer in (holder, udp):
        peer.go()
        peer.expect("bound")
    hold_port = int(holder.said["bound"])
    udp_port = int(udp.said["bound"])
    for client in clients:
        client.go()
        client.finish()
    server.finish()
    failing.go()
    failing.proc.wait(30)  # connection refused: it exits with an error, as it should
    assert tracer.wait_for(lambda e: e.get("action") == "connect_failed"
                           and e["process"]["pid"] == failing.pid)
    assert tracer.wait_for(lambda e: e.get("action") == "listen_close"
                           and e["process"]["pid"] == server.pid)
    tracer.stop()
    for peer in (holder, udp):
        peer.finish()

    capture = tmp_path / "live.ndjson"
    capture.write_text("".join(tracer.stdout_lines))
    events = tracer.events()
    doc = report_json(str(capture))
    assert doc["events"] == len(events)
    assert doc["malformed"]["count"] == 0
    assert {(r["type"], r["action"]): r["events"] for r in doc["events_by_type"]} == \
        dict(collections.Counter((e["type"], e.get("action")) for e in events))

    listeners = {r["process"]: (r["ports"], r["sockets"], r["open"]) for r in doc["listeners"]}
    assert listeners["pwrsrv"] == (f"{server_port}/tcp", 1, 0)
    assert listeners["pwrhold"] == (f"{hold_port}/tcp", 1, 1)
    assert listeners["pwrudp"] == (f"{udp_port}/udp", 1, 1)
    ours = [r for r in doc["open_ports"] if r["process"] in ("pwrsrv", "pwrhold", "pwrudp")]
    assert rows(sorted(ours, key=lambda r: r["process"]),
                "process", "port", "transport", "address", "scope", "pid") == [
        ("pwrhold", hold_port, "tcp", "127.0.0.1", "loopback", holder.pid),
        ("pwrudp", udp_port, "udp", "0.0.0.0", "any", udp.pid)]

    remote = {r["port"]: (r["connects"], r["connected"], r["failed"]) for r in doc["remote_ports"]}
    assert remote[server_port] == (2, 2, 0)
    assert remote[dead_port] == (1, 0, 1)
    assert rows(doc["connect_failures"], "address", "port", "process", "failures") == [
        ("127.0.0.1", dead_port, "pwrfail", 1)]
    peer_row = {r["address"]: r for r in doc["peers"]}["127.0.0.1"]
    assert (peer_row["outbound"], peer_row["inbound"], peer_row["failed"]) == (3, 2, 1)


def test_line_length_limit():
    """A line of up to 1 MiB is read; a longer one is skipped to its end and
    counted, and the lines after it are read as usual."""
    with open(FIXTURE) as f:
        first, second, third = f.read().splitlines()[:3]
    exact = '{"schema_version":1,"time":"2026-11-20T09:00:00Z","type":"stats","pad":"'
    exact += "b" * ((1 << 20) - len(exact) - 2) + '"}'
    assert len(exact) == 1 << 20
    too_long = exact[:-2] + 'b"}'
    data = "\n".join([first, "[" * (3 << 20), second, exact, too_long, third]) + "\n"
    doc = report_json("-", stdin=data.encode())
    assert doc["events"] == 4
    assert [(m["line"], m["error"]) for m in doc["malformed"]["first"]] == [
        (2, "line longer than 1048576 bytes"), (5, "line longer than 1048576 bytes")]
