"""Servers on networks through the compute API, in-process on SQLite and PostgreSQL: the
networks of a create request (checked before any row is written), addresses and
security groups in the views, the ip filters, the security group and floating IP
actions and os-interface, with the real network service and recording fakes in place
of the conductor and the compute agents."""

from __future__ import annotations

import uuid

import oslo_messaging
import pytest
import sqlalchemy as sa

from common.context import RequestContext
from controller.conductor import networking
from controller.db.models.network import Port
from controller.db.models.servers import Instance
from controller.network import notify
from tests.functional.compute_api import fakes
from tests.functional.network_api.conftest import RecordingNotifier

HOST = "net-host-1"


class Net:
    """The Network API as one user of the env."""

    def __init__(self, env, user: str):
        self.env, self.user = env, user

    def __call__(self, method: str, path: str, body=None, status: int = 200):
        response = self.env.cloud.client.open(
            f"/network/v2.0{path}", method=method, json=body,
            headers={"X-Auth-Token": self.env.tokens[self.user]})
        assert response.status_code == status, (method, path, response.get_json())
        return response.get_json()


@pytest.fixture(scope="module")
def world(env):
    """demo: lan (10.77.0.0/24) routed to an external network; other: its own lan2;
    admin: the external network and a network without subnet."""
    setattr(env.cloud.rt, notify.ATTRIBUTE, RecordingNotifier())
    admin, demo, other = Net(env, "admin"), Net(env, "demo"), Net(env, "other")
    public = admin("POST", "/networks", {"network": {"name": "f-public",
                                                    "router:external": True}}, 201)["network"]
    admin("POST", "/subnets", {"subnet": {"network_id": public["id"], "ip_version": 4,
                                          "cidr": "172.29.0.0/24", "enable_dhcp": False}},
          201)
    lan = demo("POST", "/networks", {"network": {"name": "f-lan"}}, 201)["network"]
    subnet = demo("POST", "/subnets", {"subnet": {"network_id": lan["id"], "ip_version": 4,
                                                  "cidr": "10.77.0.0/24"}}, 201)["subnet"]
    router = demo("POST", "/routers", {"router": {
        "name": "f-router", "external_gateway_info": {"network_id": public["id"]}}},
        201)["router"]
    demo("PUT", f"/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    demo("POST", "/security-groups", {"security_group": {"name": "web"}}, 201)
    lan2 = other("POST", "/networks", {"network": {"name": "f-lan2"}}, 201)["network"]
    other("POST", "/subnets", {"subnet": {"network_id": lan2["id"], "ip_version": 4,
                                          "cidr": "10.78.0.0/24"}}, 201)
    bare = admin("POST", "/networks", {"network": {"name": "f-bare", "shared": False}},
                 201)["network"]
    return {"public": public, "lan": lan, "subnet": subnet, "lan2": lan2, "bare": bare,
            "admin": admin, "demo": demo, "other": other}


def _ports(env) -> set[str]:
    with env.cloud.rt.db.session() as session:
        return set(session.scalars(sa.select(Port.id)))


def _instances(env) -> int:
    with env.cloud.rt.db.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Instance))


def _place(env, server_id: str, host: str = HOST) -> Instance:
    """What the conductor and the agent do: ports on host, then ACTIVE."""
    row = env.row(server_id)
    ctx = RequestContext(user_id=row.user_id, project_id=row.project_id,
                         roles=["member", "reader"])
    networking.allocate(env.cloud.rt, ctx, row, host)
    env.set_state(server_id, vm_state="active", task_state=None, host=host, node=host)
    return env.row(server_id)


def test_create_stores_the_checked_request(fresh, world):
    env = fresh
    server = env.boot(networks=[{"uuid": world["lan"]["id"]},
                                {"uuid": world["lan"]["id"], "fixed_ip": "10.77.0.50"}],
                      security_groups=[{"name": "web"}])
    row = env.row(server["id"])
    assert row.system_metadata["network_request"] == "requested"
    assert row.system_metadata["requested_networks"] == [
        {"network_id": world["lan"]["id"]},
        {"network_id": world["lan"]["id"], "fixed_ip": "10.77.0.50"}]
    assert env.conductor.named("build_instances")
    port = world["demo"]("POST", "/ports", {"port": {"network_id": world["lan"]["id"]}},
                         201)["port"]
    by_port = env.boot(networks=[{"port": port["id"]}])
    assert env.row(by_port["id"]).system_metadata["requested_networks"] == [
        {"port_id": port["id"]}]


