"""The agents' side of the contract (common.rpc.network): state shapes, scheduling, and
the real thing over RabbitMQ (calls to the server, fanout casts to the agents)."""

from __future__ import annotations

import threading
import uuid

import pytest

from common import messaging
from common.context import RequestContext
from common.rpc.network import NetworkAgentNotifier, NetworkServerAPI
from controller.network import agents, compute_ports, notify, rpc_server
from controller.network.rpc import NetworkRpcManager
from controller.runtime import Runtime
from tests.functional import support

PORT_KEYS = {"id", "mac_address", "network_id", "device_owner", "device_id",
             "admin_state_up", "status", "binding_host", "mtu", "network_type",
             "physical_network", "segmentation_id", "fixed_ips", "port_security_enabled",
             "security_group_ids", "allowed_address_pairs"}
SUBNET_KEYS = {"id", "network_id", "cidr", "ip_version", "gateway_ip", "enable_dhcp",
               "dns_nameservers", "host_routes", "allocation_pools"}


@pytest.fixture(scope="module")
def world(cloud, admin, demo):
    """A public network, demo's private network and router, an instance port on host-1."""
    host = f"host-{uuid.uuid4().hex[:6]}"
    manager = NetworkRpcManager(cloud.rt)
    for kind, binary in ((agents.OVS, "stratus-ovs-agent"), (agents.DHCP, "stratus-dhcp-agent"),
                         (agents.L3, "stratus-l3-agent")):
        manager.report_state(None, host, binary, kind, {"tunneling_ip": "192.0.2.1"})
    manager.report_state(None, "peer-host", "stratus-ovs-agent", agents.OVS,
                         {"tunneling_ip": "192.0.2.2"})
    public = admin.ok("POST", "/networks", {"network": {
        "name": "rpc-public", "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": "public"}}, 201)["network"]
    admin.ok("POST", "/subnets", {"subnet": {"network_id": public["id"], "ip_version": 4,
                                             "cidr": "172.30.0.0/24",
                                             "enable_dhcp": False}}, 201)
    private = demo.ok("POST", "/networks", {"network": {"name": "rpc-private"}},
                      201)["network"]
    subnet = demo.ok("POST", "/subnets", {"subnet": {
        "network_id": private["id"], "cidr": "10.11.0.0/24", "ip_version": 4,
        "dns_nameservers": ["10.11.0.53"]}}, 201)["subnet"]
    router = demo.ok("POST", "/routers", {"router": {
        "name": "rpc-router", "external_gateway_info": {"network_id": public["id"]}}},
        201)["router"]
    demo.ok("PUT", f"/routers/{router['id']}/add_router_interface",
            {"subnet_id": subnet["id"]})
    ctx = RequestContext(project_id=private["project_id"], roles=["member"])
    instance = str(uuid.uuid4())
    vifs = compute_ports.allocate_for_instance(cloud.rt, ctx, instance,
                                               private["project_id"],
                                               [{"network_id": private["id"]}], None, host)
    fip = demo.ok("POST", "/floatingips", {"floatingip": {
        "floating_network_id": public["id"], "port_id": vifs[0]["id"]}}, 201)["floatingip"]
    return {"host": host, "manager": manager, "public": public, "private": private,
            "subnet": subnet, "router": router, "instance": instance, "vif": vifs[0],
            "fip": fip}


def test_ovs_state(world):
    state = world["manager"].get_ovs_state(None, world["host"])
    assert set(state) == {"ports", "removed", "security_groups", "tunnel_peers"}
    ports = {p["id"]: p for p in state["ports"]}
    port = ports[world["vif"]["id"]]
    assert set(port) == PORT_KEYS
    assert (port["network_type"], port["mtu"], port["binding_host"]) == \
        ("vxlan", 1450, world["host"])
    assert port["device_id"] == world["instance"] and port["security_group_ids"]
    # The router was scheduled to this host when it was created: its ports are here too.
    owners = {p["device_owner"] for p in state["ports"]}
    assert {"network:router_interface", "network:router_gateway"} <= owners
    group = state["security_groups"][port["security_group_ids"][0]]
    assert {"id", "rules", "member_ips"} <= set(group)
    remote = {r["remote_group_id"] for r in group["rules"]} - {None}
    assert remote and world["vif"]["fixed_ips"][0]["ip_address"] in \
        group["member_ips"][remote.pop()]
    assert {"host": "peer-host", "ip": "192.0.2.2"} in state["tunnel_peers"]
    gone = str(uuid.uuid4())
    partial = world["manager"].get_ovs_state(None, world["host"],
                                             [world["vif"]["id"], gone])
    assert [p["id"] for p in partial["ports"]] == [world["vif"]["id"]]
    assert partial["removed"] == [gone]


def test_port_status_reports(world, demo):
    manager, port_id = world["manager"], world["vif"]["id"]
    manager.update_port_status(None, [port_id], "ACTIVE", world["host"])
    assert demo.ok("GET", f"/ports/{port_id}")["port"]["status"] == "ACTIVE"
    manager.update_port_status(None, [port_id], "DOWN", "some-other-host")
    assert demo.ok("GET", f"/ports/{port_id}")["port"]["status"] == "ACTIVE"
    manager.update_port_status(None, [port_id], "BOGUS", world["host"])
    assert demo.ok("GET", f"/ports/{port_id}")["port"]["status"] == "ACTIVE"


