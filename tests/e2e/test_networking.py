"""Servers on networks, end to end: the unmodified ``openstack`` CLI against the
all-in-one cloud, real guests (QEMU/TCG) whose user data prints results on their
consoles, real packets through OVS, dnsmasq, the router and the metadata proxy.

Three guests for the whole module: vm1 and vm2 on a demo network behind a router to the
external network, vm3 in another project on a network of its own with the same CIDR.
The tests run in order and share them; the last one deletes everything the module made
and checks that the host keeps nothing of it.

Boots VMs: run under the shared lock,
``flock /tmp/stratus-vm.lock pytest tests/e2e/test_networking.py``. Against an isolated
all-in-one: ``python -m tests.e2e.private_cloud up DIR; . DIR/env`` first.
"""

from __future__ import annotations

import os
import random
import signal
import tempfile
import time
import uuid

import pytest

from tests.e2e import network_support as net
from tests.e2e.compute_support import RUN_DIR, virsh, wait_for

IMAGE, FLAVOR = "stratus-tiny", "m1.nano"
AGENTS = ("stratus-ovs-agent", "stratus-dhcp-agent", "stratus-l3-agent",
          "stratus-metadata-agent")


def _boot(cli, name: str, network_id: str, address: str, script: str,
          groups: tuple[str, ...] = ("default",), other=None) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as handle:
        handle.write(script)
    args = ["server", "create", "--image", IMAGE, "--flavor", FLAVOR, "--nic",
            f"net-id={network_id},v4-fixed-ip={address}", "--user-data", handle.name]
    for group in groups:
        args += ["--security-group", group]
    try:
        return (other.json(cli, *args, name) if other else cli.json(*args, name))
    finally:
        os.unlink(handle.name)


def _active(cli, server_id: str, other=None) -> dict:
    def probe():
        shown = other.json(cli, "server", "show", server_id) if other else \
            cli.json("server", "show", server_id)
        assert shown["status"] != "ERROR", shown.get("fault")
        return shown if shown["status"] == "ACTIVE" else None
    return wait_for(f"{server_id} ACTIVE", probe, 240, interval=2)


@pytest.fixture(scope="module")
def lab(admin_cli, demo_cli):
    """The networks, router, groups and guests of the module (deleted by the last test,
    or here if it did not run)."""
    sfx = uuid.uuid4().hex[:6]
    prefix = f"10.{random.randrange(100, 250)}.{random.randrange(0, 250)}"
    lab = {"sfx": sfx, "prefix": prefix, "servers": [], "deleted": False}
    try:
        network = demo_cli.json("network", "create", f"e2e-net-{sfx}")
        lab["net"] = network
        demo_cli.run("subnet", "create", "--network", network["id"], "--subnet-range",
                     f"{prefix}.0/24", f"e2e-sub-{sfx}")
        lab["router"] = demo_cli.json("router", "create", "--external-gateway",
                                      net.PUBLIC_NETWORK, f"e2e-router-{sfx}")
        demo_cli.run("router", "add", "subnet", lab["router"]["id"], f"e2e-sub-{sfx}")
        lab["web"] = demo_cli.json("security", "group", "create", f"e2e-web-{sfx}")
        demo_cli.run("security", "group", "rule", "create", "--ingress", "--protocol",
                     "icmp", lab["web"]["id"])
        other = net.make_other_project(admin_cli, sfx)
        lab["other"] = other
        lab["other_net"] = other.json(demo_cli, "network", "create", f"e2e-onet-{sfx}")
        other.run(demo_cli, "subnet", "create", "--network", lab["other_net"]["id"],
                  "--subnet-range", f"{prefix}.0/24", f"e2e-osub-{sfx}")
        addresses = {name: f"{prefix}.{n}" for name, n in (("vm1", 11), ("vm2", 12),
                                                           ("vm3", 13))}
        lab["ip"] = addresses
        groups = ("default", lab["web"]["id"])
        for name, peer in (("vm1", "vm2"), ("vm2", "vm1")):
            script = net.guest_script(addresses[peer], net.PUBLIC_GATEWAY, [])
            lab[name] = _boot(demo_cli, f"e2e-{name}-{sfx}", network["id"],
                              addresses[name], script, groups)
            lab["servers"].append(lab[name]["id"])
        for name in ("vm1", "vm2"):
            _active(demo_cli, lab[name]["id"])
            net.wait_console(demo_cli, lab[name]["id"], "stratus-guest ready:")
        # vm3 once the others run: unreachable must not mean "not up yet".
        script = net.guest_script(None, None, [addresses["vm1"], addresses["vm2"]])
        lab["vm3"] = _boot(demo_cli, f"e2e-vm3-{sfx}", lab["other_net"]["id"],
                           addresses["vm3"], script, other=other)
        lab["servers"].append(lab["vm3"]["id"])
        _active(demo_cli, lab["vm3"]["id"], other)
        yield lab
    finally:
        if not lab["deleted"]:
            _delete_all(admin_cli, demo_cli, lab)


