"""Security groups and rules through the API."""

from __future__ import annotations

import pytest


def test_default_group_made_on_first_use(demo):
    groups = demo.ok("GET", "/security-groups")["security_groups"]
    default = [g for g in groups if g["name"] == "default"]
    assert len(default) == 1
    rules = {(r["direction"], r["ethertype"], r["remote_group_id"])
             for r in default[0]["security_group_rules"]}
    assert rules == {("egress", "IPv4", None), ("egress", "IPv6", None),
                     ("ingress", "IPv4", default[0]["id"]),
                     ("ingress", "IPv6", default[0]["id"])}
    assert len([g for g in demo.ok("GET", "/security-groups")["security_groups"]
                if g["name"] == "default"]) == 1
    assert demo.error("POST", "/security-groups", {"security_group": {"name": "default"}}) \
        == (409, "SecurityGroupDefaultAlreadyExists")
    assert demo.error("PUT", f"/security-groups/{default[0]['id']}", {"security_group": {
        "name": "renamed"}}) == (409, "SecurityGroupCannotUpdateDefault")
    assert demo.error("DELETE", f"/security-groups/{default[0]['id']}") == \
        (409, "SecurityGroupCannotRemoveDefault")


def test_group_and_rule_lifecycle(demo, admin, recorder):
    group = demo.ok("POST", "/security-groups", {"security_group": {
        "name": "web", "description": "web servers"}}, 201)["security_group"]
    assert [r["direction"] for r in group["security_group_rules"]] == ["egress", "egress"]
    recorder.clear()
    rule = demo.ok("POST", "/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"}},
        201)["security_group_rule"]
    assert (rule["protocol"], rule["ethertype"], rule["port_range_min"]) == ("tcp", "IPv4", 22)
    assert recorder.ids("security_groups_changed") == {group["id"]}
    status, kind = demo.error("POST", "/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"}})
    assert (status, kind) == (409, "SecurityGroupRuleExists")
    remote = demo.ok("POST", "/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "icmp",
        "remote_group_id": group["id"]}}, 201)["security_group_rule"]
    shown = demo.ok("GET", f"/security-groups/{group['id']}")["security_group"]
    assert {r["id"] for r in shown["security_group_rules"]} >= {rule["id"], remote["id"]}
    assert demo.ok("GET", f"/security-group-rules/{rule['id']}")["security_group_rule"][
        "remote_ip_prefix"] == "0.0.0.0/0"
    listed = demo.ok("GET", "/security-group-rules", security_group_id=group["id"])
    assert len(listed["security_group_rules"]) == 4
    demo.ok("DELETE", f"/security-group-rules/{rule['id']}", status=204)
    assert demo.error("GET", f"/security-group-rules/{rule['id']}") == \
        (404, "SecurityGroupRuleNotFound")
    # Isolation: admin's group is invisible to demo, and not usable for its rules.
    hidden = admin.ok("POST", "/security-groups", {"security_group": {"name": "adm"}},
                      201)["security_group"]
    assert demo.error("GET", f"/security-groups/{hidden['id']}") == \
        (404, "SecurityGroupNotFound")
    assert demo.error("POST", "/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress",
        "remote_group_id": hidden["id"]}}) == (404, "SecurityGroupNotFound")
    # A group in use cannot go.
    network = demo.ok("POST", "/networks", {"network": {"name": "sg-net"}}, 201)["network"]
    port = demo.ok("POST", "/ports", {"port": {"network_id": network["id"],
                                               "security_groups": [group["id"]]}},
                   201)["port"]
    assert port["security_groups"] == [group["id"]]
    assert demo.error("DELETE", f"/security-groups/{group['id']}") == \
        (409, "SecurityGroupInUse")
    demo.ok("DELETE", f"/ports/{port['id']}", status=204)
    demo.ok("DELETE", f"/networks/{network['id']}", status=204)
    demo.ok("DELETE", f"/security-groups/{group['id']}", status=204)
    admin.ok("DELETE", f"/security-groups/{hidden['id']}", status=204)


@pytest.mark.parametrize(("values", "expected"), [
    ({"protocol": "bogus"}, (400, "SecurityGroupRuleInvalidProtocol")),
    ({"protocol": "256"}, (400, "SecurityGroupRuleInvalidProtocol")),
    ({"protocol": "tcp", "port_range_min": 90, "port_range_max": 80},
     (400, "SecurityGroupInvalidPortRange")),
    ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 80},
     (400, "SecurityGroupInvalidPortValue")),
    ({"protocol": "icmp", "port_range_max": 3}, (400, "SecurityGroupInvalidIcmpValue")),
    ({"port_range_min": 22, "port_range_max": 22}, (400, "InvalidInput")),
    ({"protocol": "gre", "port_range_min": 22}, (400, "InvalidInput")),
    ({"remote_ip_prefix": "::/0"}, (400, "SecurityGroupRuleParameterConflict")),
    ({"remote_ip_prefix": "10.0.0.0/40"}, (400, "InvalidInput")),
    ({"remote_ip_prefix": "10.0.0.0/8",
      "remote_group_id": "0d6c7b5c-0d2b-4a4f-9d7c-3a1e0a7e6a11"},
     (400, "SecurityGroupRemoteGroupAndRemoteIpPrefix")),
    ({"direction": "sideways"}, (400, "InvalidInput")),
    ({"ethertype": "IPv5"}, (400, "InvalidInput")),
    ({"port_range_min": 70000, "protocol": "tcp"}, (400, "InvalidInput")),
])
def test_bad_rules(demo, values, expected):
    group = demo.ok("POST", "/security-groups", {"security_group": {"name": "bad"}},
                    201)["security_group"]
    body = {"security_group_rule": {"security_group_id": group["id"],
                                    "direction": "ingress", **values}}
    assert demo.error("POST", "/security-group-rules", body) == expected
    demo.ok("DELETE", f"/security-groups/{group['id']}", status=204)


def test_protocol_numbers_and_icmp(demo):
    group = demo.ok("POST", "/security-groups", {"security_group": {"name": "num"}},
                    201)["security_group"]
    by_number = demo.ok("POST", "/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "17",
        "port_range_min": 53}}, 201)["security_group_rule"]
    assert (by_number["protocol"], by_number["port_range_max"]) == ("17", 53)
    icmp = demo.ok("POST", "/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "icmp",
        "port_range_min": 8, "port_range_max": 0}}, 201)["security_group_rule"]
    assert (icmp["port_range_min"], icmp["port_range_max"]) == (8, 0)
    demo.ok("DELETE", f"/security-groups/{group['id']}", status=204)
