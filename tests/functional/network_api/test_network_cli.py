"""The unmodified `openstack` CLI against a real stratus-api (see tests/functional/image)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from controller import conf as controller_conf
from controller.network import agents
from controller.runtime import Runtime
from tests.functional.image.stratus_cloud import CLIError, StratusCloud


@pytest.fixture(scope="module")
def stratus_cloud(tmp_path_factory) -> Iterator[StratusCloud]:
    cloud = StratusCloud(tmp_path_factory.mktemp("stratus-network"))
    # Our own exchange: the API's casts to the agents must never reach the running cloud.
    text = cloud.config.read_text().replace(
        "[messaging]\n", f"[messaging]\ncontrol_exchange = test-{uuid.uuid4().hex}\n")
    cloud.config.write_text(text)
    try:
        cloud.start()
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture(scope="module")
def cli(stratus_cloud):
    return stratus_cloud.openstack


@pytest.fixture(scope="module")
def public(cli):
    network = cli("network", "create", "--external", "--provider-network-type", "flat",
                  "--provider-physical-network", "public", "public")
    subnet = cli("subnet", "create", "--network", "public", "--subnet-range",
                 "172.24.4.0/24", "--no-dhcp", "--allocation-pool",
                 "start=172.24.4.10,end=172.24.4.200", "public-subnet")
    return network, subnet


def test_networks(cli, public):
    network, _ = public
    assert network["router:external"] is True or network["router:external"] == "External"
    assert network["provider:network_type"] == "flat"
    created = cli("network", "create", "--description", "mine", "net1")
    assert created["mtu"] == 1450 and created["provider:network_type"] == "vxlan"
    vlan_free = cli("network", "create", "--provider-network-type", "vxlan",
                    "--provider-segment", "777", "net-vni")
    assert vlan_free["provider:segmentation_id"] == 777
    names = {row["Name"] for row in cli("network", "list")}
    assert {"public", "net1", "net-vni"} <= names
    assert [row["Name"] for row in cli("network", "list", "--external")] == ["public"]
    cli("network", "set", "--name", "net1b", "--mtu", "1400", "net1", json_out=False)
    shown = cli("network", "show", "net1b")
    assert (shown["mtu"], shown["description"]) == (1400, "mine")
    cli("network", "delete", "net1b", "net-vni", json_out=False)
    with pytest.raises(CLIError):
        cli("network", "show", "net1b")


def test_subnets_and_ports(cli):
    cli("network", "create", "lan")
    subnet = cli("subnet", "create", "--network", "lan", "--subnet-range", "10.1.0.0/24",
                 "--allocation-pool", "start=10.1.0.100,end=10.1.0.150",
                 "--dns-nameserver", "8.8.8.8", "--host-route",
                 "destination=10.2.0.0/16,gateway=10.1.0.254", "lan-subnet")
    assert subnet["allocation_pools"] == [{"start": "10.1.0.100", "end": "10.1.0.150"}] or \
        "10.1.0.100-10.1.0.150" in str(subnet["allocation_pools"])
    assert "8.8.8.8" in str(subnet["dns_nameservers"])
    assert "10.2.0.0/16" in str(subnet["host_routes"])
    port = cli("port", "create", "--network", "lan", "--fixed-ip",
               "subnet=lan-subnet,ip-address=10.1.0.20", "port1")
    assert "10.1.0.20" in str(port["fixed_ips"])
    listed = cli("port", "list", "--network", "lan")
    assert "port1" in [row["Name"] for row in listed]
    found = cli("port", "list", "--fixed-ip", "ip-address=10.1.0.20")
    assert [row["Name"] for row in found] == ["port1"]
    with pytest.raises(CLIError, match="IpAddressInUse|in use"):
        cli("port", "create", "--network", "lan", "--fixed-ip",
            "subnet=lan-subnet,ip-address=10.1.0.20", "dup")
    with pytest.raises(CLIError, match="not a valid IP"):
        cli("port", "create", "--network", "lan", "--fixed-ip", "ip-address=10.9.0.20",
            "outside")
    with pytest.raises(CLIError, match="overlaps"):
        cli("subnet", "create", "--network", "lan", "--subnet-range", "10.1.0.0/16", "ov")
    with pytest.raises(CLIError, match="400|valid"):
        cli("subnet", "create", "--network", "lan", "--subnet-range", "10.1.0/33", "bad")
    with pytest.raises(CLIError, match="MAC|mac"):
        cli("port", "create", "--network", "lan", "--mac-address", "nope", "badmac")
    cli("port", "set", "--name", "port1b", "port1", json_out=False)
    cli("port", "delete", "port1b", json_out=False)
    assert "lan-subnet" in [row["Name"] for row in cli("subnet", "list")]


def test_routers(cli, public):
    cli("network", "create", "rnet")
    cli("subnet", "create", "--network", "rnet", "--subnet-range", "10.5.0.0/24", "rsub")
    cli("network", "create", "rnet2")
    cli("subnet", "create", "--network", "rnet2", "--subnet-range", "10.5.0.0/16", "rsub2")
    router = cli("router", "create", "r1")
    assert router["name"] == "r1"
    cli("router", "set", "--external-gateway", "public", "r1", json_out=False)
    shown = cli("router", "show", "r1")
    assert "172.24.4." in str(shown["external_gateway_info"])
    at_once = cli("router", "create", "--external-gateway", "public", "r0", user="demo")
    assert "172.24.4." in str(at_once["external_gateway_info"])
    with pytest.raises(CLIError, match="403|disallowed"):
        cli("router", "set", "--external-gateway", "public", "--disable-snat", "r0",
            user="demo", json_out=False)
    cli("router", "delete", "r0", user="demo", json_out=False)
    cli("router", "add", "subnet", "r1", "rsub", json_out=False)
    with pytest.raises(CLIError, match="overlaps"):
        cli("router", "add", "subnet", "r1", "rsub2", json_out=False)
    cli("router", "add", "route", "--route", "destination=192.168.9.0/24,gateway=10.5.0.9",
        "r1", json_out=False)
    assert "192.168.9.0/24" in str(cli("router", "show", "r1")["routes"])
    cli("router", "remove", "route", "--route",
        "destination=192.168.9.0/24,gateway=10.5.0.9", "r1", json_out=False)
    interfaces = cli("port", "list", "--router", "r1")
    assert len(interfaces) == 2
    cli("router", "remove", "subnet", "r1", "rsub", json_out=False)
    cli("router", "unset", "--external-gateway", "r1", json_out=False)
    cli("router", "delete", "r1", json_out=False)


def test_floating_ips(cli, public):
    cli("network", "create", "fnet")
    cli("subnet", "create", "--network", "fnet", "--subnet-range", "10.6.0.0/24", "fsub")
    cli("router", "create", "fr")
    cli("router", "set", "--external-gateway", "public", "fr", json_out=False)
    cli("router", "add", "subnet", "fr", "fsub", json_out=False)
    cli("port", "create", "--network", "fnet", "fport")
    fip = cli("floating", "ip", "create", "public")
    address = fip["floating_ip_address"]
    assert address.startswith("172.24.4.")
    cli("floating", "ip", "set", "--port", "fport", address, json_out=False)
    shown = cli("floating", "ip", "show", address)
    assert shown["fixed_ip_address"].startswith("10.6.0.") and shown["status"] == "ACTIVE"
    cli("floating", "ip", "unset", "--port", address, json_out=False)
    assert cli("floating", "ip", "show", address)["port_id"] is None
    assert address in [row["Floating IP Address"] for row in cli("floating", "ip", "list")]
    cli("floating", "ip", "delete", address, json_out=False)


def test_security_groups(cli):
    group = cli("security", "group", "create", "web")
    assert group["name"] == "web"
    rule = cli("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
               "--remote-ip", "0.0.0.0/0", "web")
    assert (rule["port_range_min"], rule["port_range_max"], rule["protocol"]) == \
        (22, 22, "tcp")
    by_group = cli("security", "group", "rule", "create", "--protocol", "icmp",
                   "--remote-group", "web", "web")
    assert by_group["remote_group_id"] == group["id"]
    with pytest.raises(CLIError, match="not supported|protocol"):
        cli("security", "group", "rule", "create", "--protocol", "bogus", "web")
    rules = cli("security", "group", "rule", "list", "web")
    assert len(rules) == 4
    assert "default" in [row["Name"] for row in cli("security", "group", "list")]
    cli("security", "group", "delete", "web", json_out=False)


def test_quotas_agents_availability_extensions(cli, stratus_cloud):
    def limits():
        return {row["Resource"]: row["Limit"]
                for row in cli("quota", "show", "--network", "demo")}

    assert (limits()["ports"], limits()["networks"]) == (500, 100)
    cli("quota", "set", "--ports", "7", "demo", json_out=False)
    assert limits()["ports"] == 7
    assert cli("network", "agent", "list") == []
    # An agent's heartbeat, as the conductor records it, shows up in the CLI.
    conf = controller_conf.make(["--config-file", str(stratus_cloud.config)])
    agents.report_state(Runtime.from_conf(conf), "cli-host", "stratus-l3-agent", agents.L3,
                        {"routers": 0})
    listed = cli("network", "agent", "list")
    assert [(a["Host"], a["Agent Type"], a["Alive"]) for a in listed] == \
        [("cli-host", "L3 agent", True)]
    availability = cli("ip", "availability", "list")
    assert "public" in [row["Network Name"] for row in availability]
    aliases = [row["Alias"] for row in cli("extension", "list", "--network")]
    assert {"router", "external-net", "security-group", "quotas"} <= set(aliases)


def test_project_isolation(cli, stratus_cloud):
    cli("network", "create", "admin-only")
    cli("network", "create", "--share", "everyone")
    cli("subnet", "create", "--network", "everyone", "--subnet-range", "10.7.0.0/24",
        "everyone-subnet")
    demo_names = {row["Name"] for row in cli("network", "list", user="demo")}
    assert "everyone" in demo_names and "admin-only" not in demo_names
    with pytest.raises(CLIError, match="No Network found|not found|404"):
        cli("network", "show", "admin-only", user="demo")
    port = cli("port", "create", "--network", "everyone", "demo-port", user="demo")
    assert "10.7.0." in str(port["fixed_ips"])
    admin_net = cli("network", "show", "admin-only")["id"]
    with pytest.raises(CLIError, match="No Network found|404"):
        cli("port", "create", "--network", admin_net, "sneaky", user="demo")
    with pytest.raises(CLIError, match="403|not authorized|disallowed"):
        cli("network", "create", "--external", "fake-public", user="demo")
