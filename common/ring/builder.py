"""The operator's model of a ring: devices, weights and the placement table.

A RingBuilder is saved as JSON (``*.builder``) between ``stratus-manage ring``
commands; ``rebalance`` recomputes placement and ``get_ring`` yields the compact
table written to ``*.ring.gz`` for the daemons.
"""

from __future__ import annotations

import array
import random
import re
import time
from typing import Any

from common.ring import placement
from common.ring.serialization import NONE_DEV, RingData

MAX_PART_POWER = 24
MAX_DEVS = NONE_DEV  # device ids are uint16 in the ring file; 0xFFFF means "none"

# r<region>z<zone>-<ip>:<port>/<device>, IPv6 in brackets: r1z1-[::1]:6201/disk1
_DEV_RE = re.compile(r"^r(\d+)z(\d+)-(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d+)/([^/\s]+)$")


class BuilderError(ValueError):
    """An operator error: bad arguments or an impossible request."""


def parse_device(spec: str) -> dict[str, Any]:
    """``r1z2-10.0.0.1:6201/disk1`` -> {region, zone, ip, port, device}.

    :raises BuilderError: spec does not have that shape.
    """
    match = _DEV_RE.match(spec)
    if not match:
        raise BuilderError(f"bad device {spec!r}; expected r<region>z<zone>-<ip>:<port>/<device>")
    region, zone, ip, port, device = match.groups()
    if not 0 < int(port) < 65536:
        raise BuilderError(f"bad port in {spec!r}")
    return {"region": int(region), "zone": int(zone), "ip": ip.strip("[]"),
            "port": int(port), "device": device}


class RingBuilder:
    """Devices, weights and placement of one ring (account, container or object)."""

    def __init__(self, part_power: int, replicas: int, min_part_hours: int):
        if not 0 < part_power <= MAX_PART_POWER:
            raise BuilderError(f"part_power must be 1..{MAX_PART_POWER}")
        if not 0 < replicas <= 16:
            raise BuilderError("replicas must be 1..16")
        if not 0 <= min_part_hours <= 8760:
            raise BuilderError("min_part_hours must be 0..8760")
        self.part_power = part_power
        self.replicas = replicas
        self.min_part_hours = min_part_hours
        self.devs: list[dict[str, Any] | None] = []
        self.rows: list[array.array] | None = None
        self.last_moved = array.array("I", [0] * (1 << part_power))
        self.version = 0
        self.dirty = False  # devices changed since the last rebalance

    @property
    def parts(self) -> int:
        return 1 << self.part_power

    # -------------------------------------------------------------- devices
    def add_dev(self, dev: dict[str, Any], weight: float) -> int:
        """Add a device; return its id.

        :raises BuilderError: duplicate ip:port/device, bad weight, or too many devices.
        """
        if weight < 0:
            raise BuilderError("weight must be >= 0")
        for other in self.devs:
            if other and (other["ip"], other["port"], other["device"]) == \
                    (dev["ip"], dev["port"], dev["device"]):
                raise BuilderError(f"device {dev['ip']}:{dev['port']}/{dev['device']} "
                                   f"already exists as id {other['id']}")
        # reuse the first hole left by a removed device, so ids stay small
        dev_id = next((i for i, d in enumerate(self.devs) if d is None), len(self.devs))
        if dev_id >= MAX_DEVS:
            raise BuilderError("too many devices")
        entry = {"id": dev_id, "region": dev["region"], "zone": dev["zone"], "ip": dev["ip"],
                 "port": dev["port"], "device": dev["device"], "weight": float(weight),
                 "meta": dev.get("meta", "")}
        if dev_id == len(self.devs):
            self.devs.append(entry)
        else:
            self.devs[dev_id] = entry
        self.dirty = True
        return dev_id

    def search(self, pattern: str) -> list[dict[str, Any]]:
        """Devices matching an id (``d3``), a device name, ``ip:port`` or ``ip:port/device``."""
        found = []
        for dev in self.devs:
            if dev is None:
                continue
            names = {f"d{dev['id']}", dev["device"], f"{dev['ip']}:{dev['port']}",
                     f"{dev['ip']}:{dev['port']}/{dev['device']}"}
            if pattern in names:
                found.append(dev)
        return found

    def set_weight(self, dev_id: int, weight: float) -> None:
        if weight < 0:
            raise BuilderError("weight must be >= 0")
        self._dev(dev_id)["weight"] = float(weight)
        self.dirty = True

    def remove_dev(self, dev_id: int) -> None:
        """Take a device out; its partitions move at the next rebalance."""
        self._dev(dev_id)
        self.devs[dev_id] = None
        self.dirty = True

    def _dev(self, dev_id: int) -> dict[str, Any]:
        if not 0 <= dev_id < len(self.devs) or self.devs[dev_id] is None:
            raise BuilderError(f"no device with id {dev_id}")
        return self.devs[dev_id]  # type: ignore[return-value]

    # -------------------------------------------------------------- placement
    def rebalance(self, seed: int | None = None, now: float | None = None) -> int:
        """Recompute placement; return how many replica slots moved.

        :raises BuilderError: the devices cannot hold the replicas.
        """
        if self.rows is None:
            self.rows = [array.array("H", [NONE_DEV] * self.parts)
                         for _ in range(self.replicas)]
        rng = random.Random(seed)
        now_hours = int((time.time() if now is None else now) // 3600)
        try:
            moved = placement.rebalance(self.devs, self.rows, self.last_moved,
                                        self.min_part_hours, now_hours, rng)
        except placement.PlacementError as exc:
            raise BuilderError(str(exc)) from exc
        self.version += 1
        self.dirty = False
        return moved

    def balance(self) -> float:
        return placement.balance(self.devs, self.rows) if self.rows else 0.0

    def dispersion(self) -> int:
        return placement.dispersion(self.devs, self.rows) if self.rows else 0

    def parts_per_dev(self) -> dict[int, int]:
        counts = {d["id"]: 0 for d in self.devs if d is not None}
        for row in self.rows or []:
            for dev_id in row:
                if dev_id in counts:
                    counts[dev_id] += 1
        return counts

    def get_ring(self) -> RingData:
        """The compact ring for the daemons.

        :raises BuilderError: never rebalanced.
        """
        if self.rows is None:
            raise BuilderError("the ring has never been rebalanced")
        devs = [None if d is None else {k: v for k, v in d.items() if k != "meta"}
                for d in self.devs]
        return RingData(self.part_power, self.replicas, devs,
                        [array.array("H", row) for row in self.rows], self.version)

    # -------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "stratus-ring-builder", "format": 1,
            "part_power": self.part_power, "replicas": self.replicas,
            "min_part_hours": self.min_part_hours, "version": self.version,
            "dirty": self.dirty, "devs": self.devs,
            "replica2part2dev": None if self.rows is None else [list(r) for r in self.rows],
            "last_part_moves": list(self.last_moved),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> RingBuilder:
        builder = cls(state["part_power"], state["replicas"], state["min_part_hours"])
        builder.version = state.get("version", 0)
        builder.dirty = state.get("dirty", False)
        builder.devs = state["devs"]
        if state.get("replica2part2dev") is not None:
            builder.rows = [array.array("H", row) for row in state["replica2part2dev"]]
        if state.get("last_part_moves"):
            builder.last_moved = array.array("I", state["last_part_moves"])
        return builder