def test_auto_and_absent_networks(fresh, world):
    env = fresh
    # demo has exactly one network of its own (the external one is admin's).
    auto = env.boot(networks="auto")
    assert env.row(auto["id"]).system_metadata["requested_networks"] == [
        {"network_id": world["lan"]["id"]}]
    body = {"server": {"name": "old", "imageRef": env.image_id, "flavorRef": env.flavor}}
    legacy = env.call("POST", "/servers", "demo", body, "2.36")
    assert legacy.status_code == 202, legacy.get_json()
    assert env.row(legacy.get_json()["server"]["id"]).system_metadata[
        "requested_networks"] == [{"network_id": world["lan"]["id"]}]
    none = env.boot(networks="none")
    assert env.row(none["id"]).system_metadata["requested_networks"] == []
    # The admin project owns two networks: "auto" is ambiguous there.
    body = {"server": {"name": "x", "imageRef": env.image_id, "flavorRef": env.flavor,
                       "networks": "auto"}}
    response = env.call("POST", "/servers", "admin", body)
    assert response.status_code == 409
    assert "Multiple possible networks" in response.get_json()["conflictingRequest"][
        "message"]


def test_no_network_for_auto(fresh, world):
    """A project with no network: explicit "auto" is a 400 saying what to do; an absent
    networks key below 2.37 boots without NIC, as Nova does."""
    env = fresh
    project = _lonely(env)
    body = {"server": {"name": "x", "imageRef": env.image_id, "flavorRef": env.flavor,
                       "networks": "auto"}}
    response = env.call("POST", "/servers", project, body)
    assert response.status_code == 400
    assert "--nic none" in response.get_json()["badRequest"]["message"]
    del body["server"]["networks"]
    response = env.call("POST", "/servers", project, body, "2.36")
    assert response.status_code == 202
    assert env.row(response.get_json()["server"]["id"]).system_metadata[
        "requested_networks"] == []


def _lonely(env) -> str:
    """The token name of a member of a new project that has no network."""
    if "lonely" not in env.tokens:
        fakes.add_member(env.cloud.rt, "lonely", "lonely", "lonely-pw")
        env.tokens["lonely"] = env.cloud.token("lonely", "lonely-pw", "lonely")
    return "lonely"


def _bad_cases(world, port_in_use, other_port, free_port):
    lan, subnet = world["lan"]["id"], world["subnet"]
    return [
        ([{"uuid": str(uuid.uuid4())}], {}, 400, "could not be found"),
        ([{"uuid": world["lan2"]["id"]}], {}, 400, "could not be found"),
        ([{"uuid": world["bare"]["id"]}], {}, 400, "could not be found"),
        ([{"uuid": world["public"]["id"]}], {}, 403, "external network"),
        ([{"uuid": lan, "fixed_ip": "10.99.0.5"}], {}, 400, "not in a subnet"),
        ([{"uuid": lan, "fixed_ip": "10.77.0.255"}], {}, 400, "not a usable address"),
        ([{"uuid": lan, "fixed_ip": subnet["gateway_ip"]}], {}, 400, "already in use"),
        ([{"uuid": lan, "fixed_ip": "10.77.0.9"}, {"uuid": lan, "fixed_ip": "10.77.0.9"}],
         {}, 400, "more than once"),
        ([{"uuid": lan, "fixed_ip": "10.77.0.9"}], {"max_count": 2}, 400, "max_count"),
        ([{"port": port_in_use}], {}, 409, "still in use"),
        ([{"port": other_port}], {}, 400, "could not be found"),
        ([{"port": free_port, "fixed_ip": "10.77.0.9"}], {}, 400, "cannot be used with"),
        ([{"port": free_port}], {"min_count": 2}, 400, "single configured port"),
        ([{"port": free_port}, {"port": free_port}], {}, 400, "more than once"),
        ([{"uuid": lan}], {"security_groups": [{"name": "nope"}]}, 400,
         "Security group nope not found"),
    ]


