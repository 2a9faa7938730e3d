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

import pytest

from controller.network import compute_ports
from tests.functional.network_agent.netenv import ExternalHost, wait_until
from tests.functional.network_agent.service import (
    Api,
    build_world,
    destroy_world,
    guest_port,
    new_instance,
)

pytestmark = pytest.mark.usefixtures("ovs_host")


def test_guests_on_a_real_network_service(bare_netenv, service):
    env, cloud = bare_netenv, service
    rt = cloud.rt
    threads = [env.start(agent) for agent in (env.ovs_agent(), env.dhcp_agent(),
                                              env.l3_agent(), env.metadata_agent())]
    admin = Api(cloud, cloud.admin())
    wait_until("the agents to register", lambda: len(admin("GET", "/agents")["agents"]) >= 4)
    wait_until("the bridges", lambda: threads[0].agent.syncs)
    world = build_world(env, cloud)
    demo = world.demo
    guests, instances = [], []
    for name in ("vm1", "vm2"):
        instance = new_instance(rt, world.project, name)
        vif = compute_ports.allocate_for_instance(rt, world.ctx, instance, world.project,
                                                  [{"network_id": world.private["id"]}],
                                                  None, env.host)[0]
        instances.append(instance)
        guests.append(env.vm(name, guest_port(vif)))
    vm1, vm2 = guests
    for guest in guests:
        wait_until(f"{guest.ns} to be ACTIVE", lambda g=guest: demo(
            "GET", f"/ports/{g.port['id']}")["port"]["status"] == "ACTIVE", timeout=60)
        assert guest.dhcp()["ip"] == guest.ip  # the address the API reports
    assert vm1.ping_until(vm2.ip)
    fip = demo("POST", "/floatingips", {"floatingip": {
        "floating_network_id": world.public["id"], "port_id": vm1.port["id"]}},
        201)["floatingip"]["floating_ip_address"]
    ext = ExternalHost(env, f"172.31.{world.octet}.200/24")
    env.vms.append(ext)
    assert wait_until("the floating IP", lambda: ext.ping(fip), timeout=60)
    for guest, instance in zip(guests, instances, strict=True):
        assert wait_until(f"metadata of {guest.ns}", lambda g=guest: g.wget(
            "http://169.254.169.254/latest/meta-data/instance-id")) == instance

    # Everything goes: guests, floating IP, router, networks.
    for guest, instance in zip(guests, instances, strict=True):
        guest.destroy()
        env.vms.remove(guest)
        compute_ports.deallocate_for_instance(rt, world.ctx, instance)
    destroy_world(world)
    wait_until("the namespaces to go", lambda: env.our_namespaces() == [], timeout=60)
    wait_until("dnsmasq to stop", lambda: env.dnsmasq_pids() == [])