def _delete_all(admin_cli, demo_cli, lab) -> None:
    """Everything the module made, whatever state it is in (never raises)."""
    sfx = lab["sfx"]
    for fip in lab.get("fips", []):
        demo_cli.run("floating", "ip", "delete", fip, check=False)
    if lab["servers"]:
        admin_cli.run("server", "delete", "--wait", *lab["servers"], check=False)
    demo_cli.run("port", "delete", f"e2e-port-{sfx}", check=False)
    if "router" in lab:
        demo_cli.run("router", "remove", "subnet", lab["router"]["id"], f"e2e-sub-{sfx}",
                     check=False)
        demo_cli.run("router", "delete", lab["router"]["id"], check=False)
    for key in ("net", "other_net"):
        if key in lab:
            admin_cli.run("network", "delete", lab[key]["id"], check=False)
    if "web" in lab:
        demo_cli.run("security", "group", "delete", lab["web"]["id"], check=False)
    other = lab.get("other")
    if other is not None:
        for group in admin_cli.json("security", "group", "list", "--project", other.name):
            admin_cli.run("security", "group", "delete", group["ID"], check=False)
        admin_cli.run("user", "delete", other.user, check=False)
        admin_cli.run("project", "delete", other.name, check=False)
    lab["deleted"] = True


def test_guests_get_the_api_addresses_and_their_metadata(demo_cli, lab):
    for name in ("vm1", "vm2"):
        server_id = lab[name]["id"]
        shown = demo_cli.json("server", "show", server_id)
        assert shown["addresses"] == {lab["net"]["name"]: [lab["ip"][name]]}
        log = net.wait_console(demo_cli, server_id, "E2E-SNAT-")
        # DHCP gave exactly the address the API shows; 169.254.169.254 told the id.
        assert f"stratus-guest ready: instance-id={server_id} addresses={lab['ip'][name]}" \
            in log, log[-2000:]
        assert f"E2E-MD-ID {server_id}" in log
        if "hdc" not in virsh("domblklist", f"instance-{server_id}"):
            assert "metadata source: metadata service 169.254.169.254" in log
        peer = lab["ip"]["vm2" if name == "vm1" else "vm1"]
        assert f"E2E-PEER-OK {peer}" in log, log[-2000:]
        assert f"E2E-SNAT-OK {net.PUBLIC_GATEWAY}" in log, log[-2000:]  # via the router
    listed = demo_cli.json("server", "list", "--ip", lab["ip"]["vm2"])
    assert [s["ID"] for s in listed] == [lab["vm2"]["id"]]


def test_another_project_reaches_neither(demo_cli, lab):
    other = lab["other"]
    log = net.wait_console(_OtherCli(demo_cli, other), lab["vm3"]["id"],
                           "stratus-guest ready:")
    for name in ("vm1", "vm2"):
        assert f"E2E-UNREACHABLE {lab['ip'][name]}" in log, log[-2000:]
        assert f"E2E-REACHED {lab['ip'][name]}" not in log


class _OtherCli:
    """The CLI as the other project's user (for helpers that take a cli)."""

    def __init__(self, cli, other):
        self.cli, self.other = cli, other

    def run(self, *args: str, check: bool = True):
        return self.other.run(self.cli, *args, check=check)

    def json(self, *args: str):
        return self.other.json(self.cli, *args)


def test_floating_ip_icmp_and_tcp_from_the_host(demo_cli, lab):
    fip = demo_cli.json("floating", "ip", "create", net.PUBLIC_NETWORK)
    address = fip["floating_ip_address"]
    lab.setdefault("fips", []).append(fip["id"])
    lab["fip"] = address
    demo_cli.run("server", "add", "floating", "ip", lab["vm1"]["id"], address)
    wait_for(f"the host to ping {address}", lambda: net.ping(address), 60, interval=0.5)
    shown = demo_cli.json("server", "show", lab["vm1"]["id"])
    assert address in shown["addresses"][lab["net"]["name"]]
    # TCP 8080: closed by default, open with a rule, closed again without it.
    assert net.hello(address) is None
    rule = demo_cli.json("security", "group", "rule", "create", "--ingress", "--protocol",
                         "tcp", "--dst-port", str(net.HELLO_PORT), lab["web"]["id"])
    reply = wait_for("TCP 8080 through the floating IP", lambda: net.hello(address), 30,
                     interval=0.5)
    assert reply.startswith(f"E2E-HELLO-e2e-vm1-{lab['sfx']}")
    demo_cli.run("security", "group", "rule", "delete", rule["id"])
    wait_for("TCP 8080 to close again", lambda: net.hello(address) is None, 30)


def test_remote_group_admits_members_only(demo_cli, lab):
    vm1, vm2 = lab["ip"]["vm1"], lab["vm2"]["id"]
    assert net.reaches(demo_cli, vm2, vm1)  # both in default: its remote_group rule
    demo_cli.run("server", "remove", "security", "group", vm2, "default")
    wait_for("vm2 to be kept out", lambda: not net.reaches(demo_cli, vm2, vm1), 60)
    demo_cli.run("server", "add", "security", "group", vm2, "default")
    wait_for("vm2 to be let in again", lambda: net.reaches(demo_cli, vm2, vm1), 60)


