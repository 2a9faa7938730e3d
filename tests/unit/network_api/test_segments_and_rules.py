"""Segment configuration and security group rule validation."""

from __future__ import annotations

import pytest

from controller import conf as controller_conf
from controller.network import exceptions as exc
from controller.network import security_group_rules as rules
from controller.network import segments


@pytest.fixture
def conf():
    return controller_conf.make(None, overrides={"network": {
        "network_vlan_ranges": ["physnet1:100:102", "physnet2"]}})


def test_mtus_and_ranges(conf):
    assert segments.mtu_for(conf, "vxlan") == 1450
    assert segments.mtu_for(conf, "flat") == segments.mtu_for(conf, "vlan") == 1500
    assert segments.vlan_ranges(conf) == {"physnet1": [(100, 102)], "physnet2": []}
    assert segments.view(None)["provider:network_type"] is None


@pytest.mark.parametrize(("kind", "physnet", "seg_id"), [
    ("gre", None, None), ("vxlan", "physnet1", None), ("vlan", None, None),
    ("vlan", "nowhere", 5), ("vlan", "physnet1", 4095), ("flat", "public", 3),
    ("flat", "physnet9", None), ("vxlan", None, 2 ** 24)])
def test_bad_provider_attributes(conf, kind, physnet, seg_id):
    with pytest.raises(exc.InvalidInput):
        segments._validate(conf, kind, physnet, seg_id)


def test_protocols():
    assert rules._protocol("TCP") == ("tcp", 6)
    assert rules._protocol(17) == ("17", 17)
    assert rules._protocol("any") == (None, None)
    for bad in ("bogus", "256", "-1", True):
        with pytest.raises(exc.SecurityGroupRuleInvalidProtocol):
            rules._protocol(bad)


def test_port_ranges():
    assert rules._ports(6, 22, None) == (22, 22)
    assert rules._ports(6, None, None) == (None, None)
    assert rules._ports(1, 8, None) == (8, None)
    with pytest.raises(exc.SecurityGroupInvalidPortRange):
        rules._ports(6, 100, 99)
    with pytest.raises(exc.SecurityGroupInvalidPortValue):
        rules._ports(17, 0, 10)
    with pytest.raises(exc.SecurityGroupInvalidIcmpValue):
        rules._ports(1, None, 3)
    with pytest.raises(exc.SecurityGroupInvalidIcmpValue):
        rules._ports(58, 300, None)
    with pytest.raises(exc.InvalidInput):
        rules._ports(None, 22, 22)
