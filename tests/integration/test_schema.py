"""The schema that every integration test validates output against must
itself reject what the contract forbids; otherwise those checks prove nothing."""
import copy
import json
import os
import re

import jsonschema
import pytest

from conftest import REPO, schema_validator, validate_events

STATE = {
    "schema_version": 1, "seq": 7, "time": "2026-11-25T21:29:22.537692405Z", "host": "vm",
    "type": "state", "action": "close",
    "process": {"pid": 6698, "tid": 6698, "ppid": 6690, "uid": 0, "gid": 0, "comm": "python3",
                "user": "root", "exe": "/usr/bin/python3.11", "cmdline": "python3 t.py",
                "cgroup": "/user.slice", "container_id": None, "cgroup_id": 1},
    "attribution": "socket", "transport": "tcp", "family": "ipv4",
    "local": {"ip": "127.0.0.1", "port": 39242, "category": "registered", "service": None,
              "scope": "loopback"},
    "remote": {"ip": "127.0.0.1", "port": 44919, "category": "registered", "service": None},
    "direction": "outbound", "netns": 4026531833, "sock_cookie": 4098, "hook": "tp_btf",
    "tcp": {"old_state": "FIN_WAIT2", "new_state": "CLOSE", "prev_state_ns": 35562,
            "duration_ns": 847704, "bytes_sent": 1000, "bytes_received": 500},
}


def broken(change):
    event = copy.deepcopy(STATE)
    change(event)
    return event


def test_a_real_state_event_is_valid():
    schema_validator().validate(STATE)


@pytest.mark.parametrize("event", [
    broken(lambda e: e.pop("process")),
    broken(lambda e: e.update(action="opened")),
    broken(lambda e: e.update(unexpected=1)),
    broken(lambda e: e["local"].update(port=70000)),
    broken(lambda e: e["tcp"].update(new_state="OPEN")),
    broken(lambda e: e.update(time="yesterday")),
    broken(lambda e: e.update(type="bind")),
    broken(lambda e: e["process"].pop("exe")),
])
def test_the_schema_rejects_what_the_contract_forbids(event):
    with pytest.raises(jsonschema.ValidationError):
        schema_validator().validate(event)


def test_every_example_in_events_md_is_valid():
    """docs/events.md shows one real line per kind: each must pass the schema,
    so the reference and the contract cannot drift apart."""
    with open(os.path.join(REPO, "docs", "events.md")) as f:
        blocks = re.findall(r"```json\n(.*?)```", f.read(), re.S)
    lines = [json.loads(line) for block in blocks for line in block.splitlines() if line.strip()]
    assert {e["type"] for e in lines} >= {"state", "bind", "snapshot", "alert", "loss", "stats"}
    validate_events(lines)
