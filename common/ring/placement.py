"""The rebalance algorithm: which device holds each replica of each partition.

Goals, in order:
1. a partition never has two replicas on one device;
2. no device holds (much) more than its weight's share of replicas;
3. the replicas of a partition spread across regions, then zones, then hosts;
4. as few moves as possible: a partition moves at most one replica per rebalance,
   and not again within ``min_part_hours`` (unless its device was removed), so a
   rebalance never takes more than one copy of anything away at once.

The assignment is greedy over the unassigned slots in a (seeded) random order,
which keeps it deterministic for a given seed and fast for the ring sizes a
Stratus cloud uses.
"""

from __future__ import annotations

import array
import math
import random
from collections import Counter
from typing import Any

from common.ring.serialization import NONE_DEV


class PlacementError(ValueError):
    """The devices cannot hold the requested replicas (too few, or no weight)."""


class _Layout:
    """Working state for one rebalance."""

    def __init__(self, devs: list[dict[str, Any] | None], rows: list[array.array]):
        self.devs = devs
        self.rows = rows
        self.parts = len(rows[0]) if rows else 0
        self.active = {d["id"]: d for d in devs if d is not None and d.get("weight", 0) > 0}
        total_weight = sum(d["weight"] for d in self.active.values())
        slots = self.parts * len(rows)
        self.desired = {i: slots * d["weight"] / total_weight for i, d in self.active.items()}
        self.limit = {i: math.ceil(want) for i, want in self.desired.items()}
        self.assigned: Counter[int] = Counter()

    def tiers(self, dev_id: int) -> tuple[Any, Any, Any]:
        dev = self.active[dev_id]
        region = dev["region"]
        zone = (region, dev["zone"])
        return region, zone, (zone, dev["ip"])

    def part_devs(self, part: int, skip_replica: int | None = None) -> list[int]:
        return [row[part] for r, row in enumerate(self.rows)
                if r != skip_replica and row[part] != NONE_DEV]


def rebalance(devs: list[dict[str, Any] | None], rows: list[array.array],
              last_moved: array.array, min_part_hours: int, now_hours: int,
              rng: random.Random) -> int:
    """Reassign replicas in rows in place; return how many slots changed device.

    :raises PlacementError: fewer active devices than replicas, or none at all.
    """
    layout = _Layout(devs, rows)
    if not layout.active:
        raise PlacementError("no devices with weight > 0; add devices first")
    if len(layout.active) < len(rows):
        raise PlacementError(f"{len(rows)} replicas need at least {len(rows)} devices "
                             f"with weight > 0; have {len(layout.active)}")
    moved_parts: set[int] = set()
    unassigned = _clear_gone(layout, moved_parts)

    def movable(part: int) -> bool:
        return (part not in moved_parts
                and now_hours - last_moved[part] >= min_part_hours)

    unassigned += _fix_dispersion(layout, movable, moved_parts, rng)
    unassigned += _shed_overload(layout, movable, moved_parts, rng)
    changed = _assign(layout, unassigned, rng)
    for part in moved_parts:
        last_moved[part] = now_hours
    return changed


def _clear_gone(layout: _Layout, moved: set[int]) -> list[tuple[int, int]]:
    """Free slots on removed or zero-weight devices (and duplicate placements)."""
    freed = []
    for r, row in enumerate(layout.rows):
        for part in range(layout.parts):
            dev_id = row[part]
            if dev_id == NONE_DEV:  # never placed (new ring, more replicas): placed now
                freed.append((part, r))
                moved.add(part)
            elif dev_id not in layout.active or \
                    any(layout.rows[q][part] == dev_id for q in range(r)):
                row[part] = NONE_DEV
                freed.append((part, r))
                moved.add(part)
            else:
                layout.assigned[dev_id] += 1
    return freed


def _has_room_elsewhere(layout: _Layout, used: set[Any], level: int) -> bool:
    """Is there an active device with room in a region/zone this partition does not use?"""
    for dev_id in layout.active:
        if layout.tiers(dev_id)[level] not in used and \
                layout.assigned[dev_id] < layout.limit[dev_id]:
            return True
    return False


