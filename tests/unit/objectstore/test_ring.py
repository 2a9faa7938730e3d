"""Ring placement, zones, handoffs, rebalance, determinism and the file formats."""

from __future__ import annotations

import collections
import os

import pytest

from common.ring import Ring
from common.ring.builder import BuilderError, RingBuilder, parse_device
from common.ring.cli import ring_path
from common.ring.serialization import read_builder, read_ring, write_builder, write_ring


def make_builder(zones=(1, 1, 2, 2), part_power=8, replicas=3, weights=None):
    builder = RingBuilder(part_power, replicas, 0)
    for n, zone in enumerate(zones, start=1):
        builder.add_dev({"region": 1, "zone": zone, "ip": f"10.0.0.{n}", "port": 6200 + n,
                         "device": f"d{n}"}, (weights or {}).get(n, 100))
    return builder


def test_every_partition_has_distinct_devices_and_spans_both_zones():
    builder = make_builder()
    builder.rebalance(seed=1)
    ring = Ring(data=builder.get_ring())
    for part in range(ring.partition_count):
        nodes = ring.get_part_nodes(part)
        assert len({n["id"] for n in nodes}) == 3
        assert {n["zone"] for n in nodes} == {1, 2}


def test_weights_are_respected():
    builder = make_builder(zones=(1, 2, 3, 4, 5), weights={1: 150})
    builder.rebalance(seed=3)
    counts = builder.parts_per_dev()
    total = 256 * 3
    assert abs(counts[0] - total * 150 / 550) <= 2
    assert builder.balance() < 2.0


def test_placement_is_deterministic_for_a_seed():
    a, b = make_builder(), make_builder()
    a.rebalance(seed=42)
    b.rebalance(seed=42)
    assert [list(r) for r in a.rows] == [list(r) for r in b.rows]
    c = make_builder()
    c.rebalance(seed=43)
    assert [list(r) for r in a.rows] != [list(r) for r in c.rows]


def test_handoffs_prefer_other_zones_and_exclude_primaries():
    builder = make_builder(zones=(1, 1, 2, 2, 3, 3))
    builder.rebalance(seed=1)
    ring = Ring(data=builder.get_ring())
    for part in range(0, ring.partition_count, 17):
        primaries = ring.get_part_nodes(part)
        handoffs = list(ring.get_more_nodes(part))
        assert {h["id"] for h in handoffs}.isdisjoint({p["id"] for p in primaries})
        assert len(handoffs) == 3
        unused = {1, 2, 3} - {p["zone"] for p in primaries}
        if unused:
            assert handoffs[0]["zone"] in unused


def test_adding_a_device_moves_at_most_one_replica_per_partition():
    builder = make_builder(zones=(1, 2, 3))
    builder.rebalance(seed=1)
    before = [list(r) for r in builder.rows]
    builder.add_dev(parse_device("r1z4-10.0.0.9:6209/d9"), 100)
    moved = builder.rebalance(seed=1)
    assert moved > 0
    for part in range(builder.parts):
        changed = sum(before[r][part] != builder.rows[r][part] for r in range(3))
        assert changed <= 1
    counts = builder.parts_per_dev()
    assert counts[3] > 0 and builder.balance() < 5


def test_min_part_hours_holds_back_moves_but_not_removed_devices():
    builder = RingBuilder(6, 3, 24)
    for n in range(1, 5):
        builder.add_dev(parse_device(f"r1z{n}-10.0.0.{n}:6200/d{n}"), 100)
    builder.rebalance(seed=1, now=1_000_000)
    builder.add_dev(parse_device("r1z5-10.0.0.5:6200/d5"), 100)
    assert builder.rebalance(seed=1, now=1_000_000 + 3600) == 0  # too soon
    builder.remove_dev(0)
    builder.rebalance(seed=1, now=1_000_000 + 7200)
    assert all(dev != 0 for row in builder.rows for dev in row)


def test_too_few_devices_is_an_error():
    builder = RingBuilder(4, 3, 0)
    builder.add_dev(parse_device("r1z1-10.0.0.1:6200/d1"), 1)
    with pytest.raises(BuilderError):
        builder.rebalance()


@pytest.mark.parametrize("spec", ["z1-1.2.3.4:1/d", "r1z1-1.2.3.4/d", "r1z1-1.2.3.4:99999/d"])
def test_bad_device_specs(spec):
    with pytest.raises(BuilderError):
        parse_device(spec)


def test_ipv6_device_spec():
    assert parse_device("r1z2-[::1]:6201/sdb")["ip"] == "::1"


def test_files_round_trip_and_ring_reloads(tmp_path):
    builder = make_builder()
    builder.rebalance(seed=5)
    builder_file = str(tmp_path / "object.builder")
    write_builder(builder_file, builder.to_dict())
    again = RingBuilder.from_dict(read_builder(builder_file))
    assert [list(r) for r in again.rows] == [list(r) for r in builder.rows]
    ring_file = ring_path(builder_file)
    write_ring(ring_file, builder.get_ring())
    data = read_ring(ring_file)
    assert data.part_power == 8 and [list(r) for r in data.replica2part2dev] == \
        [list(r) for r in builder.rows]
    ring = Ring(ring_file, reload_interval=0)
    part = ring.get_part("AUTH_a", "c", "o")
    assert 0 <= part < 256
    builder.add_dev(parse_device("r1z3-10.0.0.9:6209/d9"), 100)
    builder.rebalance(seed=5)
    write_ring(ring_file, builder.get_ring())
    os.utime(ring_file, (1, 1))  # make sure the stamp differs even within one second
    assert len([d for d in ring.devs if d]) == 5


def test_partition_spread_is_even():
    ring = Ring(data=make_builder().get_ring() if False else _balanced_ring())
    parts = collections.Counter(ring.get_part("AUTH_a", "c", f"o{i}") for i in range(20000))
    assert len(parts) == ring.partition_count


def _balanced_ring():
    builder = make_builder()
    builder.rebalance(seed=1)
    return builder.get_ring()


def test_hash_salt_changes_placement():
    data = _balanced_ring()
    plain = Ring(data=data)
    salted = Ring(data=data, hash_suffix="secret")
    names = [f"o{i}" for i in range(50)]
    assert [plain.get_part("a", "c", n) for n in names] != \
        [salted.get_part("a", "c", n) for n in names]
