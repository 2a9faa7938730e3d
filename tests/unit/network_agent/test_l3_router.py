"""What a router namespace must hold."""

from __future__ import annotations

import pytest

from agents.network import l3_router
from agents.network.exception import InvalidInput

R = "aaaaaaaa-2222-3333-4444-555555555555"
EXT_SUB = {"id": "e", "cidr": "172.24.4.0/24", "gateway_ip": "172.24.4.1", "ip_version": 4}
INT_SUB = {"id": "i", "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1", "ip_version": 4}


def router(**extra):
    data = {
        "id": R, "admin_state_up": True, "enable_snat": True,
        "gw_port": {"id": "bbbbbbbb-2222-3333-4444-555555555555", "mac_address": "fa:16:3e:0:0:1",
                    "mtu": 1500, "fixed_ips": [{"subnet_id": "e", "ip_address": "172.24.4.5"}],
                    "subnets": [EXT_SUB]},
        "interfaces": [{"id": "cccccccc-2222-3333-4444-555555555555",
                        "mac_address": "fa:16:3e:0:0:2", "mtu": 1450,
                        "fixed_ips": [{"subnet_id": "i", "ip_address": "10.0.0.1"}],
                        "subnets": [INT_SUB]}],
        "routes": [{"destination": "192.168.0.0/24", "nexthop": "10.0.0.254"}],
        "floating_ips": [{"id": "f", "floating_ip_address": "172.24.4.20",
                          "fixed_ip_address": "10.0.0.5", "port_id": "p"}],
    }
    data.update(extra)
    return data


def tokens(rules, table, chain):
    return [" ".join(rule) for rule in rules.get(table, {}).get(chain, [])]


def test_devices_addresses_and_routes():
    plan = l3_router.plan(router(), 9697)
    assert plan.namespace == f"qrouter-{R}"
    assert [(d.name, d.addresses, d.mtu) for d in plan.interfaces] == \
        [("qr-cccccccc-22", ("10.0.0.1/24",), 1450)]
    assert plan.gateway.name == "qg-bbbbbbbb-22"
    assert plan.gateway.addresses == ("172.24.4.5/24", "172.24.4.20/32")
    assert plan.routes == (("192.168.0.0/24", "10.0.0.254"), ("default", "172.24.4.1"))
    assert plan.floating_ips == (("172.24.4.20", "10.0.0.5"),)


def test_nat_rules():
    rules = l3_router.plan(router(), 9697).rules
    pre = tokens(rules, "nat", "PREROUTING")
    assert pre[0] == ("-d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 -j REDIRECT "
                      "--to-ports 9697")
    assert "-d 172.24.4.20/32 -j DNAT --to-destination 10.0.0.5" in pre
    post = tokens(rules, "nat", "POSTROUTING")
    assert post == [
        "! -o qg-bbbbbbbb-22 -m conntrack ! --ctstate DNAT -j ACCEPT",
        "-s 10.0.0.5/32 -j SNAT --to-source 172.24.4.20",
        "-o qg-bbbbbbbb-22 -j SNAT --to-source 172.24.4.5",
        "-m mark ! --mark 0x2/0xffff -m conntrack --ctstate DNAT -j SNAT --to-source 172.24.4.5"]
    assert tokens(rules, "mangle", "PREROUTING") == \
        ["-i qg-bbbbbbbb-22 -j MARK --set-xmark 0x2/0xffff"]
    assert tokens(rules, "filter", "INPUT") == \
        ["! -i qr-+ -p tcp -m tcp --dport 9697 -j DROP"]


def test_without_snat_or_gateway():
    rules = l3_router.plan(router(enable_snat=False), 9697).rules
    assert not any("172.24.4.5" in r for r in tokens(rules, "nat", "POSTROUTING"))
    plan = l3_router.plan(router(gw_port=None), 9697)
    assert plan.gateway is None and plan.floating_ips == () and plan.routes == (
        ("192.168.0.0/24", "10.0.0.254"),)
    assert "POSTROUTING" not in plan.rules["nat"] and "mangle" not in plan.rules


def test_bad_addresses_are_refused():
    bad = router(floating_ips=[{"id": "f", "floating_ip_address": "1.2.3.4 -j ACCEPT",
                                "fixed_ip_address": "10.0.0.5", "port_id": "p"}])
    with pytest.raises(InvalidInput):
        l3_router.plan(bad, 9697)
