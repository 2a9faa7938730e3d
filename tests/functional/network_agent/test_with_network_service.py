"""The agents against the real network service: API, IPAM, agent RPC server, fanout
notifications and the metadata API, all in this process over SQLite and RabbitMQ.

What a user does through the Network API (a public network, a private one with a
router, floating IPs, security group rules) and what the compute side does
(allocate_for_instance binding ports to this host) reaches real packets: "guests"
(namespaces plugged as libvirt plugs taps) lease the addresses the API reports, ping
each other, are reached through their floating IP, and read their own metadata from
the metadata API through the proxy. Deleting everything leaves the host clean.
"""

from __future__ import annotations

import random
import threading
import uuid

import pytest
from werkzeug.serving import make_server

from common.context import RequestContext
from controller.api.app import create_app
from controller.db import base as db_base
from controller.db import migration
from controller.db.models.servers import Instance
from controller.identity import bootstrap
from controller.identity.fernet import KeyRepository
from controller.network import compute_ports, rpc_server
from controller.runtime import Runtime
from tests.functional import support
from tests.functional.network_agent.netenv import SECRET, ExternalHost, wait_until

pytestmark = pytest.mark.usefixtures("ovs_host")


class Api:
    """/network/v2.0 as one user."""

    def __init__(self, cloud, token):
        self.cloud, self.token = cloud, token

    def __call__(self, method, path, body=None, status=200):
        response = self.cloud.client.open(f"/network/v2.0{path}", method=method, json=body,
                                          headers={"X-Auth-Token": self.token})
        assert response.status_code == status, (method, path, response.get_json())
        return response.get_json()


@pytest.fixture(scope="module")
def service(bare_netenv, tmp_path_factory):
    env = bare_netenv
    tmp = tmp_path_factory.mktemp("service")
    overrides = env.overrides()
    conf = support.make_conf(
        f"sqlite:///{tmp}/stratus.sqlite", str(tmp / "keys"),
        messaging=overrides["messaging"], network_rpc=overrides["network_rpc"],
        metadata={"shared_secret": SECRET}, DEFAULT={"host": f"controller-{env.suffix}"})
    rt = Runtime.from_conf(conf)
    migration.sync(rt.db)
    KeyRepository(str(tmp / "keys")).setup()
    bootstrap.run(rt, bootstrap.Options(admin_password="admin-pw", demo_password="demo-pw",
                                        public_url="http://127.0.0.1:8770"))
    app = create_app(conf, rt)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    env.metadata_url = f"http://127.0.0.1:{http.server_port}/metadata"
    env.rpc_server = rpc_server.start(rt)
    cloud = support.Cloud(app.test_client(), rt, {})
    try:
        yield cloud
    finally:
        http.shutdown()
        db_base.reset()


def _instance(rt, project_id: str, name: str) -> str:
    instance = str(uuid.uuid4())
    with rt.db.session() as session:
        session.add(Instance(uuid=instance, project_id=project_id, user_id="u",
                             display_name=name, hostname=name, flavor_id="1",
                             flavor={"name": "m1.nano"}, availability_zone="nova"))
    return instance


def _guest_port(vif):
    return {"id": vif["id"], "mac_address": vif["mac"], "mtu": vif["mtu"],
            "fixed_ips": vif["fixed_ips"]}


def test_guests_on_a_real_network_service(bare_netenv, service):
    env, cloud = bare_netenv, service
    rt = cloud.rt
    admin, demo = Api(cloud, cloud.admin()), Api(cloud, cloud.demo())
    threads = [env.start(agent) for agent in (env.ovs_agent(), env.dhcp_agent(),
                                              env.l3_agent(), env.metadata_agent())]
    wait_until("the agents to register", lambda: len(admin("GET", "/agents")["agents"]) >= 4)
    wait_until("the bridges", lambda: threads[0].agent.syncs)
    octet = random.randrange(16, 250)
    public = admin("POST", "/networks", {"network": {
        "name": f"public-{env.suffix}", "router:external": True,
        "provider:network_type": "flat", "provider:physical_network": "public"}},
        201)["network"]
    admin("POST", "/subnets", {"subnet": {"network_id": public["id"], "ip_version": 4,
                                          "cidr": f"172.31.{octet}.0/24",
                                          "enable_dhcp": False}}, 201)
    private = demo("POST", "/networks", {"network": {"name": "private"}}, 201)["network"]
    subnet = demo("POST", "/subnets", {"subnet": {"network_id": private["id"], "ip_version": 4,
                                                  "cidr": "10.20.0.0/24"}}, 201)["subnet"]
    router = demo("POST", "/routers", {"router": {
        "name": "r1", "external_gateway_info": {"network_id": public["id"]}}}, 201)["router"]
    demo("PUT", f"/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    group = demo("GET", "/security-groups?name=default")["security_groups"][0]
    demo("POST", "/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "icmp"}}, 201)
    project = private["project_id"]
    ctx = RequestContext(project_id=project, roles=["member"])
    guests, instances = [], []
    for name in ("vm1", "vm2"):
        instance = _instance(rt, project, name)
        vif = compute_ports.allocate_for_instance(rt, ctx, instance, project,
                                                  [{"network_id": private["id"]}],
                                                  None, env.host)[0]
        instances.append(instance)
        guests.append(env.vm(name, _guest_port(vif)))
    vm1, vm2 = guests
    for guest in guests:
        wait_until(f"{guest.ns} to be ACTIVE", lambda g=guest: demo(
            "GET", f"/ports/{g.port['id']}")["port"]["status"] == "ACTIVE", timeout=60)
        assert guest.dhcp()["ip"] == guest.ip  # the address the API reports
    assert vm1.ping_until(vm2.ip)
    fip = demo("POST", "/floatingips", {"floatingip": {
        "floating_network_id": public["id"], "port_id": vm1.port["id"]}},
        201)["floatingip"]["floating_ip_address"]
    ext = ExternalHost(env, f"172.31.{octet}.200/24")
    env.vms.append(ext)
    assert wait_until("the floating IP", lambda: ext.ping(fip), timeout=60)
    for guest, instance in zip(guests, instances, strict=True):
        assert wait_until(f"metadata of {guest.ns}", lambda g=guest: g.wget(
            "http://169.254.169.254/latest/meta-data/instance-id")) == instance

    # Everything goes: guests, floating IP, router, networks.
    for guest, instance in zip(guests, instances, strict=True):
        guest.destroy()
        env.vms.remove(guest)
        compute_ports.deallocate_for_instance(rt, ctx, instance)
    for item in demo("GET", "/floatingips")["floatingips"]:
        demo("DELETE", f"/floatingips/{item['id']}", status=204)
    demo("PUT", f"/routers/{router['id']}/remove_router_interface", {"subnet_id": subnet["id"]})
    demo("DELETE", f"/routers/{router['id']}", status=204)
    demo("DELETE", f"/networks/{private['id']}", status=204)
    admin("DELETE", f"/networks/{public['id']}", status=204)
    wait_until("the namespaces to go", lambda: env.our_namespaces() == [], timeout=60)
    wait_until("dnsmasq to stop", lambda: env.dnsmasq_pids() == [])
