"""Routers (gateway, interfaces, routes) and floating IPs through the API."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def topology(admin, demo):
    public = admin.ok("POST", "/networks", {"network": {
        "name": "public", "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": "public"}}, 201)["network"]
    public_subnet = admin.ok("POST", "/subnets", {"subnet": {
        "network_id": public["id"], "cidr": "172.24.4.0/24", "ip_version": 4,
        "enable_dhcp": False}}, 201)["subnet"]
    private = demo.ok("POST", "/networks", {"network": {"name": "private"}}, 201)["network"]
    private_subnet = demo.ok("POST", "/subnets", {"subnet": {
        "network_id": private["id"], "cidr": "10.0.0.0/24", "ip_version": 4}}, 201)["subnet"]
    return {"public": public, "public_subnet": public_subnet, "private": private,
            "private_subnet": private_subnet}


def test_router_gateway_interfaces_and_routes(demo, admin, topology, recorder):
    recorder.clear()
    router = demo.ok("POST", "/routers", {"router": {
        "name": "r1", "external_gateway_info": {"network_id": topology["public"]["id"]}}},
        201)["router"]
    gateway = router["external_gateway_info"]
    assert gateway["network_id"] == topology["public"]["id"] and gateway["enable_snat"]
    assert gateway["external_fixed_ips"][0]["ip_address"] == "172.24.4.2"
    assert router["id"] in recorder.ids("routers_changed")
    assert demo.error("POST", "/routers", {"router": {"external_gateway_info": {
        "network_id": topology["public"]["id"], "enable_snat": False}}}) == \
        (403, "PolicyNotAuthorized")

    recorder.clear()
    info = demo.ok("PUT", f"/routers/{router['id']}/add_router_interface",
                   {"subnet_id": topology["private_subnet"]["id"]})
    assert info["subnet_id"] == topology["private_subnet"]["id"] and info["port_id"]
    assert info["network_id"] == topology["private"]["id"]
    port = demo.ok("GET", f"/ports/{info['port_id']}")["port"]
    assert port["device_owner"] == "network:router_interface"
    assert port["fixed_ips"][0]["ip_address"] == "10.0.0.1" and port["security_groups"] == []
    assert router["id"] in recorder.ids("routers_changed")
    assert info["port_id"] in recorder.ids("ports_changed")
    assert demo.error("DELETE", f"/ports/{info['port_id']}") == (409, "ServicePortInUse")
    assert demo.error("PUT", f"/routers/{router['id']}/add_router_interface",
                      {"subnet_id": topology["private_subnet"]["id"]}) == (400, "BadRequest")

    # Overlapping CIDRs on one router: refused, nothing left behind.
    other = demo.ok("POST", "/networks", {"network": {"name": "overlap"}}, 201)["network"]
    overlapping = demo.ok("POST", "/subnets", {"subnet": {
        "network_id": other["id"], "cidr": "10.0.0.0/16", "ip_version": 4}}, 201)["subnet"]
    response = demo("PUT", f"/routers/{router['id']}/add_router_interface",
                    {"subnet_id": overlapping["id"]})
    assert response.status_code == 400 and "overlaps" in response.get_json()[
        "NeutronError"]["message"]
    assert demo.ok("GET", "/ports", network_id=other["id"])["ports"] == []
    # By port: a free port joins; a port in use does not.
    third = demo.ok("POST", "/networks", {"network": {"name": "third"}}, 201)["network"]
    demo.ok("POST", "/subnets", {"subnet": {"network_id": third["id"],
                                            "cidr": "10.3.0.0/24", "ip_version": 4}}, 201)
    free = demo.ok("POST", "/ports", {"port": {"network_id": third["id"]}}, 201)["port"]
    joined = demo.ok("PUT", f"/routers/{router['id']}/add_router_interface",
                     {"port_id": free["id"]})
    assert joined["port_id"] == free["id"]
    assert demo.error("PUT", f"/routers/{router['id']}/add_router_interface",
                      {"port_id": free["id"]}) == (409, "PortInUse")

    routed = demo.ok("PUT", f"/routers/{router['id']}/add_extraroutes", {"router": {
        "routes": [{"destination": "192.168.100.0/24", "nexthop": "10.0.0.50"}]}})["router"]
    assert routed["routes"] == [{"destination": "192.168.100.0/24", "nexthop": "10.0.0.50"}]
    assert demo.error("PUT", f"/routers/{router['id']}/add_extraroutes", {"router": {
        "routes": [{"destination": "192.168.1.0/24", "nexthop": "10.99.0.1"}]}}) == \
        (400, "InvalidRoutes")
    assert demo.error("PUT", f"/routers/{router['id']}/remove_router_interface",
                      {"subnet_id": topology["private_subnet"]["id"]}) == \
        (409, "RouterInterfaceInUseByRoute")
    cleared = demo.ok("PUT", f"/routers/{router['id']}/remove_extraroutes", {"router": {
        "routes": [{"destination": "192.168.100.0/24", "nexthop": "10.0.0.50"}]}})["router"]
    assert cleared["routes"] == []
    replaced = demo.ok("PUT", f"/routers/{router['id']}", {"router": {
        "routes": [{"destination": "0.0.0.0/0", "nexthop": "10.3.0.7"}]}})["router"]
    assert len(replaced["routes"]) == 1
    demo.ok("PUT", f"/routers/{router['id']}", {"router": {"routes": []}})

    assert demo.error("DELETE", f"/routers/{router['id']}") == (409, "RouterInUse")
    demo.ok("PUT", f"/routers/{router['id']}/remove_router_interface",
            {"port_id": free["id"]})
    assert demo.error("GET", f"/ports/{free['id']}")[0] == 404
    demo.ok("PUT", f"/routers/{router['id']}/remove_router_interface",
            {"subnet_id": topology["private_subnet"]["id"]})
    assert demo.error("PUT", f"/routers/{router['id']}/remove_router_interface",
                      {"subnet_id": topology["private_subnet"]["id"]}) == \
        (404, "RouterInterfaceNotFoundForSubnet")
    cleared = demo.ok("PUT", f"/routers/{router['id']}", {"router": {
        "external_gateway_info": {}}})["router"]
    assert cleared["external_gateway_info"] is None
    demo.ok("DELETE", f"/routers/{router['id']}", status=204)
    for network in (other, third):
        demo.ok("DELETE", f"/networks/{network['id']}", status=204)


def test_router_isolation_and_bad_gateway(admin, demo, topology):
    mine = admin.ok("POST", "/routers", {"router": {"name": "admins"}}, 201)["router"]
    assert demo.error("GET", f"/routers/{mine['id']}") == (404, "RouterNotFound")
    assert demo.error("PUT", f"/routers/{mine['id']}/add_router_interface",
                      {"subnet_id": topology["private_subnet"]["id"]})[0] == 404
    assert admin.error("PUT", f"/routers/{mine['id']}/add_router_interface", {}) == \
        (400, "BadRequest")
    router = demo.ok("POST", "/routers", {"router": {"name": "r2"}}, 201)["router"]
    assert demo.error("PUT", f"/routers/{router['id']}", {"router": {
        "external_gateway_info": {"network_id": topology["private"]["id"]}}}) == \
        (400, "BadRequest")
    assert demo.error("PUT", f"/routers/{router['id']}/add_router_interface",
                      {"subnet_id": topology["public_subnet"]["id"]}) == (400, "BadRequest")
    for user, made in ((admin, mine), (demo, router)):
        user.ok("DELETE", f"/routers/{made['id']}", status=204)


def test_floating_ips(admin, demo, topology, recorder):
    router = demo.ok("POST", "/routers", {"router": {
        "name": "fip-router",
        "external_gateway_info": {"network_id": topology["public"]["id"]}}}, 201)["router"]
    port = demo.ok("POST", "/ports", {"port": {"network_id": topology["private"]["id"]}},
                   201)["port"]
    fip = demo.ok("POST", "/floatingips", {"floatingip": {
        "floating_network_id": topology["public"]["id"]}}, 201)["floatingip"]
    assert fip["status"] == "DOWN" and fip["port_id"] is None
    assert fip["floating_ip_address"].startswith("172.24.4.")
    # No router joins the private subnet to the public network yet.
    assert demo.error("PUT", f"/floatingips/{fip['id']}", {"floatingip": {
        "port_id": port["id"]}}) == (404, "ExternalGatewayForFloatingIPNotFound")
    demo.ok("PUT", f"/routers/{router['id']}/add_router_interface",
            {"subnet_id": topology["private_subnet"]["id"]})
    recorder.clear()
    bound = demo.ok("PUT", f"/floatingips/{fip['id']}", {"floatingip": {
        "port_id": port["id"]}})["floatingip"]
    assert (bound["port_id"], bound["router_id"], bound["status"]) == \
        (port["id"], router["id"], "ACTIVE")
    assert bound["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert recorder.ids("routers_changed") == {router["id"]}
    second = demo.ok("POST", "/floatingips", {"floatingip": {
        "floating_network_id": topology["public"]["id"]}}, 201)["floatingip"]
    assert demo.error("PUT", f"/floatingips/{second['id']}", {"floatingip": {
        "port_id": port["id"]}}) == (409, "FloatingIPPortAlreadyAssociated")
    assert demo.error("PUT", f"/routers/{router['id']}/remove_router_interface",
                      {"subnet_id": topology["private_subnet"]["id"]}) == \
        (409, "RouterInterfaceInUseByFloatingIP")
    assert demo.error("PUT", f"/routers/{router['id']}", {"router": {
        "external_gateway_info": None}}) == (409, "RouterExternalGatewayInUseByFloatingIp")
    found = demo.ok("GET", "/floatingips",
                    floating_ip_address=fip["floating_ip_address"])["floatingips"]
    assert [f["id"] for f in found] == [fip["id"]]
    # Errors: not external, another project's port, a chosen address (admin only).
    assert demo.error("POST", "/floatingips", {"floatingip": {
        "floating_network_id": topology["private"]["id"]}}) == (400, "BadRequest")
    assert demo.error("POST", "/floatingips", {"floatingip": {
        "floating_network_id": topology["public"]["id"],
        "floating_ip_address": "172.24.4.99"}}) == (403, "PolicyNotAuthorized")
    chosen = admin.ok("POST", "/floatingips", {"floatingip": {
        "floating_network_id": topology["public"]["id"],
        "floating_ip_address": "172.24.4.99"}}, 201)["floatingip"]
    assert chosen["floating_ip_address"] == "172.24.4.99"
    assert demo.error("GET", f"/floatingips/{chosen['id']}") == (404, "FloatingIPNotFound")
    assert admin.error("POST", "/floatingips", {"floatingip": {
        "floating_network_id": topology["public"]["id"],
        "floating_ip_address": "172.24.4.99"}}) == (409, "IpAddressInUse")
    # Deleting the port disassociates; unset works; release frees the address.
    demo.ok("DELETE", f"/ports/{port['id']}", status=204)
    after = demo.ok("GET", f"/floatingips/{fip['id']}")["floatingip"]
    assert (after["port_id"], after["router_id"], after["status"]) == (None, None, "DOWN")
    unset = demo.ok("PUT", f"/floatingips/{second['id']}", {"floatingip": {
        "port_id": None}})["floatingip"]
    assert unset["port_id"] is None
    for user, made in ((demo, fip), (demo, second), (admin, chosen)):
        user.ok("DELETE", f"/floatingips/{made['id']}", status=204)
    ports = admin.ok("GET", "/ports", network_id=topology["public"]["id"],
                     device_owner="network:floatingip")["ports"]
    assert ports == []
    demo.ok("PUT", f"/routers/{router['id']}/remove_router_interface",
            {"subnet_id": topology["private_subnet"]["id"]})
    demo.ok("DELETE", f"/routers/{router['id']}", status=204)
    gateway_ports = admin.ok("GET", "/ports", network_id=topology["public"]["id"])["ports"]
    assert gateway_ports == []