def test_bad_network_requests_are_4xx_and_leave_nothing(fresh, world):
    env = fresh
    demo, other = world["demo"], world["other"]
    used = demo("POST", "/ports", {"port": {"network_id": world["lan"]["id"],
                                            "device_id": "someone-else"}}, 201)["port"]
    foreign = other("POST", "/ports", {"port": {"network_id": world["lan2"]["id"]}},
                    201)["port"]
    free = demo("POST", "/ports", {"port": {"network_id": world["lan"]["id"]}}, 201)["port"]
    ports, count = _ports(env), _instances(env)
    for networks, extra, status, message in _bad_cases(world, used["id"], foreign["id"],
                                                       free["id"]):
        body = {"server": {"name": "bad", "imageRef": env.image_id, "flavorRef": env.flavor,
                           "networks": networks, **extra}}
        response = env.call("POST", "/servers", "demo", body)
        assert response.status_code == status, (networks, extra, response.get_json())
        fault = next(iter(response.get_json().values()))
        assert message in fault["message"], (networks, fault)
    assert _ports(env) == ports and _instances(env) == count
    assert not env.conductor.named("build_instances")


def test_port_quota_is_checked_before_anything_is_written(fresh, world):
    env = fresh
    admin = world["admin"]
    project = env.projects["other"]
    admin("PUT", f"/quotas/{project}", {"quota": {"port": 1}})
    try:
        body = {"server": {"name": "q", "imageRef": env.image_id, "flavorRef": env.flavor,
                           "networks": [{"uuid": world["lan2"]["id"]}]}}
        response = env.call("POST", "/servers", "other", body)
        assert response.status_code == 403
        assert "Maximum number of ports exceeded" in response.get_json()["forbidden"][
            "message"]
    finally:
        admin("DELETE", f"/quotas/{project}", status=204)


def test_views_show_addresses_and_groups_of_the_ports(fresh, world):
    env = fresh
    server = env.boot(networks=[{"uuid": world["lan"]["id"], "fixed_ip": "10.77.0.61"}],
                      security_groups=[{"name": "web"}, {"name": "default"}])
    row = _place(env, server["id"])
    port = env.call("GET", f"/servers/{row.uuid}/os-interface").get_json()[
        "interfaceAttachments"][0]
    shown = env.call("GET", f"/servers/{row.uuid}").get_json()["server"]
    assert shown["addresses"] == {"f-lan": [{
        "version": 4, "addr": "10.77.0.61", "OS-EXT-IPS:type": "fixed",
        "OS-EXT-IPS-MAC:mac_addr": port["mac_addr"]}]}
    assert shown["security_groups"] == [{"name": "default"}, {"name": "web"}]
    fip = world["demo"]("POST", "/floatingips", {"floatingip": {
        "floating_network_id": world["public"]["id"], "port_id": port["port_id"]}},
        201)["floatingip"]
    listed = env.call("GET", "/servers/detail").get_json()["servers"]
    mine = next(s for s in listed if s["id"] == row.uuid)
    assert [a["OS-EXT-IPS:type"] for a in mine["addresses"]["f-lan"]] == ["fixed",
                                                                         "floating"]
    assert mine["addresses"]["f-lan"][1]["addr"] == fip["floating_ip_address"]
    bare = env.boot(networks="none")
    shown = env.call("GET", f"/servers/{bare['id']}").get_json()["server"]
    assert shown["addresses"] == {} and "security_groups" not in shown
    world["demo"]("DELETE", f"/floatingips/{fip['id']}", status=204)


def test_ip_filters(fresh, world):
    env = fresh
    first = _place(env, env.boot(networks=[{"uuid": world["lan"]["id"],
                                           "fixed_ip": "10.77.0.71"}])["id"])
    second = _place(env, env.boot(networks=[{"uuid": world["lan"]["id"],
                                            "fixed_ip": "10.77.0.171"}])["id"])

    def ids(query: str) -> set[str]:
        response = env.call("GET", f"/servers?{query}")
        assert response.status_code == 200, response.get_json()
        return {s["id"] for s in response.get_json()["servers"]}

    assert ids("ip=71") == {first.uuid, second.uuid}  # Nova: a substring
    assert ids("ip=10.77.0.71") == {first.uuid}
    assert ids("ip=%5E10%5C.77%5C.0%5C.171%24") == {second.uuid}  # ^10\.77\.0\.171$
    assert ids("ip=10.77.0.171") == {second.uuid}
    assert ids("ip=10_77") == set() and ids("ip=10%25") == set()  # no SQL wildcards
    assert ids("ip6=10.77") == set()


