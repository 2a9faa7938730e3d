"""The bridges' flow tables rendered from desired state."""

from __future__ import annotations

from agents.network import ovs_flows
from agents.network.ovs_flows import Segment, WiredPort

PORT = {"id": "11111111-2222-3333-4444-555555555555", "mac_address": "FA:16:3E:00:00:01",
        "network_id": "aaaaaaaa-2222-3333-4444-555555555555", "device_owner": "compute:nova",
        "fixed_ips": [{"subnet_id": "s", "ip_address": "10.0.0.5"}],
        "port_security_enabled": True, "security_group_ids": ["g"],
        "allowed_address_pairs": [{"ip_address": "10.0.0.100/30",
                                   "mac_address": "fa:16:3e:00:00:99"}]}
GROUPS = {"g": {"id": "g", "member_ips": {"g": ["10.0.0.5", "10.0.0.6"]}, "rules": [
    {"id": "1", "direction": "egress", "ethertype": "IPv4", "protocol": None,
     "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
     "remote_group_id": None},
    {"id": "2", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
     "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": None,
     "remote_group_id": "g"}]}}


def wired(**changes):
    port = dict(PORT, **changes)
    return WiredPort.from_port(port, ofport=7, lvid=3)


def test_wired_port_collects_pairs():
    wp = wired()
    assert wp.mac == "fa:16:3e:00:00:01" and wp.filtered
    assert wp.pairs == (("fa:16:3e:00:00:01", "10.0.0.5"),
                        ("fa:16:3e:00:00:99", "10.0.0.100/30"))
    assert wp.macs == ["fa:16:3e:00:00:01", "fa:16:3e:00:00:99"]
    assert not wired(port_security_enabled=False).filtered
    assert not wired(device_owner="network:router_interface").filtered


def test_filtered_port_flows():
    flows = ovs_flows.integration_flows(0x5, [wired()], GROUPS, [], {}, None)
    text = "\n".join(flows)
    assert all(f.startswith("cookie=0x5,") for f in flows)
    assert "table=0,priority=100,in_port=7,actions=load:7->NXM_NX_REG5[],load:3->NXM_NX_REG6[]" \
        ",goto_table:10" in text
    # Anti-spoofing: ARP and IP only from the port's own pairs; DHCP servers refused.
    assert "reg5=7,dl_src=fa:16:3e:00:00:01,arp,arp_sha=fa:16:3e:00:00:01,arp_spa=10.0.0.5" \
        in text
    assert "reg5=7,dl_src=fa:16:3e:00:00:99,ip,nw_src=10.0.0.100/30" in text
    assert "table=10,priority=95,reg5=7,udp,tp_src=67,tp_dst=68,actions=drop" in text
    assert "table=10,priority=10,reg5=7,actions=drop" in text
    # Rules: egress anywhere (a plain flow); ingress SSH from the members of g (a
    # conjunction: port clause, member clauses, and the flow that commits).
    assert "table=21,priority=50,ct_state=+new-est+trk,reg5=7,ip,actions=ct(commit," in text
    conj = [f for f in flows if "conjunction(" in f or "conj_id=" in f]
    ident = conj[0].split("conjunction(")[1].split(",")[0] if "conjunction(" in conj[0] \
        else conj[0].split("conj_id=")[1].split(",")[0]
    assert (f"table=71,priority=40,ct_state=+new-est+trk,tcp,tp_dst=22,reg7=7,"
            f"actions=conjunction({ident},1/2)") in text
    for member in ("10.0.0.5", "10.0.0.6"):
        assert (f"table=71,priority=40,ct_state=+new-est+trk,tcp,tp_dst=22,nw_src={member},"
                f"actions=conjunction({ident},2/2)") in text
    assert (f"table=71,priority=40,conj_id={ident},ip,actions=ct(commit,"
            "zone=NXM_NX_REG7[0..15]),output:NXM_NX_REG7[]") in text
    assert "table=21,priority=50,ct_state=+new-est+trk,reg5=7,ip,actions=ct(commit," \
           "zone=NXM_NX_REG5[0..15])" in text
    # Unicast to either MAC goes through ingress filtering, tagged or not.
    assert text.count("table=60,priority=50,reg6=3,dl_dst=") == 4


