"""Networks and subnets through the API: provider segments, visibility, validation."""

from __future__ import annotations

import pytest


def _network(user, **values):
    return user.ok("POST", "/networks", {"network": values}, 201)["network"]


def _subnet(user, network_id, cidr, **values):
    body = {"subnet": {"network_id": network_id, "cidr": cidr, "ip_version": 4, **values}}
    return user.ok("POST", "/subnets", body, 201)["subnet"]


def test_version_documents(cloud):
    versions = cloud.client.get("/network/").get_json()["versions"]
    assert versions[0]["id"] == "v2.0" and versions[0]["status"] == "CURRENT"
    assert versions[0]["links"][0]["href"].endswith("/network/v2.0/")
    resources = cloud.client.get("/network/v2.0/").get_json()["resources"]
    assert {"networks", "subnets", "ports", "routers"} <= {r["collection"] for r in resources}


def test_faults_are_neutron_format(cloud, demo):
    response = cloud.client.get("/network/v2.0/networks")
    assert response.status_code == 401
    status, kind = demo.error("GET", "/networks/3c2f6b2e-1bd5-4a38-a2bb-1b0b8b2d5a27")
    assert (status, kind) == (404, "NetworkNotFound")
    assert demo.error("GET", "/networks/not-a-uuid")[0] == 404
    assert demo.error("POST", "/networks", {"network": {"bogus": 1}}) == (400, "InvalidInput")
    assert demo.error("POST", "/networks", {"nets": {}}) == (400, "InvalidInput")
    assert demo.error("GET", "/nothing-here")[0] == 404


def test_network_lifecycle_and_provider_attributes(admin, demo, recorder):
    created = _network(demo, name="net-a", description="first")
    assert "provider:network_type" not in created  # admin-only attribute
    assert (created["mtu"], created["status"], created["shared"]) == (1450, "ACTIVE", False)
    shown = admin.ok("GET", f"/networks/{created['id']}")["network"]
    assert shown["provider:network_type"] == "vxlan" and shown["provider:segmentation_id"]
    updated = demo.ok("PUT", f"/networks/{created['id']}",
                      {"network": {"name": "net-b", "mtu": 1400}})["network"]
    assert (updated["name"], updated["mtu"], updated["revision_number"]) == ("net-b", 1400, 1)
    assert demo.error("PUT", f"/networks/{created['id']}",
                      {"network": {"mtu": 9000}}) == (400, "InvalidInput")
    assert demo.error("PUT", f"/networks/{created['id']}",
                      {"network": {"shared": True}}) == (403, "PolicyNotAuthorized")
    names = [n["name"] for n in demo.ok("GET", "/networks", name="net-b")["networks"]]
    assert names == ["net-b"]
    demo.ok("DELETE", f"/networks/{created['id']}", status=204)
    assert demo.error("GET", f"/networks/{created['id']}")[0] == 404


def test_provider_networks_are_admin_only_and_validated(admin, demo):
    assert demo.error("POST", "/networks", {"network": {
        "name": "x", "provider:network_type": "vxlan"}}) == (403, "PolicyNotAuthorized")
    assert demo.error("POST", "/networks", {"network": {"router:external": True}}) == \
        (403, "PolicyNotAuthorized")
    flat = _network(admin, name="ext", **{"router:external": True,
                                          "provider:network_type": "flat",
                                          "provider:physical_network": "public"})
    assert (flat["mtu"], flat["provider:segmentation_id"]) == (1500, None)
    assert admin.error("POST", "/networks", {"network": {
        "provider:network_type": "flat", "provider:physical_network": "public"}}) == \
        (409, "SegmentationIdInUse")
    for bad in ({"provider:network_type": "geneve"},
                {"provider:network_type": "flat"},
                {"provider:network_type": "flat", "provider:physical_network": "nowhere"},
                {"provider:network_type": "vxlan", "provider:physical_network": "public"},
                {"provider:network_type": "vlan", "provider:physical_network": "public"},
                {"provider:segmentation_id": 5}):
        assert admin.error("POST", "/networks", {"network": bad}) == (400, "InvalidInput")
    vni = _network(admin, **{"provider:network_type": "vxlan",
                             "provider:segmentation_id": 4242})
    assert vni["provider:segmentation_id"] == 4242
    assert admin.error("POST", "/networks", {"network": {
        "provider:network_type": "vxlan", "provider:segmentation_id": 4242}})[0] == 409
    assert admin.error("PUT", f"/networks/{vni['id']}", {"network": {
        "provider:segmentation_id": 4243}}) == (400, "InvalidInput")
    # External networks are visible to every project, their provider details are not.
    seen = demo.ok("GET", f"/networks/{flat['id']}")["network"]
    assert seen["router:external"] and "provider:physical_network" not in seen
    assert flat["id"] in [n["id"] for n in demo.ok("GET", "/networks",
                                                   **{"router:external": "True"})["networks"]]
    for network in (flat, vni):
        admin.ok("DELETE", f"/networks/{network['id']}", status=204)


