"""Address parsing and arithmetic (controller.network.addresses)."""

from __future__ import annotations

import ipaddress

import pytest

from controller.network import addresses
from controller.network import exceptions as exc


def test_cidr_is_strict_about_host_bits():
    assert str(addresses.cidr("10.0.0.0/24")) == "10.0.0.0/24"
    assert str(addresses.cidr("10.0.0.5/24", strict=False)) == "10.0.0.0/24"
    for bad in ("10.0.0.5/24", "10.0.0.0", "10.0.0.0/33", "x/8", None, 5, "fd00::1/64"):
        with pytest.raises(exc.InvalidInput):
            addresses.cidr(bad)


def test_ip_refuses_networks_and_scopes():
    assert str(addresses.ip("fd00::1")) == "fd00::1"
    for bad in ("10.0.0.0/24", "fe80::1%eth0", "300.1.1.1", "", None, 1):
        with pytest.raises(exc.InvalidInput):
            addresses.ip(bad)


def test_default_pools_split_around_the_gateway():
    network = ipaddress.ip_network("10.0.0.0/24")
    gateway = ipaddress.ip_address("10.0.0.100")
    pools = addresses.default_pools(network, gateway)
    assert [(str(a), str(b)) for a, b in pools] == [("10.0.0.1", "10.0.0.99"),
                                                  ("10.0.0.101", "10.0.0.254")]
    first = addresses.default_pools(network, addresses.first_host(network))
    assert [(str(a), str(b)) for a, b in first] == [("10.0.0.2", "10.0.0.254")]
    assert addresses.default_pools(ipaddress.ip_network("10.0.0.0/30"), None) == [
        (ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("10.0.0.2"))]
    v6 = addresses.usable_range(ipaddress.ip_network("fd00::/126"))
    assert [str(a) for a in v6] == ["fd00::1", "fd00::3"]
    assert addresses.pool_size("10.0.0.2", "10.0.0.254") == 253


def test_macs():
    assert addresses.mac("FA-16-3E-00-00-0A") == "fa:16:3e:00:00:0a"
    for bad in ("01:00:5e:00:00:01", "00:00:00:00:00:00", "fa:16:3e:00:00", "zz:" * 5 + "zz",
                None):
        with pytest.raises(exc.InvalidInput):
            addresses.mac(bad)
    generated = addresses.random_mac("fa:16:3e:00:00:00")
    assert generated.startswith("fa:16:3e:") and addresses.mac(generated) == generated


def test_eui64():
    network = ipaddress.ip_network("2001:db8::/64")
    assert str(addresses.eui64(network, "fa:16:3e:12:34:56")) == \
        "2001:db8::f816:3eff:fe12:3456"
