"""Revoked connections: parsing the datapath's conntrack and judging entries."""
# ruff: noqa: E501 - conntrack dump lines are long by nature

from __future__ import annotations

from agents.network import conntrack, sg_rules

DUMP = """tcp,orig=(src=10.1.0.11,dst=10.1.0.13,sport=38812,dport=5002),reply=(src=10.1.0.13,dst=10.1.0.11,sport=5002,dport=38812),zone=9,protoinfo=(state=ESTABLISHED)
icmp,orig=(src=10.1.0.11,dst=10.1.0.13,id=7,type=8,code=0),reply=(src=10.1.0.13,dst=10.1.0.11,id=7,type=0,code=0),zone=9
udp,orig=(src=10.1.0.13,dst=8.8.8.8,sport=5353,dport=53),reply=(src=8.8.8.8,dst=10.1.0.13,sport=53,dport=5353),zone=9
tcp,orig=(src=1.1.1.1,dst=2.2.2.2,sport=1,dport=2),reply=(src=2.2.2.2,dst=1.1.1.1,sport=2,dport=1)
"""


def test_parse_and_flush_tuples():
    conns = conntrack.parse(DUMP)
    assert len(conns) == 3  # the entry without a zone is not ours
    tcp, icmp, udp = conns
    assert (tcp.protocol, tcp.src, tcp.dst, tcp.sport, tcp.dport, tcp.zone) == \
        (6, "10.1.0.11", "10.1.0.13", 38812, 5002, 9)
    assert tcp.flush_tuple() == ("ct_nw_src=10.1.0.11,ct_nw_dst=10.1.0.13,ct_nw_proto=6,"
                                 "ct_tp_src=38812,ct_tp_dst=5002")
    assert icmp.flush_tuple().endswith("ct_nw_proto=1,icmp_id=7,icmp_type=8,icmp_code=0")
    assert udp.dport == 53


def test_cut_flushes_only_what_no_rule_admits(monkeypatch):
    calls = []
    monkeypatch.setattr(conntrack.processutils, "execute",
                        lambda argv, **kw: calls.append(argv) or (DUMP if "dpctl/dump-conntrack"
                                                                  in argv else ""))
    groups = {"g": {"rules": [
        {"direction": "ingress", "ethertype": "IPv4", "protocol": "icmp",
         "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
         "remote_group_id": None},
        {"direction": "egress", "ethertype": "IPv4", "protocol": "udp",
         "port_range_min": 53, "port_range_max": 53, "remote_ip_prefix": "8.8.8.0/24",
         "remote_group_id": None}], "member_ips": {}}}

    def allowed(direction, conn):
        remote = conn.src if direction == "ingress" else conn.dst
        return sg_rules.admits(groups, ["g"], direction, conn.protocol, remote, conn.dport,
                               conn.icmp_type, conn.icmp_code)

    assert conntrack.cut(9, {"10.1.0.13"}, allowed) == 1  # the TCP one only
    flushes = [argv for argv in calls if "dpctl/flush-conntrack" in argv]
    assert flushes == [["ovs-appctl", "dpctl/flush-conntrack", "zone=9",
                        "ct_nw_src=10.1.0.11,ct_nw_dst=10.1.0.13,ct_nw_proto=6,"
                        "ct_tp_src=38812,ct_tp_dst=5002"]]


def _rule(**fields):
    base = {"direction": "ingress", "ethertype": "IPv4", "protocol": None,
            "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
            "remote_group_id": None}
    base.update(fields)
    return base


def test_admits():
    groups = {"g": {"rules": [_rule(protocol="tcp", port_range_min=80, port_range_max=90,
                                    remote_group_id="m"),
                              _rule(protocol="icmp", port_range_min=8, port_range_max=0,
                                    ethertype="IPv4")],
                    "member_ips": {"m": ["10.0.0.5", "10.2.0.0/24"]}}}
    assert sg_rules.admits(groups, ["g"], "ingress", 6, "10.0.0.5", 85)
    assert sg_rules.admits(groups, ["g"], "ingress", 6, "10.2.0.9", 80)
    assert not sg_rules.admits(groups, ["g"], "ingress", 6, "10.0.0.6", 85)
    assert not sg_rules.admits(groups, ["g"], "ingress", 6, "10.0.0.5", 91)
    assert sg_rules.admits(groups, ["g"], "ingress", 1, "9.9.9.9", None, 8, 0)
    assert not sg_rules.admits(groups, ["g"], "ingress", 1, "9.9.9.9", None, 0, 0)
    assert not sg_rules.admits(groups, ["g"], "egress", 6, "10.0.0.5", 85)
    assert not sg_rules.admits(groups, [], "ingress", 6, "10.0.0.5", 85)


def test_revocation_cuts_only_when_rules_shrink_and_empties_left_zones(monkeypatch):
    from agents.network import sg_revocation
    from agents.network.ovs_flows import WiredPort

    cuts, flushed = [], []
    monkeypatch.setattr(sg_revocation.conntrack, "cut",
                        lambda zone, addresses, allowed: cuts.append((zone, addresses)) or 1)
    monkeypatch.setattr(sg_revocation.conntrack, "flush_zone", flushed.append)
    port = WiredPort.from_port({"id": "11111111-2222-3333-4444-555555555555",
                                "mac_address": "fa:16:3e:00:00:01",
                                "fixed_ips": [{"ip_address": "10.0.0.5"}],
                                "security_group_ids": ["g"]}, ofport=4, lvid=1)
    groups = {"g": {"rules": [_rule(protocol="tcp"), _rule(protocol="udp"),
                              _rule(remote_group_id="m")],
                    "member_ips": {"m": ["10.0.0.7", "10.0.0.8"]}}}
    revocation = sg_revocation.Revocation()
    assert revocation.update([port], groups) == 0  # first sight: nothing to compare
    groups["g"]["rules"].append(_rule(protocol="icmp"))
    assert revocation.update([port], groups) == 0  # more allowed: nothing to cut
    groups["g"]["rules"].pop(0)
    assert revocation.update([port], groups) == 1 and cuts == [(4, {"10.0.0.5"})]
    groups["g"]["member_ips"]["m"] = ["10.0.0.7"]  # a member left the remote group
    assert revocation.update([port], groups) == 1
    revocation.update([], groups)  # the port left the bridge
    assert flushed == [4]