def test_project_isolation_and_shared_networks(admin, demo):
    private = _network(admin, name="admin-private")
    shared = _network(admin, name="admin-shared", shared=True)
    visible = {n["id"] for n in demo.ok("GET", "/networks")["networks"]}
    assert shared["id"] in visible and private["id"] not in visible
    assert demo.error("GET", f"/networks/{private['id']}") == (404, "NetworkNotFound")
    assert demo.error("DELETE", f"/networks/{private['id']}")[0] == 404
    assert demo.error("PUT", f"/networks/{shared['id']}", {"network": {"name": "x"}})[0] \
        == 403
    subnet = _subnet(admin, shared["id"], "10.77.0.0/24")
    assert demo.ok("GET", f"/subnets/{subnet['id']}")["subnet"]["cidr"] == "10.77.0.0/24"
    assert demo.error("POST", "/subnets", {"subnet": {
        "network_id": private["id"], "cidr": "10.78.0.0/24", "ip_version": 4}}) == \
        (404, "NetworkNotFound")
    assert demo.error("POST", "/subnets", {"subnet": {
        "network_id": shared["id"], "cidr": "10.79.0.0/24", "ip_version": 4}}) == \
        (403, "PolicyNotAuthorized")
    everything = {n["id"] for n in admin.ok("GET", "/networks")["networks"]}
    assert {private["id"], shared["id"]} <= everything
    admin.ok("DELETE", f"/subnets/{subnet['id']}", status=204)
    for network in (private, shared):
        admin.ok("DELETE", f"/networks/{network['id']}", status=204)


def test_subnet_defaults_and_options(demo, recorder):
    network = _network(demo, name="sub-net")
    recorder.clear()
    subnet = _subnet(demo, network["id"], "192.168.10.0/24", name="s1",
                     dns_nameservers=["8.8.8.8", "1.1.1.1"],
                     host_routes=[{"destination": "10.9.0.0/16", "nexthop": "192.168.10.9"}])
    assert subnet["gateway_ip"] == "192.168.10.1"
    assert subnet["allocation_pools"] == [{"start": "192.168.10.2", "end": "192.168.10.254"}]
    assert subnet["dns_nameservers"] == ["8.8.8.8", "1.1.1.1"] and subnet["enable_dhcp"]
    assert recorder.ids("dhcp_networks_changed") == {network["id"]}
    assert demo.ok("GET", f"/networks/{network['id']}")["network"]["subnets"] == [subnet["id"]]
    middle = _subnet(demo, network["id"], "192.168.20.0/24", gateway_ip="192.168.20.100",
                     enable_dhcp=False)
    assert middle["allocation_pools"] == [
        {"start": "192.168.20.1", "end": "192.168.20.99"},
        {"start": "192.168.20.101", "end": "192.168.20.254"}]
    none = _subnet(demo, network["id"], "192.168.30.0/29", gateway_ip=None,
                   allocation_pools=[{"start": "192.168.30.2", "end": "192.168.30.4"}])
    assert none["gateway_ip"] is None
    v6 = demo.ok("POST", "/subnets", {"subnet": {
        "network_id": network["id"], "cidr": "fd00:1::/64", "ip_version": 6,
        "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"}}, 201)["subnet"]
    assert v6["gateway_ip"] == "fd00:1::1"
    updated = demo.ok("PUT", f"/subnets/{subnet['id']}", {"subnet": {
        "name": "s1b", "dns_nameservers": [], "allocation_pools": [
            {"start": "192.168.10.10", "end": "192.168.10.20"}]}})["subnet"]
    assert updated["dns_nameservers"] == [] and updated["name"] == "s1b"
    listed = demo.ok("GET", "/subnets", network_id=network["id"], ip_version="6")
    assert [s["id"] for s in listed["subnets"]] == [v6["id"]]
    fields = demo.ok("GET", f"/subnets/{subnet['id']}", fields="cidr")["subnet"]
    assert fields == {"cidr": "192.168.10.0/24"}
    demo.ok("DELETE", f"/networks/{network['id']}", status=204)