def test_dhcp_state_schedules_and_makes_the_dhcp_port(world, admin, recorder):
    recorder.clear()
    networks = world["manager"].get_dhcp_state(None, world["host"])
    ours = {n["id"]: n for n in networks}
    assert world["public"]["id"] not in ours  # DHCP disabled there
    network = ours[world["private"]["id"]]
    assert set(network) == {"id", "mtu", "subnets", "ports", "dhcp_port"}
    assert set(network["subnets"][0]) >= SUBNET_KEYS
    dhcp = network["dhcp_port"]
    assert dhcp["device_owner"] == "network:dhcp" and dhcp["binding_host"] == world["host"]
    assert dhcp["fixed_ips"][0]["subnet_id"] == world["subnet"]["id"]
    assert dhcp["id"] in recorder.ids("ports_changed")
    assert world["vif"]["id"] in {p["id"] for p in network["ports"]}
    again = world["manager"].get_dhcp_state(None, world["host"], [world["private"]["id"]])
    assert again[0]["dhcp_port"]["id"] == dhcp["id"]  # idempotent
    # One DHCP agent per network: another host gets nothing for it.
    assert world["private"]["id"] not in {
        n["id"] for n in world["manager"].get_dhcp_state(None, "other-dhcp-host")}
    # Turning DHCP off removes the port; the agent is told to look.
    admin.ok("PUT", f"/subnets/{world['subnet']['id']}", {"subnet": {"enable_dhcp": False}})
    assert world["manager"].get_dhcp_state(None, world["host"],
                                           [world["private"]["id"]]) == []
    admin.ok("PUT", f"/subnets/{world['subnet']['id']}", {"subnet": {"enable_dhcp": True}})
    assert world["manager"].get_dhcp_state(None, world["host"], [world["private"]["id"]])


def test_routers_state(world, demo):
    routers = world["manager"].get_routers(None, world["host"])
    router = next(r for r in routers if r["id"] == world["router"]["id"])
    assert {"id", "admin_state_up", "enable_snat", "gw_port", "interfaces", "routes",
            "floating_ips"} <= set(router)
    assert router["gw_port"]["subnets"][0]["cidr"] == "172.30.0.0/24"
    assert router["interfaces"][0]["subnets"][0]["id"] == world["subnet"]["id"]
    assert router["floating_ips"] == [{
        "id": world["fip"]["id"], "floating_ip_address": world["fip"]["floating_ip_address"],
        "fixed_ip_address": world["vif"]["fixed_ips"][0]["ip_address"],
        "port_id": world["vif"]["id"]}]
    assert world["manager"].get_routers(None, "not-my-host", [world["router"]["id"]]) == []
    # An unhosted router goes to the first L3 agent that resyncs, with its ports.
    later = demo.ok("POST", "/routers", {"router": {"name": "later"}}, 201)["router"]
    assert later["id"] in {r["id"] for r in world["manager"].get_routers(
        None, world["host"])}
    demo.ok("DELETE", f"/routers/{later['id']}", status=204)


def test_instance_for_address(world):
    address = world["vif"]["fixed_ips"][0]["ip_address"]
    found = world["manager"].get_instance_for_address(None, address,
                                                      network_id=world["private"]["id"])
    assert found == {"instance_id": world["instance"],
                     "project_id": world["private"]["project_id"]}
    assert world["manager"].get_instance_for_address(
        None, address, router_id=world["router"]["id"]) == found
    assert world["manager"].get_instance_for_address(None, "10.11.0.1",
                                                     network_id=world["private"]["id"]) is None


@pytest.fixture(scope="module")
def bus_runtime(cloud, transport_url, tmp_path_factory):
    """A second runtime on the same database, on a private RabbitMQ exchange."""
    conf = support.make_conf(cloud.rt.db.url, str(tmp_path_factory.mktemp("keys")),
                             messaging={"transport_url": transport_url,
                                        "control_exchange": f"test-{uuid.uuid4().hex}"})
    yield Runtime(conf=conf, db=cloud.rt.db)
    messaging.cleanup()


def test_rpc_over_rabbitmq(bus_runtime, world):
    server = rpc_server.start(bus_runtime)
    try:
        client = NetworkServerAPI(bus_runtime.conf)
        ctx = RequestContext.admin()
        client.report_state(ctx, "bus-host", "stratus-dhcp-agent", agents.DHCP, {"n": 1})
        state = client.get_ovs_state(ctx, world["host"], [world["vif"]["id"]])
        assert state["ports"][0]["id"] == world["vif"]["id"]
        assert client.get_routers(ctx, "nobody") == []
        assert client.get_instance_for_address(ctx, "198.51.100.1", "x") is None
    finally:
        server.stop()
        server.wait()


def test_agent_notifications_reach_the_agents_over_rabbitmq(bus_runtime):
    received: list[tuple[str, list[str]]] = []
    arrived = threading.Event()

    class Agent:
        def ports_changed(self, ctxt, port_ids):
            received.append(("ports_changed", port_ids))
            arrived.set()

    conf = bus_runtime.conf
    listener = messaging.rpc_server(conf, conf.network_rpc.ovs_topic, [Agent()],
                                    server=f"agent-{uuid.uuid4().hex[:6]}")
    listener.start()
    try:
        notifier = notify.BackgroundNotifier(NetworkAgentNotifier(conf))
        notifier.ports_changed(RequestContext.admin(), ["p-1"])
        assert arrived.wait(30)
        assert received == [("ports_changed", ["p-1"])]
    finally:
        listener.stop()
        listener.wait()
