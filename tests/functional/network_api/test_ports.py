"""Ports through the API: addresses, MACs, security, isolation, concurrent allocation."""

from __future__ import annotations

import concurrent.futures
import ipaddress

import pytest


@pytest.fixture(scope="module")
def lan(demo):
    network = demo.ok("POST", "/networks", {"network": {"name": "port-lan"}}, 201)["network"]
    subnet = demo.ok("POST", "/subnets", {"subnet": {
        "network_id": network["id"], "cidr": "10.20.0.0/24", "ip_version": 4,
        "allocation_pools": [{"start": "10.20.0.100", "end": "10.20.0.200"}]}},
        201)["subnet"]
    return network, subnet


def _port(user, network_id, **values):
    return user.ok("POST", "/ports", {"port": {"network_id": network_id, **values}},
                   201)["port"]


def test_port_gets_an_address_mac_and_default_group(demo, lan, recorder):
    network, subnet = lan
    recorder.clear()
    port = _port(demo, network["id"], name="p1")
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.20.0.100"}]
    assert port["mac_address"].startswith("fa:16:3e:") and port["status"] == "DOWN"
    assert "binding:host_id" not in port and port["binding:vnic_type"] == "normal"
    groups = demo.ok("GET", "/security-groups", name="default")["security_groups"]
    assert port["security_groups"] == [groups[0]["id"]]
    assert recorder.ids("ports_changed") == {port["id"]}
    assert recorder.ids("dhcp_networks_changed") == {network["id"]}
    assert groups[0]["id"] in recorder.ids("security_groups_changed")
    second = _port(demo, network["id"])
    assert second["fixed_ips"][0]["ip_address"] == "10.20.0.101"
    for made in (port, second):
        demo.ok("DELETE", f"/ports/{made['id']}", status=204)


def test_fixed_ips_and_macs(demo, lan):
    network, subnet = lan
    chosen = _port(demo, network["id"], mac_address="FA:16:3E:00:00:01",
                   fixed_ips=[{"ip_address": "10.20.0.7"}])
    assert chosen["mac_address"] == "fa:16:3e:00:00:01"
    assert chosen["fixed_ips"][0] == {"subnet_id": subnet["id"], "ip_address": "10.20.0.7"}
    cases = [
        ({"fixed_ips": [{"ip_address": "10.20.0.7"}]}, (409, "IpAddressInUse")),
        ({"fixed_ips": [{"ip_address": "10.20.0.1"}]}, (409, "IpAddressInUse")),
        ({"fixed_ips": [{"ip_address": "10.99.0.7"}]}, (400, "InvalidIpForNetwork")),
        ({"fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.21.0.7"}]},
         (400, "InvalidIpForSubnet")),
        ({"fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.20.0.255"}]},
         (400, "InvalidIpForSubnet")),
        ({"fixed_ips": [{"ip_address": "banana"}]}, (400, "InvalidInput")),
        ({"fixed_ips": [{"subnet_id": "0d6c7b5c-0d2b-4a4f-9d7c-3a1e0a7e6a11"}]},
         (400, "InvalidInput")),
        ({"mac_address": "fa:16:3e:00:00:01"}, (409, "MacAddressInUse")),
        ({"mac_address": "zz:16:3e:00:00:01"}, (400, "InvalidInput")),
        ({"mac_address": "01:00:5e:00:00:01"}, (400, "InvalidInput")),
        ({"security_groups": ["0d6c7b5c-0d2b-4a4f-9d7c-3a1e0a7e6a11"]},
         (404, "SecurityGroupNotFound")),
        ({"port_security_enabled": False, "security_groups": []}, None),
        ({"port_security_enabled": False, "allowed_address_pairs": [
            {"ip_address": "10.20.0.50"}]}, (409, "AddressPairAndPortSecurityRequired")),
    ]
    before = len(demo.ok("GET", "/ports", network_id=network["id"])["ports"])
    for values, expected in cases:
        if expected is None:
            made = _port(demo, network["id"], **values)
            assert made["security_groups"] == [] and not made["port_security_enabled"]
            demo.ok("DELETE", f"/ports/{made['id']}", status=204)
            continue
        body = {"port": {"network_id": network["id"], **values}}
        assert demo.error("POST", "/ports", body) == expected, values
    assert len(demo.ok("GET", "/ports", network_id=network["id"])["ports"]) == before
    updated = demo.ok("PUT", f"/ports/{chosen['id']}", {"port": {
        "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.20.0.7"},
                      {"ip_address": "10.20.0.8"}],
        "allowed_address_pairs": [{"ip_address": "10.20.0.64/28"}], "name": "two"}})["port"]
    assert [f["ip_address"] for f in updated["fixed_ips"]] == ["10.20.0.7", "10.20.0.8"]
    assert updated["allowed_address_pairs"] == [{"ip_address": "10.20.0.64/28",
                                                 "mac_address": "fa:16:3e:00:00:01"}]
    found = demo.ok("GET", "/ports", fixed_ips="ip_address=10.20.0.8")["ports"]
    assert [p["id"] for p in found] == [chosen["id"]]
    moved = demo.ok("PUT", f"/ports/{chosen['id']}", {"port": {
        "fixed_ips": [{"ip_address": "10.20.0.9"}]}})["port"]
    assert [f["ip_address"] for f in moved["fixed_ips"]] == ["10.20.0.9"]
    again = _port(demo, network["id"], fixed_ips=[{"ip_address": "10.20.0.7"}])
    assert demo.error("PUT", f"/ports/{chosen['id']}", {"port": {
        "port_security_enabled": False}}) == (400, "PortSecurityAndIPRequiredForSecurityGroups")
    assert demo.error("PUT", f"/ports/{chosen['id']}", {"port": {
        "mac_address": "fa:16:3e:00:00:02"}}) == (403, "PolicyNotAuthorized")
    for made in (chosen, again):
        demo.ok("DELETE", f"/ports/{made['id']}", status=204)