def _fix_dispersion(layout: _Layout, movable, moved: set[int],
                    rng: random.Random) -> list[tuple[int, int]]:
    """Free one replica of each partition bunched in a region/zone when a better one has room."""
    freed = []
    parts = list(range(layout.parts))
    rng.shuffle(parts)
    for part in parts:
        if not movable(part):
            continue
        placed = [(r, row[part]) for r, row in enumerate(layout.rows) if row[part] != NONE_DEV]
        for level in (0, 1):
            seen: Counter[Any] = Counter(layout.tiers(d)[level] for _, d in placed)
            crowded = [(r, d) for r, d in placed if seen[layout.tiers(d)[level]] > 1]
            if crowded and _has_room_elsewhere(layout, set(seen), level):
                # move the copy whose device is the most over its share
                r, dev_id = max(crowded, key=lambda rd: layout.assigned[rd[1]]
                                - layout.desired[rd[1]])
                layout.rows[r][part] = NONE_DEV
                layout.assigned[dev_id] -= 1
                freed.append((part, r))
                moved.add(part)
                break
    return freed


def _shed_overload(layout: _Layout, movable, moved: set[int],
                   rng: random.Random) -> list[tuple[int, int]]:
    """Free replicas from devices holding more than their share (new devices fill up)."""
    freed = []
    for dev_id in sorted(layout.active):
        excess = layout.assigned[dev_id] - layout.limit[dev_id]
        if excess <= 0:
            continue
        slots = [(part, r) for r, row in enumerate(layout.rows)
                 for part in range(layout.parts) if row[part] == dev_id]
        rng.shuffle(slots)
        for part, r in slots:
            if excess <= 0:
                break
            if movable(part):
                layout.rows[r][part] = NONE_DEV
                layout.assigned[dev_id] -= 1
                freed.append((part, r))
                moved.add(part)
                excess -= 1
    return freed


def _assign(layout: _Layout, slots: list[tuple[int, int]], rng: random.Random) -> int:
    """Give every free slot the best device; return the number of slots filled."""
    rng.shuffle(slots)
    # parts with the most replicas already placed are the most constrained: go first
    slots.sort(key=lambda s: -len(layout.part_devs(s[0])))
    dev_ids = sorted(layout.active)
    ties = {dev_id: rng.random() for dev_id in dev_ids}
    for part, r in slots:
        others = layout.part_devs(part, skip_replica=r)
        used = [Counter(layout.tiers(d)[level] for d in others) for level in range(3)]
        best, best_key = None, None
        for dev_id in dev_ids:
            if dev_id in others:
                continue
            region, zone, host = layout.tiers(dev_id)
            key = (layout.assigned[dev_id] >= layout.limit[dev_id],
                   used[0][region], used[1][zone], used[2][host],
                   (layout.assigned[dev_id] - layout.desired[dev_id]) / layout.desired[dev_id],
                   ties[dev_id])
            if best_key is None or key < best_key:
                best, best_key = dev_id, key
        assert best is not None  # guaranteed by the replicas <= devices check
        layout.rows[r][part] = best
        layout.assigned[best] += 1
    return len(slots)


def balance(devs: list[dict[str, Any] | None], rows: list[array.array]) -> float:
    """The worst device's deviation from its weight's share, in percent."""
    layout = _Layout(devs, rows)
    if not layout.active:
        return 0.0
    counts = Counter(dev for row in rows for dev in row if dev != NONE_DEV)
    return max(abs(counts[i] - want) * 100.0 / want for i, want in layout.desired.items())


def dispersion(devs: list[dict[str, Any] | None], rows: list[array.array]) -> int:
    """How many partitions use fewer zones than they could."""
    layout = _Layout(devs, rows)
    zones = {layout.tiers(i)[1] for i in layout.active}
    best = min(len(zones), len(rows))
    bad = 0
    for part in range(layout.parts):
        if len({layout.tiers(d)[1] for d in layout.part_devs(part)
                if d in layout.active}) < best:
            bad += 1
    return bad