@pytest.mark.parametrize(("values", "expected"), [
    ({"cidr": "10.0.0.0/33"}, (400, "InvalidInput")),
    ({"cidr": "not-a-cidr"}, (400, "InvalidInput")),
    ({"cidr": "10.0.0.5/24"}, (400, "InvalidInput")),
    ({"cidr": "fd00::/64"}, (400, "InvalidInput")),
    ({"cidr": "10.1.0.0/24", "gateway_ip": "10.2.0.1"}, (400, "InvalidInput")),
    ({"cidr": "10.1.0.0/24", "gateway_ip": "10.1.0.255"}, (400, "InvalidInput")),
    ({"cidr": "10.1.0.0/24", "allocation_pools": [{"start": "10.1.0.20",
                                                   "end": "10.1.0.10"}]},
     (400, "InvalidAllocationPool")),
    ({"cidr": "10.1.0.0/24", "allocation_pools": [{"start": "10.1.0.0",
                                                   "end": "10.1.0.10"}]},
     (400, "OutOfBoundsAllocationPool")),
    ({"cidr": "10.1.0.0/24", "allocation_pools": [
        {"start": "10.1.0.2", "end": "10.1.0.10"},
        {"start": "10.1.0.10", "end": "10.1.0.20"}]}, (409, "OverlappingAllocationPools")),
    ({"cidr": "10.1.0.0/24", "allocation_pools": [{"start": "10.1.0.1",
                                                   "end": "10.1.0.10"}]},
     (409, "GatewayConflictWithAllocationPools")),
    ({"cidr": "10.1.0.0/24", "dns_nameservers": ["1.1.1.1"] * 2}, (400, "InvalidInput")),
    ({"cidr": "10.1.0.0/24", "dns_nameservers": [f"1.1.1.{i}" for i in range(6)]},
     (400, "DNSNameServersExhausted")),
    ({"cidr": "10.1.0.0/24", "dns_nameservers": ["dns.example"]}, (400, "InvalidInput")),
    ({"cidr": "10.1.0.0/24", "host_routes": [{"destination": "x", "nexthop": "10.1.0.3"}]},
     (400, "InvalidInput")),
    ({"cidr": "10.1.0.0/24", "ipv6_address_mode": "slaac"}, (400, "InvalidInput")),
    ({"cidr": "10.1.0.0/24", "ip_version": 5}, (400, "InvalidInput")),
])
def test_bad_subnets(demo, values, expected):
    network = _network(demo, name="bad-subnets")
    try:
        body = {"subnet": {"network_id": network["id"], "ip_version": 4, **values}}
        assert demo.error("POST", "/subnets", body) == expected
        assert demo.ok("GET", f"/networks/{network['id']}")["network"]["subnets"] == []
    finally:
        demo.ok("DELETE", f"/networks/{network['id']}", status=204)


def test_overlapping_subnets_on_one_network(demo):
    network = _network(demo, name="overlap")
    _subnet(demo, network["id"], "10.50.0.0/16")
    status, kind = demo.error("POST", "/subnets", {"subnet": {
        "network_id": network["id"], "cidr": "10.50.3.0/24", "ip_version": 4}})
    assert (status, kind) == (400, "InvalidInput")
    response = demo("POST", "/subnets", {"subnet": {
        "network_id": network["id"], "cidr": "10.50.3.0/24", "ip_version": 4}})
    assert "overlaps with" in response.get_json()["NeutronError"]["message"]
    demo.ok("DELETE", f"/networks/{network['id']}", status=204)


def test_delete_in_use(demo):
    network = _network(demo, name="busy")
    subnet = _subnet(demo, network["id"], "10.60.0.0/24")
    port = demo.ok("POST", "/ports", {"port": {"network_id": network["id"]}}, 201)["port"]
    assert demo.error("DELETE", f"/subnets/{subnet['id']}") == (409, "SubnetInUse")
    assert demo.error("DELETE", f"/networks/{network['id']}") == (409, "NetworkInUse")
    demo.ok("DELETE", f"/ports/{port['id']}", status=204)
    demo.ok("DELETE", f"/subnets/{subnet['id']}", status=204)
    demo.ok("DELETE", f"/networks/{network['id']}", status=204)


def test_pagination_sorting_and_filters(demo):
    made = [_network(demo, name=f"page-{i}") for i in range(5)]
    page = demo.ok("GET", "/networks", limit="2", sort_key="name", sort_dir="desc")
    assert [n["name"] for n in page["networks"]][:2] == ["page-4", "page-3"]
    link = page["networks_links"][0]
    assert link["rel"] == "next" and "marker=" in link["href"]
    names = [n["name"] for n in demo.ok("GET", "/networks", name=["page-1", "page-2"])[
        "networks"]]
    assert sorted(names) == ["page-1", "page-2"]
    assert demo.error("GET", "/networks", sort_key="bogus")[0] == 400
    assert demo.error("GET", "/networks", limit="x")[0] == 400
    for network in made:
        demo.ok("DELETE", f"/networks/{network['id']}", status=204)


def test_unsharing_a_network_others_use(admin, demo):
    shared = _network(admin, name="unshare", shared=True)
    _subnet(admin, shared["id"], "10.66.0.0/24")
    port = demo.ok("POST", "/ports", {"port": {"network_id": shared["id"]}}, 201)["port"]
    assert admin.error("PUT", f"/networks/{shared['id']}", {"network": {"shared": False}}) \
        == (409, "InvalidSharedSetting")
    demo.ok("DELETE", f"/ports/{port['id']}", status=204)
    assert admin.ok("PUT", f"/networks/{shared['id']}", {"network": {"shared": False}})[
        "network"]["shared"] is False
    admin.ok("DELETE", f"/networks/{shared['id']}", status=204)