def test_pipeline_tracks_per_port_zones_and_new_tcp_needs_a_syn():
    text = "\n".join(ovs_flows.integration_flows(1, [], {}, [], {}, None))
    assert "table=20,priority=50,ip,actions=ct(table=21,zone=NXM_NX_REG5[0..15])" in text
    assert "table=70,priority=50,ip,actions=ct(table=71,zone=NXM_NX_REG7[0..15])" in text
    for table in (21, 71):
        assert f"table={table},priority=95,ct_state=+new+trk,tcp,tcp_flags=-syn,actions=drop" \
            in text
        assert f"table={table},priority=90,ct_state=-new+est-inv+trk," in text


def test_unfiltered_and_dead_ports():
    flows = ovs_flows.integration_flows(1, [wired(port_security_enabled=False)], GROUPS, [],
                                        {}, None, dead_ofports=[9])
    text = "\n".join(flows)
    assert "table=0,priority=100,in_port=7,actions=load:3->NXM_NX_REG6[],goto_table:60" in text
    assert "table=0,priority=200,in_port=9,actions=drop" in text
    assert "table=10," not in text.replace("goto_table:10", "")
    assert f"table={ovs_flows.T_CANARY}," in text


def test_vlan_translation_to_physical_and_tunnel_bridges():
    segs = [Segment("n1", 1, "flat", "public"), Segment("n2", 2, "vlan", "public", 100),
            Segment("n3", 3, "vxlan", None, 5000)]
    text = "\n".join(ovs_flows.integration_flows(1, [], {}, segs, {"public": 4}, 5))
    assert "in_port=4,vlan_tci=0x0000/0x1fff,actions=mod_vlan_vid:1," in text
    assert "in_port=4,dl_vlan=100,actions=mod_vlan_vid:2," in text
    assert "in_port=5,dl_vlan=3,actions=load:3->NXM_NX_REG6[]" in text
    phys = "\n".join(ovs_flows.physical_flows(1, 2, segs[:2]))
    assert "in_port=2,dl_vlan=1,actions=strip_vlan,NORMAL" in phys
    assert "in_port=2,dl_vlan=2,actions=mod_vlan_vid:100,NORMAL" in phys
    tun = "\n".join(ovs_flows.tunnel_flows(1, 1, [7, 8], segs))
    assert "table=4,priority=1,tun_id=0x1388,actions=mod_vlan_vid:3,goto_table:10" in tun
    assert "dl_vlan=3,actions=strip_vlan,set_tunnel:0x1388,output:7,output:8" in tun
    assert "learn(table=20" in tun
    # No peers: nothing is flooded anywhere, but inbound mapping stays.
    assert "set_tunnel" not in "\n".join(ovs_flows.tunnel_flows(1, 1, [], segs))


def test_link_local_address_from_mac():
    assert ovs_flows._link_local("fa:16:3e:00:00:01") == "fe80::f816:3eff:fe00:1"


def test_conjunctions_scale_with_ports_plus_members_and_keep_their_ids():
    members = [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(300)]
    groups = {"g": dict(GROUPS["g"], member_ips={"g": members})}
    ports = [WiredPort.from_port(dict(PORT, id=f"11111111-2222-3333-4444-{i:012d}"),
                                 ofport=i + 1, lvid=1) for i in range(300)]
    flows = ovs_flows.integration_flows(1, ports, groups, [], {}, None)
    clauses = [f for f in flows if "conjunction(" in f]
    assert len(clauses) == 600  # 300 port clauses + 300 member clauses, not 90 000
    again = ovs_flows.integration_flows(1, list(reversed(ports)), groups, [], {}, None)
    assert sorted(flows) == sorted(again)


def test_shared_clause_matches_merge_their_conjunctions():
    two = {"g": {"id": "g", "member_ips": {"a": ["10.0.0.8"], "b": ["10.0.0.8"]}, "rules": [
        dict(GROUPS["g"]["rules"][1], id="x", remote_group_id="a"),
        dict(GROUPS["g"]["rules"][1], id="y", remote_group_id="b")]}}
    flows = ovs_flows.integration_flows(1, [wired()], two, [], {}, None)
    member = [f for f in flows if "nw_src=10.0.0.8" in f]
    assert len(member) == 1 and member[0].count("conjunction(") == 2
