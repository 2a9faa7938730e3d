"""The OVS agent's logic over in-memory bridges."""

from __future__ import annotations

import uuid

import pytest

from agents.network import conf as agent_conf
from agents.network import ovs_agent
from agents.network.ovs_flows import DEAD_VLAN
from tests.unit.network_agent.fakes import FakeBridge, FakeServer

NET = str(uuid.uuid4())


def port(**extra):
    data = {"id": str(uuid.uuid4()), "mac_address": "fa:16:3e:00:00:05", "network_id": NET,
            "device_owner": "compute:nova", "admin_state_up": True, "status": "DOWN",
            "network_type": "vxlan", "physical_network": None, "segmentation_id": 1001,
            "fixed_ips": [{"subnet_id": "s", "ip_address": "10.0.0.5"}],
            "port_security_enabled": True, "security_group_ids": ["g"],
            "allowed_address_pairs": []}
    data.update(extra)
    return data


@pytest.fixture
def agent(monkeypatch):
    FakeBridge.registry.clear()
    monkeypatch.setattr(ovs_agent.ovs, "Bridge", FakeBridge.get)
    conf = agent_conf.make("stratus-ovs-agent", None, {"DEFAULT": {"host": "h1"}})
    server = FakeServer()
    server.ovs_state["security_groups"] = {"g": {"id": "g", "rules": [], "member_ips": {}}}
    return ovs_agent.OvsAgent(conf, server)


def test_full_sync_wires_known_ports_and_parks_unknown_ones(agent):
    p1, p2 = port(), port(admin_state_up=False, status="ACTIVE")
    agent.server.ovs_state["ports"] = [p1, p2]
    br = FakeBridge.get("br-int")
    br.plug("tapA", p1["id"])
    br.plug("tapB", p2["id"])
    br.plug("tapC", str(uuid.uuid4()))  # a port the service does not bind here
    br.plug("tapD", "not-a-uuid")
    stats = agent.run_once()
    assert stats["ports"] == 1 and stats["dead"] == 3
    ports = br.ports()
    assert ports["tapA"].tag == 1 and ports["tapA"].other_config == {"net-id": NET}
    assert {ports[n].tag for n in ("tapB", "tapC", "tapD")} == {DEAD_VLAN}
    assert (sorted([p1["id"]]), "ACTIVE") in agent.server.statuses
    assert ([p2["id"]], "DOWN") in agent.server.statuses
    assert FakeBridge.get("br-ex").exists and "int-br-ex" in ports
    assert all(f.startswith(f"cookie={agent.cookie:#x},") for f in br.flows)


def test_restart_keeps_local_vlans_and_rewrites_flows_once(agent, monkeypatch):
    p1 = port()
    agent.server.ovs_state["ports"] = [p1]
    br = FakeBridge.get("br-int")
    br.plug("tapA", p1["id"])
    br.port_data["tapA"].update(tag=42, other_config={"net-id": NET})
    agent.run_once()
    assert br.ports()["tapA"].tag == 42  # recovered, not re-tagged
    replaced = br.replaced
    agent.mark([])  # a partial pass with nothing new renders the same table
    agent.run_once()
    assert br.replaced == replaced
    conf = agent.conf
    again = ovs_agent.OvsAgent(conf, agent.server)
    again.run_once()
    assert br.ports()["tapA"].tag == 42
    assert again.cookie != agent.cookie and all(
        f.startswith(f"cookie={again.cookie:#x},") for f in br.flows)


def test_poll_marks_new_taps_and_lost_flows(agent):
    agent.run_once()
    p1 = port()
    agent.server.ovs_state["ports"] = [p1]
    br = FakeBridge.get("br-int")
    br.plug("tapA", p1["id"])
    agent.poll()
    assert agent.pending()
    agent.run_once()
    assert agent.server.requests[-1] == ("ovs", [p1["id"]])
    assert br.ports()["tapA"].tag == 1
    br.flows = []  # ovs-vswitchd restarted
    agent.poll()
    agent.run_once()
    assert agent.last_sync["full"] and br.flows


def test_security_group_change_refetches_the_ports_using_it(agent):
    p1, p2 = port(security_group_ids=["g"]), port(security_group_ids=["h"])
    agent.server.ovs_state["ports"] = [p1, p2]
    agent.server.ovs_state["security_groups"]["h"] = {
        "id": "h", "member_ips": {"g": []}, "rules": [{"id": "r", "direction": "ingress",
                                                       "remote_group_id": "g"}]}
    agent.run_once()
    agent.mark(["sg:g"])
    agent.run_once()
    # p1 uses g; p2's group admits members of g, so it changes too.
    assert sorted(agent.server.requests[-1][1]) == sorted([p1["id"], p2["id"]])


def test_a_failed_pass_leaves_a_full_resync_pending(agent):
    agent.run_once()
    agent.server.fail = RuntimeError("bus down")
    agent.mark([str(uuid.uuid4())])
    with pytest.raises(RuntimeError):
        agent.run_once()
    agent.server.fail = None
    agent.run_once()
    assert agent.last_sync["full"]


def test_tunnels_follow_the_peers(monkeypatch):
    FakeBridge.registry.clear()
    monkeypatch.setattr(ovs_agent.ovs, "Bridge", FakeBridge.get)
    conf = agent_conf.make("stratus-ovs-agent", None, {"ovs": {"local_ip": "10.9.0.1"}})
    server = FakeServer()
    server.ovs_state["tunnel_peers"] = [{"host": "a", "ip": "10.9.0.1"},
                                        {"host": "b", "ip": "10.9.0.2"},
                                        {"host": "c", "ip": "bogus"}]
    agent = ovs_agent.OvsAgent(conf, server)
    agent.run_once()
    tun = FakeBridge.get("br-tun")
    assert [n for n, p in tun.ports().items() if p.type == "vxlan"] == ["vxlan-0a090002"]
    server.ovs_state["tunnel_peers"] = []
    agent.mark_full()
    agent.run_once()
    assert [n for n, p in tun.ports().items() if p.type == "vxlan"] == []


def test_configurations_reported(agent):
    agent.report_state()
    report = agent.server.reports[-1]
    assert report["binary"] == "stratus-ovs-agent"
    assert report["configurations"]["bridge_mappings"] == {"public": "br-ex"}
