"""Security group rules as OpenFlow matches."""

from __future__ import annotations

import pytest

from agents.network import sg_rules


def _covered(masks):
    """Every port a list of value/mask matches admits."""
    ports = set()
    for item in masks:
        if "/" in item:
            value, mask = (int(x, 16) for x in item.split("/"))
        else:
            value, mask = int(item), 0xffff
        ports |= {p for p in range(65536) if p & mask == value}
    return ports


@pytest.mark.parametrize("low,high", [(80, 80), (1000, 1003), (1, 1024), (5000, 5010),
                                      (33, 65534), (0, 7), (65535, 65535)])
def test_port_ranges_become_exact_masks(low, high):
    assert _covered(sg_rules.port_range_masks(low, high)) == set(range(low, high + 1))


def test_whole_range_or_none_means_any_port():
    assert sg_rules.port_range_masks(None, None) == []
    assert sg_rules.port_range_masks(1, 65535) == []
    assert sg_rules.port_range_masks(0, 65535) == []
    with pytest.raises(ValueError):
        sg_rules.port_range_masks(10, 5)


def test_protocols():
    assert sg_rules.protocol_number("tcp", "IPv4") == 6
    assert sg_rules.protocol_number("17", "IPv4") == 17
    assert sg_rules.protocol_number("icmp", "IPv6") == 58
    assert sg_rules.protocol_number(None, "IPv4") is None
    for bad in ("bogus", "256"):
        with pytest.raises(ValueError):
            sg_rules.protocol_number(bad, "IPv4")


def rule(**fields):
    base = {"id": "r", "direction": "ingress", "ethertype": "IPv4", "protocol": None,
            "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
            "remote_group_id": None}
    base.update(fields)
    return base


def test_rule_matches():
    assert sg_rules.rule_matches(rule(), {}) == ["ip"]
    assert sg_rules.rule_matches(rule(protocol="tcp", port_range_min=22,
                                      port_range_max=22), {}) == ["tcp,tp_dst=22"]
    assert sg_rules.rule_matches(rule(protocol="icmp", port_range_min=8,
                                      port_range_max=0), {}) == ["icmp,icmp_type=8,icmp_code=0"]
    assert sg_rules.rule_matches(rule(protocol="47"), {}) == ["ip,nw_proto=47"]
    assert sg_rules.rule_matches(rule(ethertype="IPv6", protocol="udp"), {}) == ["udp6"]
    assert sg_rules.rule_matches(rule(remote_ip_prefix="10.0.0.0/8"), {}) == \
        ["ip,nw_src=10.0.0.0/8"]
    assert sg_rules.rule_matches(rule(direction="egress", remote_ip_prefix="10.0.0.5/32"),
                                 {}) == ["ip,nw_dst=10.0.0.5/32"]
    # A prefix of the other IP version matches nothing; 0.0.0.0/0 matches anything.
    assert sg_rules.rule_matches(rule(remote_ip_prefix="2001:db8::/64"), {}) == []
    assert sg_rules.rule_matches(rule(remote_ip_prefix="0.0.0.0/0"), {}) == ["ip"]


def test_remote_group_expands_to_member_addresses():
    members = {"g": ["10.0.0.5", "10.0.0.6", "2001:db8::5", "10.1.0.0/24"]}
    matches = sg_rules.rule_matches(rule(protocol="tcp", port_range_min=80,
                                         port_range_max=80, remote_group_id="g"), members)
    assert matches == ["tcp,tp_dst=80,nw_src=10.0.0.5", "tcp,tp_dst=80,nw_src=10.0.0.6",
                       "tcp,tp_dst=80,nw_src=10.1.0.0/24"]
    assert sg_rules.rule_matches(rule(remote_group_id="empty"), {}) == []


def test_group_matches_skips_bad_rules_and_unknown_groups():
    groups = {"g": {"id": "g", "rules": [rule(protocol="bogus"), rule(protocol="tcp"),
                                         rule(direction="egress")], "member_ips": {}}}
    assert sg_rules.group_matches(groups, ["g", "unknown"], "ingress") == ["tcp"]
    assert sg_rules.group_matches(groups, ["g"], "egress") == ["ip"]
