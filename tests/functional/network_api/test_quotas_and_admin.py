"""Quotas, extensions, agents and IP availability through the API."""

from __future__ import annotations

from controller import services
from controller.network import agents
from controller.network.rpc import NetworkRpcManager


def _project(cloud, name: str) -> str:
    return cloud.call("GET", f"/projects?name={name}", cloud.admin()).get_json()[
        "projects"][0]["id"]


def test_quotas(cloud, admin, demo):
    project = _project(cloud, "demo")
    shown = demo.ok("GET", f"/quotas/{project}")["quota"]
    assert shown["port"] == 500 and shown["network"] == 100 and shown["floatingip"] == 50
    assert demo.ok("GET", f"/quotas/{project}/default")["quota"]["router"] == 10
    assert demo.error("PUT", f"/quotas/{project}", {"quota": {"port": 5}}) == \
        (403, "PolicyNotAuthorized")
    other = _project(cloud, "admin")
    assert demo.error("GET", f"/quotas/{other}")[0] == 403
    updated = admin.ok("PUT", f"/quotas/{project}", {"quota": {"network": 2, "port": "3"}})
    assert (updated["quota"]["network"], updated["quota"]["port"]) == (2, 3)
    assert project in [q["project_id"] for q in admin.ok("GET", "/quotas")["quotas"]]
    for bad in ({"network": -2}, {"widgets": 1}, {"network": "many"}, {"network": True}):
        assert admin.error("PUT", f"/quotas/{project}", {"quota": bad}) == \
            (400, "InvalidInput"), bad
    made = [demo.ok("POST", "/networks", {"network": {"name": f"q{i}"}}, 201)["network"]
            for i in range(2)]
    assert demo.error("POST", "/networks", {"network": {"name": "q3"}}) == (409, "OverQuota")
    demo.ok("POST", "/subnets", {"subnet": {"network_id": made[0]["id"],
                                            "cidr": "10.88.0.0/24", "ip_version": 4}}, 201)
    ports = [demo.ok("POST", "/ports", {"port": {"network_id": made[0]["id"]}}, 201)["port"]
             for _ in range(3)]
    assert demo.error("POST", "/ports", {"port": {"network_id": made[0]["id"]}}) == \
        (409, "OverQuota")
    details = demo.ok("GET", f"/quotas/{project}/details")["quota"]
    assert details["port"] == {"limit": 3, "used": 3, "reserved": 0}
    assert details["network"]["used"] >= 2
    admin.ok("DELETE", f"/quotas/{project}", status=204)
    assert demo.ok("GET", f"/quotas/{project}")["quota"]["network"] == 100
    for port in ports:
        demo.ok("DELETE", f"/ports/{port['id']}", status=204)
    for network in made:
        demo.ok("DELETE", f"/networks/{network['id']}", status=204)
    assert demo.ok("GET", "/quotas/tenant")["tenant"]["tenant_id"] == project


def test_extensions(demo):
    aliases = {e["alias"] for e in demo.ok("GET", "/extensions")["extensions"]}
    assert {"router", "external-net", "provider", "security-group", "quotas",
            "quota_details", "binding", "allowed-address-pairs", "port-security",
            "extraroute", "extraroute-atomic", "network-ip-availability",
            "standard-attr-description", "standard-attr-timestamp", "agent"} <= aliases
    assert "external-gateway-multihoming" not in aliases
    assert demo.ok("GET", "/extensions/router")["extension"]["alias"] == "router"
    assert demo.error("GET", "/extensions/external-gateway-multihoming") == \
        (404, "ExtensionNotFound")


def test_agents_from_heartbeats(cloud, admin, demo):
    manager = NetworkRpcManager(cloud.rt)
    manager.report_state(None, "host-a", "stratus-ovs-agent", agents.OVS,
                         {"tunneling_ip": "192.0.2.10", "bridge_mappings": {"public": "br-ex"}})
    manager.report_state(None, "host-a", "stratus-l3-agent", agents.L3, {})
    listed = admin.ok("GET", "/agents")["agents"]
    ovs = next(a for a in listed if a["agent_type"] == agents.OVS and a["host"] == "host-a")
    assert ovs["alive"] and ovs["admin_state_up"] and ovs["binary"] == "stratus-ovs-agent"
    assert ovs["configurations"]["tunneling_ip"] == "192.0.2.10"
    assert [a["host"] for a in admin.ok("GET", "/agents", agent_type="L3 agent")[
        "agents"]] == ["host-a"]
    assert demo.error("GET", "/agents") == (403, "PolicyNotAuthorized")
    l3 = next(a for a in listed if a["agent_type"] == agents.L3)
    disabled = admin.ok("PUT", f"/agents/{l3['id']}", {"agent": {
        "admin_state_up": False}})["agent"]
    assert disabled["admin_state_up"] is False
    admin.ok("DELETE", f"/agents/{l3['id']}", status=204)
    assert admin.error("GET", f"/agents/{l3['id']}") == (404, "AgentNotFound")
    heartbeats = [(s.host, s.binary, s.up) for s in services.list_(cloud.rt, host="host-a")]
    assert ("host-a", "stratus-ovs-agent", True) in heartbeats
    admin.ok("DELETE", f"/agents/{ovs['id']}", status=204)


def test_ip_availability(admin, demo):
    network = demo.ok("POST", "/networks", {"network": {"name": "avail"}}, 201)["network"]
    demo.ok("POST", "/subnets", {"subnet": {"network_id": network["id"],
                                            "cidr": "10.90.0.0/28", "ip_version": 4}}, 201)
    port = demo.ok("POST", "/ports", {"port": {"network_id": network["id"]}}, 201)["port"]
    shown = admin.ok("GET", f"/network-ip-availabilities/{network['id']}")[
        "network_ip_availability"]
    assert (shown["total_ips"], shown["used_ips"]) == (13, 1)
    assert shown["subnet_ip_availability"][0]["cidr"] == "10.90.0.0/28"
    listed = admin.ok("GET", "/network-ip-availabilities", network_id=network["id"])
    assert [n["network_name"] for n in listed["network_ip_availabilities"]] == ["avail"]
    assert admin.ok("GET", "/network-ip-availabilities", network_id=network["id"],
                    ip_version="6")["network_ip_availabilities"] == []
    assert demo.error("GET", "/network-ip-availabilities")[0] == 403
    demo.ok("DELETE", f"/ports/{port['id']}", status=204)
    demo.ok("DELETE", f"/networks/{network['id']}", status=204)
