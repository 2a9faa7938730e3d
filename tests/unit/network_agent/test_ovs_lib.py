"""ovs-vsctl/ovs-ofctl wrappers: argv built, output parsed, unsafe values refused."""

from __future__ import annotations

import json

import pytest

from agents.network import ovs
from agents.network.exception import HostCommandError
from common import processutils


class Calls(list):
    """Recorded (argv, stdin) pairs, and replies keyed by an argv word."""

    def __init__(self):
        super().__init__()
        self.replies = {}


@pytest.fixture
def argvs(monkeypatch):
    calls = Calls()
    replies = calls.replies

    def fake(argv, **kwargs):
        calls.append((list(argv), kwargs.get("input")))
        for key, reply in replies.items():
            if key in argv:
                if isinstance(reply, Exception):
                    raise reply
                return reply
        return ""

    monkeypatch.setattr(processutils, "execute", fake)
    return calls


def test_dump_flows_parsing():
    text = ("OFPST_FLOW reply (OF1.4) (xid=0x2):\n"
            " cookie=0xab, duration=1.2s, table=3, n_packets=0, n_bytes=0, priority=5,tcp,"
            "reg5=0x3,tp_dst=0x50/0xfff0 actions=ct(commit,zone=NXM_NX_REG6[0..15]),"
            "output:NXM_NX_REG7[]\n"
            " priority=0 actions=drop\n")
    flows = ovs.parse_flows(text)
    assert flows[0] == ovs.Flow(0xab, 3, 5, "tcp,reg5=0x3,tp_dst=0x50/0xfff0",
                                "ct(commit,zone=NXM_NX_REG6[0..15]),output:NXM_NX_REG7[]")
    assert flows[1] == ovs.Flow(0, 0, 0, "", "drop")


def test_ports_parsing(argvs):
    ifaces = {"headings": ["name", "ofport", "type", "external_ids"], "data": [
        ["br0", 65534, "internal", ["map", []]],
        ["tap1", 3, "", ["map", [["iface-id", "P1"], ["attached-mac", "fa:16:3e:00:00:01"]]]],
        ["other", 9, "", ["map", []]]]}
    ports = {"headings": ["name", "tag", "other_config"], "data": [
        ["tap1", 5, ["map", [["net-id", "N"]]]], ["br0", ["set", []], ["map", []]],
        ["other", ["set", []], ["map", []]]]}
    argvs.replies["list-ports"] = f"{json.dumps(ifaces)}\ntap1\n{json.dumps(ports)}\n"
    found = ovs.Bridge("br0").ports()
    assert list(found) == ["tap1"]  # other bridges' ports are not ours
    assert found["tap1"].iface_id == "P1" and found["tap1"].tag == 5
    assert found["tap1"].other_config == {"net-id": "N"} and found["tap1"].ofport == 3


def test_commands(argvs):
    br = ovs.Bridge("br-int")
    br.ensure()
    assert argvs[-1][0][2:] == ["--may-exist", "add-br", "br-int", "--", "set", "Bridge",
                                "br-int", "datapath_type=netdev", "fail_mode=secure",
                                f"protocols={ovs.PROTOCOLS}"]
    br.add_port("tap1", external_ids={"iface-id": "p-1", "attached-mac": "fa:16:3e:00:00:01"},
                tag=4095)
    assert argvs[-1][0][2:] == ["--may-exist", "add-port", "br-int", "tap1", "--", "set",
                                "Interface", "tap1", "external_ids:iface-id=p-1",
                                "external_ids:attached-mac=fa:16:3e:00:00:01", "--", "set",
                                "Port", "tap1", "tag=4095"]
    br.set_port("tap1", 7, remove_keys=["net-id"])
    assert argvs[-1][0][1:] == ["--timeout=30", "--", "set", "Port", "tap1", "tag=7", "--",
                                "remove", "Port", "tap1", "other_config", "net-id"]
    count = len(argvs)
    br.set_ports([])  # nothing to change: no command at all
    assert len(argvs) == count
    br.replace_flows(["priority=0,actions=drop"])
    assert argvs[-1] == (["ovs-ofctl", "-O", "OpenFlow14", "--bundle", "replace-flows",
                          "br-int", "-"], "priority=0,actions=drop\n")
    br.add_vxlan_port("vxlan-0a000002", "10.0.0.2", "10.0.0.1")
    assert "options:remote_ip=10.0.0.2" in argvs[-1][0] and "options:key=flow" in argvs[-1][0]


@pytest.mark.parametrize("kwargs", [
    {"external_ids": {"iface-id": "x y"}}, {"external_ids": {"iface-id": "a,b"}},
    {"external_ids": {"Bad Key": "v"}}, {"external_ids": {"k": 'v"'}}, {"tag": 5000},
    {"type": "gre"}])
def test_unsafe_values_are_refused(argvs, kwargs):
    with pytest.raises((HostCommandError, ValueError)):
        ovs.Bridge("br-int").add_port("tap1", **kwargs)
    assert argvs == []


def test_command_failures_are_translated(argvs):
    argvs.replies["list-br"] = processutils.ProcessExecutionError(["ovs-vsctl"], 1, "", "down")
    with pytest.raises(HostCommandError, match="down"):
        ovs.list_bridges()
