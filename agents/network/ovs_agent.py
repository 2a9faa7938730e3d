"""stratus-ovs-agent: wires this host's ports into Open vSwitch.

The integration bridge holds every port of the host: VM taps (libvirt adds
``tap<port[:11]>`` with ``external_ids:iface-id`` = port id) and the DHCP and L3 agents'
veths (same convention). The agent finds ports by iface-id, gives each network a local
VLAN, tags the ports, and renders the bridges' flow tables (security groups with
conntrack, anti-spoofing, VLAN translation to the physical bridges, VNI translation on
the tunnel bridge) from the desired state the network service returns. Unknown or
administratively down ports sit on the dead VLAN with their traffic dropped.

Flows carry a cookie drawn per agent run and each bridge's table is replaced whole in
one OpenFlow bundle, so a restart rewrites cookies in place without a dropped packet and
whatever the new run does not want (stale flows of the last run) is swept at once.
"""

from __future__ import annotations

import logging
import random
import sys
from collections.abc import Iterable
from typing import Any

from oslo_config import cfg

from agents.network import agent as base
from agents.network import conf as agent_conf
from agents.network import ovs, ovs_flows, validate
from agents.network.exception import HostCommandError, InvalidInput
from agents.network.local_vlans import LocalVlans
from agents.network.ovs_bridges import OuterBridges
from agents.network.ovs_flows import DEAD_VLAN, Segment, WiredPort
from agents.network.sg_revocation import Revocation
from common.context import RequestContext

LOG = logging.getLogger(__name__)

SG_MARK = "sg:"


class OvsRpcEndpoint:
    """Notifications from the network service: they only mark what to look at."""

    def __init__(self, agent: OvsAgent):
        self.agent = agent

    def ports_changed(self, ctx: RequestContext, port_ids: list[str]) -> None:
        self.agent.mark([str(p) for p in port_ids], ctx)

    def security_groups_changed(self, ctx: RequestContext, group_ids: list[str]) -> None:
        self.agent.mark([SG_MARK + str(g) for g in group_ids], ctx)