def test_interfaces_hot_plug(demo_cli, lab):
    vm1 = lab["vm1"]["id"]
    port = demo_cli.json("port", "create", "--network", lab["net"]["id"],
                         f"e2e-port-{lab['sfx']}")
    address = port["fixed_ips"][0]["ip_address"]
    demo_cli.run("server", "add", "port", vm1, port["id"])
    assert address in demo_cli.json("server", "show", vm1)["addresses"][lab["net"]["name"]]
    assert demo_cli.json("port", "show", port["id"])["device_id"] == vm1
    assert f"tap{port['id'][:11]}" in virsh("domiflist", f"instance-{vm1}")
    demo_cli.run("server", "remove", "port", vm1, port["id"])
    wait_for("the port to leave vm1",
             lambda: demo_cli.json("port", "show", port["id"])["device_id"] == "", 60)
    assert f"tap{port['id'][:11]}" not in virsh("domiflist", f"instance-{vm1}")
    # add/remove network: a port made for the server, and gone with it.
    other, vm3 = lab["other"], lab["vm3"]["id"]
    other.run(demo_cli, "server", "add", "network", vm3, lab["other_net"]["id"])
    ports = other.json(demo_cli, "port", "list", "--server", vm3)
    assert len(ports) == 2
    other.run(demo_cli, "server", "remove", "network", vm3, lab["other_net"]["id"])
    wait_for("vm3's ports to go", lambda: not other.json(demo_cli, "port", "list",
                                                         "--server", vm3), 60)


def test_bad_requests_are_refused(demo_cli, lab):
    def refused(*nic: str) -> str:
        proc = demo_cli.run("server", "create", "--image", IMAGE, "--flavor", FLAVOR,
                            *nic, f"e2e-bad-{lab['sfx']}", check=False)
        assert proc.returncode != 0
        return proc.stderr

    # Another project's network: OSC looks it up first and does not find it either.
    assert "No Network found" in refused("--nic", f"net-id={lab['other_net']['id']}")
    assert "not in a subnet" in refused("--nic", f"net-id={lab['net']['id']},"
                                                 "v4-fixed-ip=192.0.2.77")
    assert "already in use" in refused("--nic", f"net-id={lab['net']['id']},"
                                                f"v4-fixed-ip={lab['ip']['vm1']}")
    assert not demo_cli.json("server", "list", "--name", f"e2e-bad-{lab['sfx']}")


def _children() -> dict[str, int]:
    pids = {}
    for agent in AGENTS:
        with open(os.path.join(RUN_DIR, f"{agent}.child.pid")) as handle:
            pids[agent] = int(handle.read().strip())
    return pids


def test_agents_restarted_keep_connectivity(admin_cli, demo_cli, lab):
    address, vm1 = lab["fip"], lab["ip"]["vm1"]
    rule = demo_cli.json("security", "group", "rule", "create", "--ingress", "--protocol",
                         "tcp", "--dst-port", str(net.HELLO_PORT), lab["web"]["id"])
    wait_for("TCP 8080", lambda: net.hello(address), 30, interval=0.5)
    before = _children()
    for pid in before.values():
        os.kill(pid, signal.SIGTERM)  # supervise.sh starts them again
    wait_for("the agents to be restarted", lambda: all(
        os.path.exists(f"/proc/{pid}") for pid in _children().values())
        and set(_children().values()).isdisjoint(before.values()), 60)
    time.sleep(5)  # let them sync once
    assert all(a["Alive"] for a in admin_cli.json("network", "agent", "list"))
    assert net.ping(address) and net.hello(address)
    assert net.reaches(demo_cli, lab["vm2"]["id"], vm1)
    spaces = net.namespaces()
    assert f"qrouter-{lab['router']['id']}" in spaces
    assert f"qdhcp-{lab['net']['id']}" in spaces
    demo_cli.run("security", "group", "rule", "delete", rule["id"])


def test_deleting_everything_leaves_nothing(admin_cli, demo_cli, lab):
    port_ids = [p["ID"] for p in admin_cli.json("port", "list", "--network",
                                                lab["net"]["id"])]
    port_ids += [p["ID"] for p in admin_cli.json("port", "list", "--network",
                                                 lab["other_net"]["id"])]
    port_ids += [p["ID"] for p in admin_cli.json("port", "list", "--router",
                                                 lab["router"]["id"])]
    network_ids = [lab["net"]["id"], lab["other_net"]["id"]]
    _delete_all(admin_cli, demo_cli, lab)
    for server_id in lab["servers"]:
        assert "instance-" + server_id not in virsh("list", "--all", "--name")
    assert not set(port_ids) & {p["ID"] for p in admin_cli.json("port", "list")}
    wait_for("the host to drop every trace of the module", lambda: not net.leftovers(
        network_ids, [lab["router"]["id"]], port_ids, [lab.get("fip", "")]), 60)
