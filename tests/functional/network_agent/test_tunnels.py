"""VXLAN between hosts: the OVS agent's tunnel bridge against a real VXLAN peer.

One OVS (userspace datapath) per host means one "host" here; the other end is the
Linux kernel's own VXLAN implementation in a namespace, reached over an underlay
bridge. With the userspace datapath the tunnel endpoint address (``[ovs] local_ip``)
must be an address of an OVS bridge: OVS routes and encapsulates the packets itself.
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from agents.network import ovs
from tests.functional.network_agent.netenv import RESPONDER, run

pytestmark = pytest.mark.usefixtures("ovs_host")
VNI = random.randrange(2000, 9000)


@pytest.fixture(scope="module")
def underlay(netenv):
    """An underlay bridge holding this host's tunnel address, and the peer "host": a
    namespace with a kernel vxlan device carrying the remote VM address."""
    env = netenv
    octet = random.randrange(0, 256)
    local, remote = f"100.127.{octet}.1", f"100.127.{octet}.2"
    bridge, peer_ns, veth = f"bu-{env.suffix}", f"hostb-{env.suffix}", f"hb{env.suffix}"
    run(["ovs-vsctl", "add-br", bridge, "--", "set", "Bridge", bridge,
         "datapath_type=netdev"], check=True)
    env.names["underlay"] = bridge  # deleted with the others
    run(["ip", "addr", "add", f"{local}/24", "dev", bridge], check=True)
    run(["ip", "link", "set", bridge, "up"], check=True)
    run(["ip", "netns", "add", peer_ns], check=True)
    run(["ip", "link", "add", veth, "type", "veth", "peer", "name", veth, "netns", peer_ns],
        check=True)
    run(["ip", "link", "set", veth, "up"], check=True)
    run(["ovs-vsctl", "add-port", bridge, veth], check=True)
    ns = ["ip", "-n", peer_ns]
    run(ns + ["addr", "add", f"{remote}/24", "dev", veth], check=True)
    run(ns + ["link", "set", veth, "up"], check=True)
    run(["ip", "netns", "exec", peer_ns, "ethtool", "-K", veth, "tx", "off"], check=True)
    run(ns + ["link", "add", "vxlan0", "type", "vxlan", "id", str(VNI), "remote", local,
              "local", remote, "dstport", "4789"], check=True)
    run(ns + ["addr", "add", "10.77.0.2/24", "dev", "vxlan0"], check=True)
    run(ns + ["link", "set", "vxlan0", "up"], check=True)
    try:
        yield {"local": local, "remote": remote, "peer_ns": peer_ns}
    finally:
        run(["ip", "netns", "del", peer_ns])
        run(["ip", "link", "del", veth])


def test_vxlan_network_reaches_a_peer_host(netenv, underlay):
    env, fake = netenv, netenv.fake
    fake.tunnel_peers = [{"host": env.host, "ip": underlay["local"]},
                         {"host": "host-b", "ip": underlay["remote"]}]
    _, subnet = fake.add_network("10.77.0.0/24", segmentation_id=VNI, enable_dhcp=False)
    group = fake.add_group()
    port = fake.add_port(subnet, ip="10.77.0.11", security_group_ids=[group])
    agent = env.ovs_agent(ovs={"local_ip": underlay["local"]})
    agent.run_once()
    vm = env.vm("vm1", port)
    vm.sh(["ip", "addr", "add", "10.77.0.11/24", "dev", vm.dev])
    agent.poll()
    agent.run_once()
    tun = ovs.Bridge(env.names["tun"])
    tunnels = {n: p for n, p in tun.ports().items() if p.type == "vxlan"}
    assert list(tunnels) == ["vxlan-" + bytes(map(int, underlay["remote"].split("."))).hex()]
    assert vm.ping_until("10.77.0.2")
    responder = subprocess.Popen(["ip", "netns", "exec", underlay["peer_ns"], sys.executable,
                                  RESPONDER, "9100"], stdout=subprocess.PIPE)
    try:
        assert responder.stdout.readline().strip() == b"ready"
        assert vm.connect("10.77.0.2", 9100) == "10.77.0.11"
    finally:
        responder.kill()
        responder.wait()
    # Security groups hold across hosts: the default group admits members only.
    result = run(["ip", "netns", "exec", underlay["peer_ns"], "busybox", "ping", "-c", "1",
                  "-W", "2", "10.77.0.11"])
    assert result.returncode != 0
    assert any(f.table == 20 for f in tun.dump_flows()), "no MAC was learned on the tunnel"
    # The peer leaves: its tunnel port goes at the next resync, and so does the traffic.
    fake.tunnel_peers = [{"host": env.host, "ip": underlay["local"]}]
    agent.mark_full()
    agent.run_once()
    assert [p for p in tun.ports().values() if p.type == "vxlan"] == []
    assert not vm.ping("10.77.0.2")
