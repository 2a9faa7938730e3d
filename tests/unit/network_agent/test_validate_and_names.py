"""Validation of everything that reaches a command line, and host resource names."""

from __future__ import annotations

import pytest

from agents.network import namespaces, validate
from agents.network.exception import InvalidInput
from agents.network.ovs_bridges import patch_name, tunnel_port_name

PORT = "5aafaebe-e83a-4fc3-9c50-e514754ba197"


@pytest.mark.parametrize("value", ["5AAFAEBE-E83A-4FC3-9C50-E514754BA197",
                                   "5aafaebee83a4fc39c50e514754ba197"])
def test_uuid_is_canonical(value):
    assert validate.uuid(value) == PORT


@pytest.mark.parametrize("check,value", [
    (validate.uuid, "not-a-uuid"), (validate.mac, "fa:16:3e:00:00"),
    (validate.mac, "fa:16:3e:00:00:0g"), (validate.ip, "10.0.0.256"),
    (validate.cidr, "10.0.0.0/33"), (validate.ifname, "-rf"),
    (validate.ifname, "a" * 16), (validate.ifname, "tap 1"), (validate.ifname, "x/y"),
    (validate.nsname, "../etc"), (validate.hostname, "bad_name"), (validate.vlan, 0),
    (validate.vlan, 4095), (validate.vni, 2 ** 24), (validate.vni, "ten"),
])
def test_bad_values_are_refused(check, value):
    with pytest.raises(InvalidInput):
        check(value)


def test_canonical_forms():
    assert validate.mac("FA:16:3E:AA:BB:CC") == "fa:16:3e:aa:bb:cc"
    assert validate.ip("2001:db8:0::1") == "2001:db8::1"
    assert validate.cidr("10.1.2.3/24") == "10.1.2.0/24"
    assert validate.cidr("10.1.2.3") == "10.1.2.3/32"
    with pytest.raises(InvalidInput):
        validate.ip("::1", version=4)


def test_host_resources_are_named_after_their_owner():
    assert namespaces.dhcp_namespace(PORT) == f"qdhcp-{PORT}"
    assert namespaces.router_namespace(PORT) == f"qrouter-{PORT}"
    assert namespaces.device_name("qr-", PORT) == "qr-5aafaebe-e8"
    assert namespaces.device_name("tap", PORT) == "tap5aafaebe-e8"
    assert len(namespaces.device_name("qg-", PORT)) <= 15
    with pytest.raises(InvalidInput):
        namespaces.device_name("xx-", PORT)
    assert namespaces.owner(f"qrouter-{PORT}", namespaces.ROUTER_PREFIX) == PORT
    assert namespaces.owner("qrouter-junk", namespaces.ROUTER_PREFIX) is None
    assert namespaces.owner(f"qdhcp-{PORT}", namespaces.ROUTER_PREFIX) is None
    assert namespaces.marker("br-int") == "stratus:br-int"


def test_patch_and_tunnel_port_names():
    assert patch_name("int-", "br-ex") == "int-br-ex"
    assert len(patch_name("phy-", "br-external-01")) == 15
    assert tunnel_port_name("10.0.0.2") == "vxlan-0a000002"
    name = tunnel_port_name("2001:db8::2")
    assert name.startswith("vxlan-") and len(name) == 14