def test_security_group_actions(fresh, world):
    env = fresh
    row = _place(env, env.boot(networks=[{"uuid": world["lan"]["id"]}])["id"])
    path = f"/servers/{row.uuid}/action"

    def groups():
        return [g["name"] for g in env.call("GET", f"/servers/{row.uuid}/os-security-groups")
                .get_json()["security_groups"]]

    assert groups() == ["default"]
    assert env.call("POST", path, body={"addSecurityGroup": {"name": "web"}}).status_code \
        == 202
    assert groups() == ["default", "web"]
    response = env.call("POST", path, body={"addSecurityGroup": {"name": "web"}})
    assert response.status_code == 400 and "already associated" in response.get_data(as_text=True)
    response = env.call("POST", path, body={"addSecurityGroup": {"name": "nope"}})
    assert response.status_code == 404
    assert env.call("POST", path, body={"addSecurityGroup": {}}).status_code == 400
    assert env.call("POST", path, body={"removeSecurityGroup": {"name": "web"}}) \
        .status_code == 202
    response = env.call("POST", path, body={"removeSecurityGroup": {"name": "web"}})
    assert response.status_code == 400 and "not assigned" in response.get_data(as_text=True)
    assert groups() == ["default"]
    view = env.call("GET", f"/servers/{row.uuid}/os-security-groups").get_json()
    rules = view["security_groups"][0]["rules"]
    assert rules and all(r["parent_group_id"] == view["security_groups"][0]["id"]
                         for r in rules)
    # Another project's server does not exist for the caller.
    assert env.call("POST", path, "other", {"addSecurityGroup": {"name": "web"}}) \
        .status_code == 404
    assert env.call("GET", f"/servers/{row.uuid}/os-security-groups", "other") \
        .status_code == 404


def test_floating_ip_actions_below_2_44(fresh, world):
    env = fresh
    row = _place(env, env.boot(networks=[{"uuid": world["lan"]["id"]}])["id"])
    fip = world["demo"]("POST", "/floatingips", {"floatingip": {
        "floating_network_id": world["public"]["id"]}}, 201)["floatingip"]
    address = fip["floating_ip_address"]
    path = f"/servers/{row.uuid}/action"
    assert env.call("POST", path, body={"addFloatingIp": {"address": address}},
                    version="2.44").status_code == 404
    assert env.call("POST", path, body={"addFloatingIp": {"address": address}},
                    version="2.43").status_code == 202
    assert world["demo"]("GET", f"/floatingips/{fip['id']}")["floatingip"]["port_id"]
    assert env.call("POST", path, body={"addFloatingIp": {"address": "172.29.0.250"}},
                    version="2.43").status_code == 404
    assert env.call("POST", path, body={"addFloatingIp": {"address": "nope"}},
                    version="2.43").status_code == 400
    assert env.call("POST", path, body={"removeFloatingIp": {"address": address}},
                    version="2.43").status_code == 202
    assert world["demo"]("GET", f"/floatingips/{fip['id']}")["floatingip"]["port_id"] \
        is None
    assert env.call("POST", path, body={"removeFloatingIp": {"address": address}},
                    version="2.43").status_code == 409
    world["demo"]("DELETE", f"/floatingips/{fip['id']}", status=204)