class OvsAgent(base.Agent):
    binary = "stratus-ovs-agent"
    agent_type = "Open vSwitch agent"
    topic_option = "ovs_topic"

    def __init__(self, conf: cfg.ConfigOpts, server: Any = None):
        super().__init__(conf, server)
        opts = conf.ovs
        self.int_br = ovs.Bridge(opts.integration_bridge)
        self.local_ip = validate.ip(opts.local_ip, "[ovs] local_ip") if opts.local_ip else None
        self.outer = OuterBridges(self.int_br, agent_conf.bridge_mappings(conf),
                                  opts.tunnel_bridge, self.local_ip, opts.vxlan_udp_port)
        self.cookie = random.getrandbits(63) | 1
        self.vlans = LocalVlans()
        self.ports: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.peers: list[dict[str, Any]] = []
        self._seen: dict[str, int] = {}
        self._status: dict[str, str] = {}
        self._applied: dict[str, list[str]] = {}
        self._ready = False
        self.revocation = Revocation()

    @property
    def resync_interval(self) -> float:
        return self.conf.ovs.resync_interval

    @property
    def poll_interval(self) -> float:
        return self.conf.ovs.polling_interval

    def endpoints(self) -> list[Any]:
        return [OvsRpcEndpoint(self)]

    def configurations(self) -> dict[str, Any]:
        return {"integration_bridge": self.int_br.name,
                "bridge_mappings": {p: b.name for p, b in self.outer.physical.items()},
                "tunnel_types": ["vxlan"] if self.local_ip else [],
                "tunneling_ip": self.local_ip, "devices": len(self._seen),
                "datapath_type": "netdev"}

    # -- looking at the host -----------------------------------------------------------

    def poll(self) -> None:
        """Mark ports whose taps came, went or changed ofport; a full resync when the
        bridge lost our flows (ovs-vswitchd restarted) or is unreachable."""
        if not self._ready:
            return  # the first (full) sync looks at everything anyway
        try:
            ports = self.int_br.ports()
            canary = self.int_br.dump_flows(f"table={ovs_flows.T_CANARY}")
        except HostCommandError:
            LOG.warning("cannot read %s; resyncing when it is back", self.int_br.name)
            self.mark_full()
            return
        if not canary:
            LOG.warning("the flows of %s are gone (ovs-vswitchd restarted?); full resync",
                        self.int_br.name)
            self._applied.clear()
            self.mark_full()
        seen = self._iface_map(ports)
        changed = {i for i in seen.keys() | self._seen.keys() if seen.get(i) != self._seen.get(i)}
        if changed:
            self.mark(changed)

    @staticmethod
    def _iface_map(ports: dict[str, ovs.OvsPort]) -> dict[str, int]:
        out = {}
        for port in ports.values():
            if port.iface_id:
                try:
                    out[validate.uuid(port.iface_id)] = port.ofport
                except InvalidInput:
                    out[port.iface_id] = port.ofport
        return out

    # -- one pass ----------------------------------------------------------------

    def sync(self, ctx: RequestContext, ids: set[str] | None) -> dict[str, Any]:
        full = ids is None
        if full or not self._ready:
            self.outer.setup()
        ovs_ports = self.int_br.ports()
        if full:
            state = self.server.get_ovs_state(ctx, self.host)
            self.ports, self.groups = {}, {}
            self._absorb(state, None)
            self._recover_vlans(ovs_ports.values())
        else:
            wanted = self._ports_to_fetch(ids)
            if wanted:
                state = self.server.get_ovs_state(ctx, self.host, port_ids=sorted(wanted))
                self._absorb(state, wanted)
        wired, dead = self._wire(ovs_ports)
        segments = self._segments(wired)
        self._program(wired, dead, segments, force=full)
        cut = self.revocation.update(wired, self.groups)
        self._seen = self._iface_map(ovs_ports)
        self._report_status(ctx, {p.id for p in wired})
        self._ready = True
        return {"ports": len(wired), "dead": len(dead), "networks": len(segments),
                "security_groups": len(self.groups), "connections_cut": cut}

    def _ports_to_fetch(self, ids: set[str]) -> set[str]:
        groups = {i[len(SG_MARK):] for i in ids if i.startswith(SG_MARK)}
        wanted = set()
        for ident in ids - {SG_MARK + g for g in groups}:
            try:
                wanted.add(validate.uuid(ident))
            except InvalidInput:
                continue  # a foreign iface-id: it stays on the dead VLAN
        if groups:
            for port_id, port in self.ports.items():
                used = set(port.get("security_group_ids") or ())
                remote = {rule.get("remote_group_id") for g in used
                          for rule in self.groups.get(g, {}).get("rules", [])}
                if used & groups or remote & groups:
                    wanted.add(port_id)
        return wanted

    def _absorb(self, state: dict[str, Any], requested: set[str] | None) -> None:
        returned = set()
        for port in state.get("ports") or []:
            try:
                port_id = validate.uuid(port["id"])
            except (InvalidInput, KeyError):
                LOG.error("the network service sent a port without a valid id: %r", port)
                continue
            self.ports[port_id] = port
            returned.add(port_id)
        gone = {str(p) for p in state.get("removed") or []}
        if requested is not None:
            gone |= requested - returned
        for port_id in gone:
            self.ports.pop(port_id, None)
        self.groups.update(state.get("security_groups") or {})
        used = {g for p in self.ports.values() for g in p.get("security_group_ids") or ()}
        self.groups = {g: v for g, v in self.groups.items() if g in used}
        if "tunnel_peers" in state:
            self.peers = list(state["tunnel_peers"] or [])

    def _recover_vlans(self, ovs_ports: Iterable[ovs.OvsPort]) -> None:
        for port in ovs_ports:
            net = port.other_config.get("net-id")
            if net and port.tag is not None and port.tag != DEAD_VLAN:
                self.vlans.recover(net, port.tag)

    def _wire(self, ovs_ports: dict[str, ovs.OvsPort]) -> tuple[list[WiredPort], list[int]]:
        wired: list[WiredPort] = []
        dead: list[int] = []
        self._retag: list[tuple[str, int, dict[str, str] | None, list[str]]] = []
        for _name, oport in sorted(ovs_ports.items()):
            if not oport.iface_id or oport.ofport <= 0:
                continue
            port = self.ports.get(oport.iface_id.lower())
            if port is None or not port.get("admin_state_up", True):
                self._tag(oport, DEAD_VLAN, None)
                dead.append(oport.ofport)
                continue
            try:
                net = validate.uuid(port["network_id"], "network id")
                lvid = self.vlans.allocate(net)
                wired_port = WiredPort.from_port(port, oport.ofport, lvid)
            except (InvalidInput, KeyError, ValueError) as exc:
                LOG.error("port %s cannot be wired: %s", oport.iface_id, exc)
                self._tag(oport, DEAD_VLAN, None)
                dead.append(oport.ofport)
                continue
            self._tag(oport, lvid, net)
            wired.append(wired_port)
        used = {self.ports[p.id]["network_id"] for p in wired}
        self.vlans.release_except(used)
        self.int_br.set_ports(self._retag)  # one OVSDB transaction for every change
        return wired, dead

    def _tag(self, oport: ovs.OvsPort, tag: int, network_id: str | None) -> None:
        if oport.tag == tag and oport.other_config.get("net-id") == network_id:
            return
        if network_id:
            self._retag.append((oport.name, tag, {"net-id": network_id}, []))
        else:
            self._retag.append((oport.name, tag, None,
                                ["net-id"] if "net-id" in oport.other_config else []))

    def _segments(self, wired: list[WiredPort]) -> list[Segment]:
        out: dict[str, Segment] = {}
        for wp in wired:
            port = self.ports[wp.id]
            net = port["network_id"]
            if net in out:
                continue
            kind = port.get("network_type") or "vxlan"
            seg_id = port.get("segmentation_id")
            try:
                if kind == "vlan":
                    seg_id = validate.vlan(seg_id, "segmentation id")
                elif kind == "vxlan":
                    seg_id = validate.vni(seg_id) if seg_id is not None else None
                else:
                    seg_id = None
            except InvalidInput as exc:
                LOG.error("network %s stays local to this host: %s", net, exc)
                kind, seg_id = "local", None
            out[net] = Segment(net, wp.lvid, kind, port.get("physical_network"), seg_id)
        return list(out.values())

    # -- bridges and flows --------------------------------------------------------------

    def _program(self, wired: list[WiredPort], dead: list[int], segments: list[Segment],
                 force: bool) -> None:
        c = self.cookie
        patches = self.outer.patches
        tun_patch = patches.tunnel[0] if patches.tunnel else None
        self._apply(self.int_br, ovs_flows.integration_flows(
            c, wired, self.groups, segments, patches.int_side, tun_patch, dead), force)
        for physnet, bridge in self.outer.physical.items():
            mine = [s for s in segments if s.physical_network == physnet
                    and s.network_type in ("flat", "vlan")]
            self._apply(bridge, ovs_flows.physical_flows(c, patches.phys_side[physnet], mine),
                        force)
        if self.outer.tunnel is not None and patches.tunnel:
            tunnels = self.outer.sync_tunnels(self.peers)
            self._apply(self.outer.tunnel, ovs_flows.tunnel_flows(
                c, patches.tunnel[1], tunnels, segments), force)

    def _apply(self, bridge: ovs.Bridge, flows: list[str], force: bool) -> None:
        if not force and self._applied.get(bridge.name) == flows:
            return
        bridge.replace_flows(flows)
        self._applied[bridge.name] = flows

    # -- status ----------------------------------------------------------------------

    def _report_status(self, ctx: RequestContext, wired_ids: set[str]) -> None:
        changes: dict[str, list[str]] = {}
        for port_id, port in self.ports.items():
            status = "ACTIVE" if port_id in wired_ids else "DOWN"
            if self._status.get(port_id, port.get("status")) != status:
                changes.setdefault(status, []).append(port_id)
        for status, port_ids in changes.items():
            self.server.update_port_status(ctx, sorted(port_ids), status, self.host)
            self._status.update(dict.fromkeys(port_ids, status))
        self._status = {p: s for p, s in self._status.items() if p in self.ports}


def main(argv: list[str] | None = None) -> int:
    return base.main(OvsAgent, "stratus-ovs-agent", argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
