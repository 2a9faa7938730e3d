"""Namespace ports on the integration bridge: a veth per port.

The DHCP and L3 agents give each of their ports a veth pair named after the port
(``tap``/``qr-``/``qg-`` + port id[:11]) with the same name at both ends: one end in the
namespace, the other on the integration bridge with the ``iface-id`` the OVS agent wires
by. A veth, not an OVS internal port: with the userspace datapath an internal port is a
tap owned by ovs-vswitchd and would not survive its restart once moved into a namespace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from agents.network import ip_lib, ovs, validate

LOG = logging.getLogger(__name__)


OWNER_KEY = "stratus-owner"


def plug(bridge: ovs.Bridge, ns: str, dev: str, port: Mapping[str, Any],
         mtu: int | None, owner: str) -> bool:
    """Make dev exist in ns (MAC, MTU, up) with its peer on bridge; True when created.
    owner (``dhcp``, ``l3``) marks the bridge port so ``sweep`` finds leftovers.

    :raises HostCommandError: a command failed.
    :raises InvalidInput: the port's id or MAC is malformed.
    """
    port_id = validate.uuid(port["id"], "port id")
    mac = validate.mac(port["mac_address"])
    created = False
    if not ip_lib.link_exists(dev, ns):
        ip_lib.delete_link(dev)  # a host end left from a namespace that went away
        ip_lib.add_veth(dev, dev, ns, mtu=mtu)
        created = True
    link = ip_lib.links(ns)[dev]
    ip_lib.set_link(dev, ns, mac=mac if link.get("address") != mac else None,
                    mtu=mtu if mtu and link.get("mtu") != mtu else None, up=True)
    host_link = ip_lib.links(None).get(dev, {})
    if mtu and host_link.get("mtu") != mtu:
        ip_lib.set_link(dev, None, mtu=mtu)
    if "UP" not in host_link.get("flags", []):
        ip_lib.set_link(dev, None, up=True)
    bridge.add_port(dev, external_ids={"iface-id": port_id, "attached-mac": mac,
                                       "iface-status": "active", OWNER_KEY: owner})
    return created


def unplug(bridge: ovs.Bridge, ns: str | None, dev: str) -> None:
    """Remove dev from bridge and delete the pair (from ns, or the host end).

    :raises HostCommandError: a command failed.
    """
    bridge.del_port(dev)
    if ns and ns in ip_lib.list_namespaces():
        ip_lib.delete_link(dev, ns)
    ip_lib.delete_link(dev)


def namespace_devices(ns: str, prefixes: tuple[str, ...]) -> list[str]:
    """Devices in ns whose names start with one of prefixes.

    :raises HostCommandError: ip failed.
    """
    return sorted(name for name in ip_lib.links(ns) if name.startswith(prefixes))


def sweep(bridge: ovs.Bridge, owner: str, keep: set[str]) -> list[str]:
    """Unplug the bridge ports owner made that are not in keep (left behind when their
    namespace vanished under the agent); returns their names.

    :raises HostCommandError: a command failed.
    """
    removed = []
    for name, port in sorted(bridge.ports().items()):
        if port.external_ids.get(OWNER_KEY) == owner and name not in keep:
            LOG.info("removing orphan %s port %s from %s", owner, name, bridge.name)
            unplug(bridge, None, name)
            removed.append(name)
    return removed