def test_interface_attach_list_show_detach(fresh, world):
    env = fresh
    row = _place(env, env.boot(networks=[{"uuid": world["lan"]["id"]}])["id"])
    base = f"/servers/{row.uuid}/os-interface"
    [first] = env.call("GET", base).get_json()["interfaceAttachments"]
    assert first["net_id"] == world["lan"]["id"] and first["fixed_ips"][0]["ip_address"]
    assert env.call("GET", f"{base}/{first['port_id']}").get_json()[
        "interfaceAttachment"] == first
    assert env.call("GET", f"{base}/{uuid.uuid4()}").status_code == 404
    # Attach by network with a fixed IP: the port is made on the server's host, then
    # the agent is asked to plug it.
    response = env.call("POST", base, body={"interfaceAttachment": {
        "net_id": world["lan"]["id"], "fixed_ips": [{"ip_address": "10.77.0.81"}]}})
    assert response.status_code == 200, response.get_json()
    added = response.get_json()["interfaceAttachment"]
    assert added["fixed_ips"][0]["ip_address"] == "10.77.0.81"
    ((host, instance_uuid, vif), kwargs), = env.agent.named("attach_interface")
    assert (host, instance_uuid, vif["id"]) == (HOST, row.uuid, added["port_id"])
    assert vif["devname"] == f"tap{added['port_id'][:11]}" and kwargs["timeout"]
    port = world["admin"]("GET", f"/ports/{added['port_id']}")["port"]
    assert (port["device_id"], port["binding:host_id"]) == (row.uuid, HOST)
    # Attach the user's own port.
    mine = world["demo"]("POST", "/ports", {"port": {"network_id": world["lan"]["id"]}},
                         201)["port"]
    response = env.call("POST", base, body={"interfaceAttachment": {"port_id": mine["id"]}})
    assert response.status_code == 200
    assert len(env.call("GET", base).get_json()["interfaceAttachments"]) == 3
    # Detach: checked here, carried out by the conductor.
    assert env.call("DELETE", f"{base}/{mine['id']}").status_code == 202
    (args, _), = env.conductor.named("detach_interface")
    assert args == (row.uuid, mine["id"])
    assert env.call("DELETE", f"{base}/{uuid.uuid4()}").status_code == 404
    actions = env.call("GET", f"/servers/{row.uuid}/os-instance-actions").get_json()
    assert {"attach_interface", "detach_interface"} <= {
        a["action"] for a in actions["instanceActions"]}


def test_interface_attach_failures(fresh, world):
    env = fresh
    row = _place(env, env.boot(networks=[{"uuid": world["lan"]["id"]}])["id"])
    base = f"/servers/{row.uuid}/os-interface"
    before = _ports(env)
    env.agent.fail = oslo_messaging.RemoteError("HypervisorError", "QEMU said no")
    response = env.call("POST", base, body={"interfaceAttachment": {
        "net_id": world["lan"]["id"]}})
    assert response.status_code == 409 and "QEMU said no" in response.get_data(as_text=True)
    assert _ports(env) == before  # the port made for it is gone again
    env.agent.fail = None
    cases = [
        ({"net_id": world["lan"]["id"], "port_id": str(uuid.uuid4())}, 400, "both"),
        ({"fixed_ips": [{"ip_address": "10.77.0.90"}]}, 400, "network_id"),
        ({"net_id": str(uuid.uuid4())}, 404, "could not be found"),
        ({"port_id": str(uuid.uuid4())}, 404, "could not be found"),
        ({"net_id": world["lan2"]["id"]}, 404, "could not be found"),
        ({"net_id": world["lan"]["id"], "fixed_ips": [{"ip_address": "10.99.0.1"}]}, 400,
         "not in a subnet"),
        ({"net_id": "not-a-uuid"}, 400, "net_id"),
    ]
    for body, status, message in cases:
        response = env.call("POST", base, body={"interfaceAttachment": body})
        assert response.status_code == status, (body, response.get_json())
        assert message in response.get_data(as_text=True), (body, response.get_json())
    env.set_state(row.uuid, locked=True)
    assert env.call("POST", base, body={"interfaceAttachment": {}}).status_code == 409
    env.set_state(row.uuid, locked=False, task_state="rebooting")
    response = env.call("POST", base, body={"interfaceAttachment": {}})
    assert response.status_code == 409 and "task_state rebooting" in response.get_data(as_text=True)
    assert env.call("POST", base, "other", {"interfaceAttachment": {}}).status_code == 404
    assert env.call("GET", base, "other").status_code == 404
    assert _ports(env) == before and not env.agent.named("attach_interface")
