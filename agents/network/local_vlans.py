"""Local VLAN ids of the networks on this host's integration bridge.

Each network with a port here gets one VLAN id (1..4094) for as long as it has one. The
id of a network is recorded on its ports (``other_config:net-id`` next to the port's
``tag``), so an agent that restarts takes the same ids again and no port changes VLAN
(and no packet is lost) across the restart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from agents.network.exception import NetworkAgentError

LOG = logging.getLogger(__name__)

FIRST, LAST = 1, 4094


class LocalVlans:
    """network id -> local VLAN id."""

    def __init__(self) -> None:
        self._by_net: dict[str, int] = {}

    def __contains__(self, network_id: str) -> bool:
        return network_id in self._by_net

    def get(self, network_id: str) -> int | None:
        return self._by_net.get(network_id)

    def items(self) -> list[tuple[str, int]]:
        return sorted(self._by_net.items(), key=lambda item: item[1])

    def recover(self, network_id: str, lvid: int) -> bool:
        """Take lvid for network_id as found on the bridge; False when the id is out of
        range or already another network's (that port is then re-tagged)."""
        if not FIRST <= lvid <= LAST or network_id in self._by_net:
            return self._by_net.get(network_id) == lvid
        if lvid in self._by_net.values():
            LOG.warning("local VLAN %s is claimed by two networks; %s gets a new one",
                        lvid, network_id)
            return False
        self._by_net[network_id] = lvid
        return True

    def allocate(self, network_id: str) -> int:
        """The network's VLAN id, allocating the lowest free one.

        :raises NetworkAgentError: all 4094 ids are in use.
        """
        if network_id in self._by_net:
            return self._by_net[network_id]
        used = set(self._by_net.values())
        for lvid in range(FIRST, LAST + 1):
            if lvid not in used:
                self._by_net[network_id] = lvid
                LOG.info("network %s uses local VLAN %s", network_id, lvid)
                return lvid
        raise NetworkAgentError("no free local VLAN id: this host carries 4094 networks")

    def release_except(self, network_ids: Iterable[str]) -> list[str]:
        """Release the ids of networks not in network_ids; returns those released."""
        keep = set(network_ids)
        gone = [net for net in self._by_net if net not in keep]
        for net in gone:
            LOG.info("network %s releases local VLAN %s", net, self._by_net.pop(net))
        return gone
