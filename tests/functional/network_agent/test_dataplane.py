"""Real packets through the OVS, DHCP, L3 and metadata agents.

Fake VMs are namespaces plugged into the integration bridge the way libvirt plugs a
guest (an OVS port carrying the port id as iface-id); an "external host" namespace sits
on the external bridge. The agents run in threads as their daemons would, driven by a
fake network service over a real RabbitMQ exchange and its real fanout notifications.

Topology: project A's network A (10.1.0.0/24, vxlan) with vm1, vm2 (default group), vm4
(group "web", no ingress) and vm5 (group "other"), behind router R whose gateway is on
the flat external network (172.31.<n>.0/24, physical network public); vm1 has a floating
IP. Project B's network B has the same CIDR (overlapping, as projects may) with vm3 and
no router.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import random
import subprocess
import threading
import time

import pytest

from agents.network import ovs
from common.context import RequestContext
from tests.functional.network_agent.netenv import SECRET, ExternalHost, run, wait_until

pytestmark = pytest.mark.usefixtures("ovs_host")
CTX = RequestContext.admin()


class _Upstream(http.server.BaseHTTPRequestHandler):
    """The compute metadata API stand-in: records what the proxy forwarded."""

    seen: list[dict] = []

    def do_GET(self):  # noqa: N802
        record = {"path": self.path, **{k.lower(): v for k, v in self.headers.items()}}
        _Upstream.seen.append(record)
        body = json.dumps(record).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def upstream():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/metadata"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def topo(netenv, upstream):
    """Build the topology in the fake service, start the agents, plug the VMs."""
    env = netenv
    env.metadata_url = upstream
    fake = env.fake
    octet = random.randrange(16, 250)
    ext_cidr = f"172.31.{octet}.0/24"
    t = type("Topology", (), {})()
    t.env, t.fake = env, fake
    t.ext_net, t.ext_subnet = fake.add_network(ext_cidr, network_type="flat",
                                               physical_network="public", mtu=1500,
                                               enable_dhcp=False)
    t.net_a, t.subnet_a = fake.add_network("10.1.0.0/24", project_id="project-a")
    t.net_b, t.subnet_b = fake.add_network("10.1.0.0/24", project_id="project-b")
    t.default_a, t.default_b = fake.add_group(), fake.add_group()
    t.web, t.other = fake.add_group(default_rules=False), fake.add_group(default_rules=False)
    for group in (t.web, t.other):
        fake.add_rule(group, "egress")
    t.p1 = fake.add_port(t.subnet_a, security_group_ids=[t.default_a], project_id="project-a")
    t.p2 = fake.add_port(t.subnet_a, security_group_ids=[t.default_a], project_id="project-a")
    t.p4 = fake.add_port(t.subnet_a, security_group_ids=[t.web], project_id="project-a")
    t.p5 = fake.add_port(t.subnet_a, security_group_ids=[t.other], project_id="project-a")
    t.p3 = fake.add_port(t.subnet_b, ip="10.1.0.50", security_group_ids=[t.default_b],
                         project_id="project-b")
    t.router = fake.add_router(t.ext_subnet)
    fake.add_interface(t.router, t.subnet_a)
    t.gw_ip = fake.ports[fake.routers[t.router]["gw_port_id"]]["fixed_ips"][0]["ip_address"]
    t.fip = fake.add_floating_ip(t.ext_subnet, t.p1["id"])
    t.ovs = env.start(env.ovs_agent())
    _settle(t.ovs, 0)  # the bridges exist from here on
    t.ext = ExternalHost(env, f"172.31.{octet}.100/24")
    env.vms.append(t.ext)
    t.dhcp = env.start(env.dhcp_agent())
    t.l3 = env.start(env.l3_agent())
    t.meta = env.start(env.metadata_agent())
    t.vm1, t.vm2 = env.vm("vm1", t.p1), env.vm("vm2", t.p2)
    t.vm3, t.vm4, t.vm5 = env.vm("vm3", t.p3), env.vm("vm4", t.p4), env.vm("vm5", t.p5)
    vm_ports = [t.p1["id"], t.p2["id"], t.p3["id"], t.p4["id"], t.p5["id"]]
    wait_until("the VM ports to be ACTIVE",
               lambda: all(fake.statuses.get(p) == "ACTIVE" for p in vm_ports), timeout=60)
    wait_until("DHCP and the router to be set up", lambda: len(env.our_namespaces()) == 3,
               timeout=60)
    return t


def _settle(agent_thread, since: int, timeout: float = 30) -> None:
    wait_until(f"{agent_thread.agent.binary} to sync",
               lambda: agent_thread.synced_since(since), timeout=timeout)


def test_dhcp_hands_out_the_addresses_the_service_reports(topo):
    t = topo
    leases = {}
    for vm in (t.vm1, t.vm2, t.vm3, t.vm4, t.vm5):
        lease = vm.dhcp()
        assert lease["ip"] == vm.ip, lease
        leases[vm.ns] = lease
    lease1 = leases[t.vm1.ns]
    assert lease1["mask"] == "24" and lease1["mtu"] == "1450"
    assert lease1["hostname"] == f"host-{t.vm1.ip.replace('.', '-')}"
    # Network A has a router: metadata via the router; B is isolated: via the DHCP port.
    assert "169.254.169.254/32 10.1.0.1" in lease1["staticroutes"]
    assert "0.0.0.0/0 10.1.0.1" in lease1["staticroutes"]
    assert "169.254.169.254/32 10.1.0.2" in leases[t.vm3.ns]["staticroutes"]


def test_vms_on_one_network_ping_each_other(topo):
    assert topo.vm1.ping_until(topo.vm2.ip)
    assert topo.vm2.ping(topo.vm1.ip)


def test_other_projects_network_is_unreachable(topo):
    t = topo
    # Same CIDR, different network: nothing crosses the local VLANs.
    assert not t.vm3.ping(t.vm1.ip)
    assert not t.vm1.ping(t.vm3.ip)
    assert not t.vm3.ping(t.vm2.ip)


def test_security_group_rule_opens_and_closes_a_port(topo):
    t = topo
    t.vm4.serve(5000)
    assert t.vm1.connect(t.vm4.ip, 5000) is None  # closed by default
    since = t.ovs.agent.syncs
    rule = t.fake.add_rule(t.web, "ingress", "tcp", 5000, 5000)
    t.env.notifier.security_groups_changed(CTX, [t.web])
    _settle(t.ovs, since)
    assert wait_until("the port to open", lambda: t.vm1.connect(t.vm4.ip, 5000)) == t.vm1.ip
    # Connections opened while rules allow them: the one whose rule goes is cut, the
    # one whose rule stays lives on.
    t.vm4.serve(5001, "echo")
    t.vm4.serve(5002, "echo")
    t.fake.add_rule(t.web, "ingress", "tcp", 5001, 5001)
    doomed = t.fake.add_rule(t.web, "ingress", "tcp", 5002, 5002)
    since = t.ovs.agent.syncs
    t.env.notifier.security_groups_changed(CTX, [t.web])
    _settle(t.ovs, since)
    kept, revoked = t.vm1.hold(t.vm4.ip, 5001), t.vm1.hold(t.vm4.ip, 5002)
    assert kept.stdout.readline().strip() == "connected"
    assert revoked.stdout.readline().strip() == "connected"
    since = t.ovs.agent.syncs
    t.fake.delete_rule(t.web, rule)
    t.fake.delete_rule(t.web, doomed)
    t.env.notifier.security_groups_changed(CTX, [t.web])
    _settle(t.ovs, since)
    assert t.vm1.connect(t.vm4.ip, 5000) is None
    assert t.ovs.agent.last_sync["connections_cut"] >= 1
    for proc, expected in ((revoked, "dead"), (kept, "alive")):
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == expected


def test_udp_flows_stay_closed_without_a_rule(topo):
    t = topo
    t.vm4.serve(5300, "udp")
    # Every datagram of one flow, not just the first, is judged by the rules.
    assert t.vm1.udp_probe(t.vm4.ip, 5300, count=4) == 0
    since = t.ovs.agent.syncs
    t.fake.add_rule(t.web, "ingress", "udp", 5300, 5300, remote_ip_prefix=f"{t.vm1.ip}/32")
    t.env.notifier.security_groups_changed(CTX, [t.web])
    _settle(t.ovs, since)
    assert wait_until("UDP to pass", lambda: t.vm1.udp_probe(t.vm4.ip, 5300) == 3)
    assert t.vm5.udp_probe(t.vm4.ip, 5300) == 0  # another source: still closed


def test_remote_group_rule_admits_members_only(topo):
    t = topo
    t.vm4.serve(6000)
    since = t.ovs.agent.syncs
    t.fake.add_rule(t.web, "ingress", "tcp", 6000, 6000, remote_group_id=t.default_a)
    t.env.notifier.security_groups_changed(CTX, [t.web])
    _settle(t.ovs, since)
    assert wait_until("a member to get in", lambda: t.vm1.connect(t.vm4.ip, 6000))
    assert t.vm5.connect(t.vm4.ip, 6000) is None  # not in the default group


def test_anti_spoofing_drops_foreign_source_addresses(topo):
    t = topo
    assert t.vm2.sh(["ip", "addr", "add", "10.1.0.99/24", "dev", t.vm2.dev]).returncode == 0
    try:
        assert not t.vm2.ping(t.vm1.ip, source="10.1.0.99")
        assert t.vm2.ping(t.vm1.ip)
    finally:
        t.vm2.sh(["ip", "addr", "del", "10.1.0.99/24", "dev", t.vm2.dev])


def test_snat_to_the_external_network(topo):
    t = topo
    t.ext.serve(7000)
    assert wait_until("SNAT", lambda: t.vm2.connect(t.ext.ip, 7000)) == t.gw_ip
    assert t.vm2.ping(t.ext.ip)


def test_floating_ip_dnat_icmp_and_tcp(topo):
    t = topo
    t.vm1.serve(8000)
    # The default group admits only its members: open ICMP and port 8000 to the world.
    since = t.ovs.agent.syncs
    t.fake.add_rule(t.default_a, "ingress", "icmp", remote_ip_prefix="0.0.0.0/0")
    t.fake.add_rule(t.default_a, "ingress", "tcp", 8000, 8000, remote_ip_prefix="0.0.0.0/0")
    t.env.notifier.security_groups_changed(CTX, [t.default_a])
    _settle(t.ovs, since)
    assert wait_until("the floating IP to answer pings", lambda: t.ext.ping(t.fip))
    # The guest sees the external host's own address; outbound it leaves as its floating IP.
    assert wait_until("DNAT", lambda: t.ext.connect(t.fip, 8000)) == t.ext.ip
    assert t.vm1.connect(t.ext.ip, 7000) == t.fip


def test_metadata_through_the_router_and_the_dhcp_namespace(topo):
    t = topo
    for vm, port in ((t.vm1, t.p1), (t.vm3, t.p3)):
        body = wait_until(f"metadata for {vm.ns}", lambda vm=vm: vm.wget(
            "http://169.254.169.254/latest/meta-data/instance-id"))
        seen = json.loads(body)
        instance = port["device_id"]
        assert seen["path"] == "/metadata/latest/meta-data/instance-id"
        assert seen["x-instance-id"] == instance
        assert seen["x-instance-id-signature"] == hmac.new(
            SECRET.encode(), instance.encode(), hashlib.sha256).hexdigest()
        assert seen["x-tenant-id"] == port["project_id"]
        assert seen["x-forwarded-for"] == vm.ip
    # A guest cannot pose as another instance by sending the headers itself.
    forged = t.vm2.sh(["busybox", "wget", "-q", "-O", "-", "--header",
                       f"X-Instance-ID: {t.p1['device_id']}",
                       "http://169.254.169.254/latest/meta-data/instance-id"])
    assert json.loads(forged.stdout)["x-instance-id"] == t.p2["device_id"]


def test_agent_restart_keeps_traffic_and_sweeps_stale_state(topo):
    t, env = topo, topo.env
    int_br = ovs.Bridge(env.names["int"])
    old_cookie = t.ovs.agent.cookie
    pinger = subprocess.Popen(["ip", "netns", "exec", t.vm1.ns, "busybox", "ping", "-c",
                               "60", "-i", "0.2", "-W", "1", t.vm2.ip],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(1)
    for thread in (t.ovs, t.dhcp, t.l3):
        thread.stop()
    # Leftovers a crashed agent could leave: a stale flow, orphan namespaces of ours, and
    # a namespace of another bridge that must survive the sweep.
    int_br.add_flows([f"cookie={old_cookie + 1:#x},table=0,priority=1,dl_src=02:00:00:00:00:01,"
                      "actions=drop"])
    orphan_router = f"qrouter-{_uuid()}"
    orphan_dhcp = f"qdhcp-{_uuid()}"
    foreign = f"qrouter-{_uuid()}"
    for ns, mark in ((orphan_router, env.marker), (orphan_dhcp, env.marker),
                     (foreign, "stratus:br-someone-else")):
        run(["ip", "netns", "add", ns], check=True)
        run(["ip", "-n", ns, "link", "set", "lo", "alias", mark], check=True)
    try:
        t.ovs = env.start(env.ovs_agent())
        t.dhcp = env.start(env.dhcp_agent())
        t.l3 = env.start(env.l3_agent())
        for thread in (t.ovs, t.dhcp, t.l3):
            _settle(thread, 0, timeout=60)
        out, _ = pinger.communicate(timeout=60)
        assert " 0% packet loss" in out, out
        cookies = {flow.cookie for flow in int_br.dump_flows()}
        assert cookies == {t.ovs.agent.cookie}, "stale flows survived the resync"
        names = set(env.our_namespaces())
        assert orphan_router not in names and orphan_dhcp not in names
        assert foreign in set(run(["ip", "netns", "list"]).stdout.split())
        assert t.vm1.ping(t.vm2.ip) and t.ext.ping(t.fip)
    finally:
        pinger.kill()
        run(["ip", "netns", "del", foreign])


def test_deleting_everything_leaves_nothing_behind(topo):
    t, env = topo, topo.env
    for vm in list(env.vms):
        if vm is not t.ext:
            vm.destroy()
            env.vms.remove(vm)
    wait_until("ports of deleted VMs to go DOWN", lambda: all(
        t.fake.statuses.get(p["id"]) == "DOWN" for p in (t.p1, t.p2, t.p3, t.p4, t.p5)))
    since = (t.dhcp.agent.syncs, t.l3.agent.syncs)
    networks, routers = list(t.fake.networks), list(t.fake.routers)
    t.fake.clear()
    env.notifier.dhcp_networks_changed(CTX, networks)
    env.notifier.routers_changed(CTX, routers)
    env.notifier.ports_changed(CTX, [])
    _settle(t.dhcp, since[0])
    _settle(t.l3, since[1])
    assert env.our_namespaces() == []
    assert env.dnsmasq_pids() == []
    leftover_ports = [name for name, port in ovs.Bridge(env.names["int"]).ports().items()
                      if port.type != "patch"]
    assert leftover_ports == []
    assert not any(p.startswith("tap") or p.startswith("q")
                   for p in run(["ip", "-o", "link"]).stdout.split() if env.suffix in p)


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())
