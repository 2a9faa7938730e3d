"""The bridges around the integration bridge: physical (external) bridges per physical
network and the tunnel bridge, with the patch ports and VXLAN ports that join them.

The OVS agent asks for their wiring (``setup``), the ofports its flows need, and the
tunnel ports that match the peers the network service names (``sync_tunnels``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from agents.network import ovs, validate
from agents.network.exception import InvalidInput

LOG = logging.getLogger(__name__)


def patch_name(prefix: str, bridge: str) -> str:
    """Patch port name ``<prefix><bridge>`` cut to the 15 characters a device may have."""
    return validate.ifname((prefix + bridge)[:15], "patch port name")


def tunnel_port_name(remote_ip: str) -> str:
    """``vxlan-<8 hex digits>`` after the peer's address."""
    addr = ipaddress.ip_address(remote_ip)
    digest = addr.packed.hex() if addr.version == 4 else \
        hashlib.sha1(addr.packed).hexdigest()[:8]
    return f"vxlan-{digest}"


@dataclasses.dataclass
class Patches:
    """Ofports of the patch ports, on both sides."""

    int_side: dict[str, int] = dataclasses.field(default_factory=dict)  # physnet -> ofport
    phys_side: dict[str, int] = dataclasses.field(default_factory=dict)
    tunnel: tuple[int, int] | None = None  # (on the integration bridge, on the tunnel one)


class OuterBridges:
    """The physical bridges (by physical network) and the tunnel bridge."""

    def __init__(self, int_br: ovs.Bridge, mappings: Mapping[str, str],
                 tunnel_bridge: str | None, local_ip: str | None, vxlan_port: int = 4789):
        self.int_br = int_br
        self.physical = {physnet: ovs.Bridge(name) for physnet, name in mappings.items()}
        self.tunnel = ovs.Bridge(tunnel_bridge) if tunnel_bridge and local_ip else None
        self.local_ip = local_ip
        self.vxlan_port = vxlan_port
        self.patches = Patches()

    def setup(self) -> Patches:
        """Create the bridges and patch ports when missing; learn their ofports.

        :raises HostCommandError: ovs-vsctl failed.
        """
        self.int_br.ensure("secure")
        patches = Patches()
        for physnet, bridge in self.physical.items():
            bridge.ensure("secure")
            int_side, phy_side = patch_name("int-", bridge.name), patch_name("phy-", bridge.name)
            self.int_br.add_patch_port(int_side, phy_side)
            bridge.add_patch_port(phy_side, int_side)
            patches.int_side[physnet] = self.int_br.ports()[int_side].ofport
            patches.phys_side[physnet] = bridge.ports()[phy_side].ofport
        if self.tunnel is not None:
            self.tunnel.ensure("secure")
            int_side = patch_name("int-", self.tunnel.name)
            tun_side = patch_name("phy-", self.tunnel.name)
            self.int_br.add_patch_port(int_side, tun_side)
            self.tunnel.add_patch_port(tun_side, int_side)
            patches.tunnel = (self.int_br.ports()[int_side].ofport,
                              self.tunnel.ports()[tun_side].ofport)
        self.patches = patches
        return patches

    def sync_tunnels(self, peers: Iterable[Mapping[str, Any]]) -> list[int]:
        """One VXLAN port per peer (this host's own address skipped), the others
        removed; returns the ofports of the tunnel ports.

        :raises HostCommandError: ovs-vsctl failed.
        """
        if self.tunnel is None or self.local_ip is None:
            return []
        wanted = {}
        for peer in peers:
            try:
                addr = validate.ip(peer.get("ip"), "tunnel peer")
            except InvalidInput as exc:
                LOG.error("tunnel peer %s ignored: %s", peer.get("host"), exc)
                continue
            if addr != self.local_ip:
                wanted[tunnel_port_name(addr)] = addr
        have = {name: p for name, p in self.tunnel.ports().items() if p.type == "vxlan"}
        for name in sorted(set(have) - set(wanted)):
            LOG.info("removing tunnel %s", name)
            self.tunnel.del_port(name)
        for name, addr in sorted(wanted.items()):
            if name not in have:
                LOG.info("adding tunnel %s to %s", name, addr)
                self.tunnel.add_vxlan_port(name, addr, self.local_ip, self.vxlan_port)
        ports = self.tunnel.ports()
        return [ports[n].ofport for n in wanted if n in ports and ports[n].ofport > 0]

    def names(self) -> list[str]:
        return [b.name for b in self.physical.values()] + (
            [self.tunnel.name] if self.tunnel is not None else [])