def test_port_isolation(admin, demo, lan, cloud):
    network, _ = lan
    private = admin.ok("POST", "/networks", {"network": {"name": "iso"}}, 201)["network"]
    admin.ok("POST", "/subnets", {"subnet": {"network_id": private["id"],
                                             "cidr": "10.30.0.0/24", "ip_version": 4}}, 201)
    assert demo.error("POST", "/ports", {"port": {"network_id": private["id"]}}) == \
        (404, "NetworkNotFound")
    admin_port = _port(admin, private["id"])
    assert demo.error("GET", f"/ports/{admin_port['id']}") == (404, "PortNotFound")
    assert demo.error("PUT", f"/ports/{admin_port['id']}", {"port": {"name": "x"}})[0] == 404
    assert demo.error("DELETE", f"/ports/{admin_port['id']}")[0] == 404
    assert admin_port["id"] not in {p["id"] for p in demo.ok("GET", "/ports")["ports"]}
    shown = admin.ok("GET", f"/ports/{admin_port['id']}")["port"]
    assert shown["binding:vif_type"] == "unbound"
    # Admin may create a port for demo on demo's network; demo then sees it.
    for_demo = _port(admin, network["id"], project_id=demo_project(cloud))
    assert demo.ok("GET", f"/ports/{for_demo['id']}")["port"]["id"] == for_demo["id"]
    assert demo.error("POST", "/ports", {"port": {
        "network_id": network["id"], "binding:host_id": "h1"}}) == (403, "PolicyNotAuthorized")
    assert demo.error("POST", "/ports", {"port": {
        "network_id": network["id"], "project_id": "someone-else"}})[0] == 403
    admin.ok("DELETE", f"/ports/{for_demo['id']}", status=204)
    admin.ok("DELETE", f"/ports/{admin_port['id']}", status=204)
    admin.ok("DELETE", f"/networks/{private['id']}", status=204)


def demo_project(cloud) -> str:
    return cloud.ids.get("demo_project_id") or cloud.rt.conf and _lookup(cloud)


def _lookup(cloud) -> str:
    projects = cloud.call("GET", "/projects?name=demo", cloud.admin()).get_json()["projects"]
    return projects[0]["id"]


def test_shared_network_ports(admin, demo):
    shared = admin.ok("POST", "/networks", {"network": {"name": "sh", "shared": True}},
                      201)["network"]
    admin.ok("POST", "/subnets", {"subnet": {"network_id": shared["id"],
                                             "cidr": "10.31.0.0/24", "ip_version": 4}}, 201)
    port = _port(demo, shared["id"])
    assert port["fixed_ips"][0]["ip_address"] == "10.31.0.2"
    assert demo.error("POST", "/ports", {"port": {
        "network_id": shared["id"], "fixed_ips": [{"ip_address": "10.31.0.9"}]}}) == \
        (403, "PolicyNotAuthorized")
    assert demo.error("POST", "/ports", {"port": {
        "network_id": shared["id"], "device_owner": "network:dhcp"}}) == \
        (403, "PolicyNotAuthorized")
    demo.ok("DELETE", f"/ports/{port['id']}", status=204)
    admin.ok("DELETE", f"/networks/{shared['id']}", status=204)


def test_concurrent_allocation_never_hands_an_address_twice(admin):
    network = admin.ok("POST", "/networks", {"network": {"name": "race"}}, 201)["network"]
    subnet = admin.ok("POST", "/subnets", {"subnet": {
        "network_id": network["id"], "cidr": "10.40.0.0/28", "ip_version": 4}}, 201)["subnet"]
    pool = ipaddress.ip_network(subnet["cidr"])
    capacity = pool.num_addresses - 3  # network, broadcast, gateway

    def create(_):
        return admin("POST", "/ports", {"port": {"network_id": network["id"]}})

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as executor:
        responses = list(executor.map(create, range(50)))
    made = [r.get_json()["port"] for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    addresses = [p["fixed_ips"][0]["ip_address"] for p in made]
    assert len(made) == capacity and len(set(addresses)) == capacity
    assert all(ipaddress.ip_address(a) in pool for a in addresses)
    assert {r.status_code for r in refused} == {409}
    assert {r.get_json()["NeutronError"]["type"] for r in refused} == \
        {"IpAddressGenerationFailure"}
    listed = admin.ok("GET", "/ports", network_id=network["id"])["ports"]
    assert len(listed) == capacity
    for port in made:
        admin.ok("DELETE", f"/ports/{port['id']}", status=204)
    admin.ok("DELETE", f"/networks/{network['id']}", status=204)
