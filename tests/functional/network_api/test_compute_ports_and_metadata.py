"""What compute calls in process (ports for servers), and the metadata service."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from common.context import RequestContext
from controller.db.models.servers import Instance, InstanceMetadata
from controller.network import compute_ports, metadata
from controller.network import exceptions as exc

SECRET = "s3cret-for-tests"


@pytest.fixture(scope="module")
def lan(cloud, admin, demo):
    public = admin.ok("POST", "/networks", {"network": {
        "name": "cp-public", "router:external": True}}, 201)["network"]
    admin.ok("POST", "/subnets", {"subnet": {"network_id": public["id"], "ip_version": 4,
                                             "cidr": "172.31.0.0/24",
                                             "enable_dhcp": False}}, 201)
    network = demo.ok("POST", "/networks", {"network": {"name": "cp-lan"}}, 201)["network"]
    subnet = demo.ok("POST", "/subnets", {"subnet": {
        "network_id": network["id"], "cidr": "10.12.0.0/24", "ip_version": 4,
        "dns_nameservers": ["10.12.0.53"],
        "host_routes": [{"destination": "10.99.0.0/16", "nexthop": "10.12.0.254"}]}},
        201)["subnet"]
    router = demo.ok("POST", "/routers", {"router": {
        "external_gateway_info": {"network_id": public["id"]}}}, 201)["router"]
    demo.ok("PUT", f"/routers/{router['id']}/add_router_interface",
            {"subnet_id": subnet["id"]})
    ctx = RequestContext(project_id=network["project_id"], roles=["member"],
                         user_id="u")
    return {"public": public, "network": network, "subnet": subnet, "ctx": ctx,
            "project": network["project_id"]}


def test_allocate_and_deallocate(cloud, admin, demo, lan, recorder):
    instance = str(uuid.uuid4())
    user_port = demo.ok("POST", "/ports", {"port": {"network_id": lan["network"]["id"]}},
                        201)["port"]
    recorder.clear()
    vifs = compute_ports.allocate_for_instance(
        cloud.rt, lan["ctx"], instance, lan["project"],
        [{"network_id": lan["network"]["id"], "fixed_ip": "10.12.0.77"},
         {"port_id": user_port["id"]}], ["default"], "compute-1")
    assert [v["type"] for v in vifs] == ["ovs", "ovs"]
    assert vifs[0]["fixed_ips"][0]["ip_address"] == "10.12.0.77"
    assert vifs[0]["bridge"] == "br-int" and vifs[0]["mtu"] == 1450
    assert vifs[0]["devname"] == f"tap{vifs[0]['id'][:11]}"
    created = demo.ok("GET", f"/ports/{vifs[0]['id']}")["port"]
    assert (created["device_id"], created["device_owner"]) == (instance, "compute:nova")
    assert recorder.ids("ports_changed") == {vifs[0]["id"], user_port["id"]}
    addresses = compute_ports.addresses(cloud.rt, [instance])[instance]["cp-lan"]
    assert {a["addr"] for a in addresses} == {"10.12.0.77",
                                              user_port["fixed_ips"][0]["ip_address"]}
    mine = next(a for a in addresses if a["addr"] == "10.12.0.77")
    assert mine["OS-EXT-IPS:type"] == "fixed" and mine["version"] == 4
    assert mine["OS-EXT-IPS-MAC:mac_addr"] == created["mac_address"]
    # All or nothing: a bad request leaves no port behind.
    before = len(demo.ok("GET", "/ports")["ports"])
    with pytest.raises(exc.IpAddressInUse):
        compute_ports.allocate_for_instance(
            cloud.rt, lan["ctx"], str(uuid.uuid4()), lan["project"],
            [{"network_id": lan["network"]["id"]},
             {"network_id": lan["network"]["id"], "fixed_ip": "10.12.0.77"}])
    with pytest.raises(exc.PortInUse):
        compute_ports.allocate_for_instance(cloud.rt, lan["ctx"], str(uuid.uuid4()),
                                            lan["project"], [{"port_id": user_port["id"]}])
    with pytest.raises(exc.SecurityGroupNotFound):
        compute_ports.allocate_for_instance(
            cloud.rt, lan["ctx"], str(uuid.uuid4()), lan["project"],
            [{"network_id": lan["network"]["id"]}], ["no-such-group"])
    assert len(demo.ok("GET", "/ports")["ports"]) == before
    # A daemon's admin context acts for the server's project: no other project's network.
    private = admin.ok("POST", "/networks", {"network": {"name": "not-demos"}}, 201)["network"]
    with pytest.raises(exc.NetworkNotFound):
        compute_ports.allocate_for_instance(cloud.rt, RequestContext.admin(),
                                            str(uuid.uuid4()), lan["project"],
                                            [{"network_id": private["id"]}])
    admin.ok("DELETE", f"/networks/{private['id']}", status=204)
    compute_ports.deallocate_for_instance(cloud.rt, lan["ctx"], instance)
    assert demo.error("GET", f"/ports/{vifs[0]['id']}")[0] == 404
    kept = demo.ok("GET", f"/ports/{user_port['id']}")["port"]
    assert (kept["device_id"], kept["device_owner"]) == ("", "")
    compute_ports.deallocate_for_instance(cloud.rt, lan["ctx"], instance)  # idempotent
    demo.ok("DELETE", f"/ports/{user_port['id']}", status=204)


def test_attach_detach_groups_and_floating_ips(cloud, demo, lan):
    instance = str(uuid.uuid4())
    ctx, rt = lan["ctx"], cloud.rt
    vif = compute_ports.allocate_for_instance(rt, ctx, instance, lan["project"],
                                              [{"network_id": lan["network"]["id"]}],
                                              host="compute-1")[0]
    spare = demo.ok("POST", "/ports", {"port": {"network_id": lan["network"]["id"]}},
                    201)["port"]
    attached = compute_ports.bind(rt, ctx, spare["id"], instance, "compute-1")
    assert attached["id"] == spare["id"]
    assert len(compute_ports.addresses(rt, [instance])[instance]["cp-lan"]) == 2
    compute_ports.unbind(rt, ctx, spare["id"], instance)
    assert demo.ok("GET", f"/ports/{spare['id']}")["port"]["device_id"] == ""
    with pytest.raises(exc.PortNotFound):
        compute_ports.unbind(rt, ctx, spare["id"], instance)

    group = demo.ok("POST", "/security-groups", {"security_group": {"name": "ssh"}},
                    201)["security_group"]
    compute_ports.add_security_group(rt, ctx, instance, "ssh")
    assert group["id"] in demo.ok("GET", f"/ports/{vif['id']}")["port"]["security_groups"]
    assert "ssh" in [g.name for g in compute_ports.security_groups_of(rt, instance)]
    with pytest.raises(Exception, match="already associated"):
        compute_ports.add_security_group(rt, ctx, instance, "ssh")
    compute_ports.remove_security_group(rt, ctx, instance, group["id"])
    with pytest.raises(Exception, match="not assigned"):
        compute_ports.remove_security_group(rt, ctx, instance, "ssh")

    fip = demo.ok("POST", "/floatingips", {"floatingip": {
        "floating_network_id": lan["public"]["id"]}}, 201)["floatingip"]
    compute_ports.floating_ip_for_instance(rt, ctx, instance, fip["floating_ip_address"])
    shown = compute_ports.addresses(rt, [instance])[instance]["cp-lan"]
    assert [a["OS-EXT-IPS:type"] for a in shown] == ["fixed", "floating"]
    compute_ports.remove_floating_ip(rt, ctx, instance, fip["floating_ip_address"])
    assert demo.ok("GET", f"/floatingips/{fip['id']}")["floatingip"]["port_id"] is None
    with pytest.raises(exc.FloatingIPNotFound):
        compute_ports.floating_ip_for_instance(rt, ctx, instance, "203.0.113.9")
    compute_ports.floating_ip_for_instance(rt, ctx, instance, fip["floating_ip_address"])
    compute_ports.deallocate_for_instance(rt, ctx, instance)
    assert demo.ok("GET", f"/floatingips/{fip['id']}")["floatingip"]["status"] == "DOWN"
    demo.ok("DELETE", f"/floatingips/{fip['id']}", status=204)
    demo.ok("DELETE", f"/ports/{spare['id']}", status=204)


@pytest.fixture(scope="module")
def server(cloud, lan):
    cloud.rt.conf.set_override("shared_secret", SECRET, group="metadata")
    instance = str(uuid.uuid4())
    with cloud.rt.db.session() as session:
        session.add(Instance(
            uuid=instance, project_id=lan["project"], user_id="u", display_name="vm-1",
            hostname="vm-1", flavor_id="1", flavor={"name": "m1.tiny"},
            key_name="mykey", key_data="ssh-ed25519 AAAA test",
            user_data=base64.b64encode(b"#!/bin/sh\necho hi\n").decode(),
            availability_zone="nova"))
        session.add(InstanceMetadata(instance_uuid=instance, key="role", value="web"))
    vif = compute_ports.allocate_for_instance(cloud.rt, lan["ctx"], instance, lan["project"],
                                              [{"network_id": lan["network"]["id"]}])[0]
    return instance, vif


def _get(cloud, path, instance, signature=None, **headers):
    signed = {"X-Instance-ID": instance,
              "X-Instance-ID-Signature": signature or metadata.sign(SECRET, instance)}
    return cloud.client.get(f"/metadata{path}", headers={**signed, **headers})


def test_metadata_tree(cloud, server):
    instance, vif = server
    address = vif["fixed_ips"][0]["ip_address"]
    assert "latest" in _get(cloud, "/", instance).get_data(as_text=True).split("\n")
    keys = _get(cloud, "/latest/meta-data/", instance).get_data(as_text=True).split("\n")
    assert {"instance-id", "hostname", "local-ipv4", "public-keys/"} <= set(keys)
    assert _get(cloud, "/latest/meta-data/instance-id", instance).get_data(
        as_text=True) == instance
    assert _get(cloud, "/latest/meta-data/local-ipv4", instance).get_data(
        as_text=True) == address
    assert _get(cloud, "/latest/meta-data/public-keys/", instance).get_data(
        as_text=True) == "0=mykey"
    assert _get(cloud, "/latest/meta-data/public-keys/0/openssh-key", instance).get_data(
        as_text=True) == "ssh-ed25519 AAAA test"
    assert _get(cloud, "/latest/user-data", instance).data == b"#!/bin/sh\necho hi\n"
    assert _get(cloud, "/openstack/latest/user_data", instance).data.startswith(b"#!")
    assert "latest" in _get(cloud, "/openstack", instance).get_data(as_text=True)
    meta = json.loads(_get(cloud, "/openstack/latest/meta_data.json", instance).data)
    assert (meta["uuid"], meta["name"], meta["meta"]) == (instance, "vm-1", {"role": "web"})
    assert meta["public_keys"] == {"mykey": "ssh-ed25519 AAAA test"}
    data = json.loads(_get(cloud, "/openstack/2018-08-27/network_data.json", instance).data)
    assert data["links"][0]["ethernet_mac_address"] == vif["mac"]
    assert data["networks"][0]["ip_address"] == address
    assert {"type": "dns", "address": "10.12.0.53"} in data["services"]
    assert data["networks"][0]["routes"][0]["gateway"] == "10.12.0.1"
    assert _get(cloud, "/latest/meta-data/nothing", instance).status_code == 404
    assert _get(cloud, "/openstack/latest/nothing.json", instance).status_code == 404


def test_metadata_refuses_unsigned_requests(cloud, server):
    instance, _ = server
    assert cloud.client.get("/metadata/latest/meta-data/").status_code == 403
    assert _get(cloud, "/latest/meta-data/", instance, signature="0" * 64).status_code == 403
    other = str(uuid.uuid4())
    assert _get(cloud, "/latest/meta-data/", other).status_code == 404
    wrong_project = _get(cloud, "/latest/", instance, **{"X-Tenant-ID": "someone"})
    assert wrong_project.status_code == 403
    assert wrong_project.get_data(as_text=True) == "Forbidden"
    cloud.rt.conf.set_override("shared_secret", "", group="metadata")
    try:
        assert _get(cloud, "/latest/", instance).status_code == 403
    finally:
        cloud.rt.conf.set_override("shared_secret", SECRET, group="metadata")
