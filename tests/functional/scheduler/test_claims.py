"""Claims in real SQL (SQLite and PostgreSQL): capacity, the generation guard, races,
release, move and usage."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from controller.db import base as db_base
from controller.db.models.hosts import Allocation, ComputeNode
from controller.runtime import Runtime
from controller.scheduler import claims, host_state
from tests.functional.scheduler.conftest import add_host, add_instance


def _consumer() -> str:
    return str(uuid.uuid4())


def _generation(rt: Runtime, node_id: int) -> int:
    with rt.db.session() as session:
        return session.get(ComputeNode, node_id).generation


def test_claim_checks_capacity_and_bumps_generation(rt):
    node = add_host(rt, "claim-a", vcpus=2, memory_mb=2048, disk_gb=10,
                    reserved_host_memory_mb=512)
    before = _generation(rt, node)
    assert claims.claim(rt, node, _consumer(), "p1", 1, 1024, 5) == before + 1
    with pytest.raises(claims.InsufficientResources):  # 2048 - 512 reserved - 1024 used
        claims.claim(rt, node, _consumer(), "p1", 1, 1024, 1)
    with pytest.raises(claims.InsufficientResources):
        claims.claim(rt, node, _consumer(), "p1", 1, 512, 6)
    with pytest.raises(claims.InsufficientResources):
        claims.claim(rt, node, _consumer(), "p1", 2, 256, 1)
    with pytest.raises(claims.InsufficientResources):
        claims.claim(rt, 999999, _consumer(), "p1", 1, 1, 1)
    assert claims.claim(rt, node, _consumer(), "p1", 1, 512, 5) == before + 2
    assert claims.usage(rt)[node] == claims.Usage(2, 1536, 10, 0)


def test_a_consumer_claims_once_per_host(rt):
    node = add_host(rt, "claim-once")
    consumer = _consumer()
    claims.claim(rt, node, consumer, "p1", 1, 256, 1)
    with pytest.raises(claims.InsufficientResources, match="already holds"):
        claims.claim(rt, node, consumer, "p1", 1, 256, 1)
    assert claims.usage(rt)[node].memory_mb == 256


def test_generation_guard_detects_a_claim_in_between(rt, monkeypatch):
    """Another engine claims after our read and before our write: ours must not land."""
    node = add_host(rt, "claim-race", memory_mb=1024)
    other = Runtime(conf=rt.conf, db=db_base.Database(rt.db.url))
    real_from_row = host_state.from_row

    def from_row_then_race(row):
        state = real_from_row(row)
        monkeypatch.setattr(claims, "from_row", real_from_row)
        claims.claim(other, node, _consumer(), "p1", 1, 1024, 1)  # takes the whole host
        return state

    monkeypatch.setattr(claims, "from_row", from_row_then_race)
    loser = _consumer()
    try:
        with pytest.raises(claims.ClaimConflict):
            claims.claim(rt, node, loser, "p1", 1, 1024, 1)
    finally:
        other.db.dispose()
    assert claims.allocations(rt, loser) == []
    assert claims.usage(rt)[node].memory_mb == 1024


def test_twenty_threads_fill_exactly_the_room(rt):
    """Room for exactly 6: 20 racing claimers (two engines) end with 6 allocations."""
    room, threads = 6, 20
    node = add_host(rt, "claim-many", vcpus=64, memory_mb=room * 256, disk_gb=1000)
    runtimes = [rt, Runtime(conf=rt.conf, db=db_base.Database(rt.db.url))]
    results: list[str] = []
    start = threading.Barrier(threads)

    def racer(index: int) -> None:
        runtime = runtimes[index % 2]
        start.wait()
        for _ in range(50):  # bounded: every conflict means someone else succeeded
            try:
                claims.claim(runtime, node, _consumer(), "p1", 1, 256, 1)
                results.append("claimed")
                return
            except claims.ClaimConflict:
                continue
            except claims.InsufficientResources:
                results.append("full")
                return
        results.append("gave up")

    workers = [threading.Thread(target=racer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    runtimes[1].db.dispose()
    assert sorted(results) == ["claimed"] * room + ["full"] * (threads - room)
    with rt.db.session() as session:
        count, memory = session.execute(sa.select(
            sa.func.count(Allocation.id), sa.func.sum(Allocation.memory_mb)).where(
            Allocation.compute_node_id == node)).one()
    assert (count, memory) == (room, room * 256)


def test_release_and_move_keep_the_books(rt):
    node_a = add_host(rt, "move-a")
    node_b = add_host(rt, "move-b")
    instance = add_instance(rt, host="move-a")
    migration = _consumer()
    claims.claim(rt, node_a, instance, "p1", 1, 1024, 10)
    assert claims.usage(rt)[node_a] == claims.Usage(1, 1024, 10, 1)

    # Resize: the migration takes the source claim, the instance claims the destination.
    assert claims.move(rt, instance, migration) == 1
    assert claims.usage(rt)[node_a] == claims.Usage(1, 1024, 10, 0)
    claims.claim(rt, node_b, instance, "p1", 2, 2048, 20)
    assert claims.move(rt, instance, migration) == 1  # repeated: replaces, never duplicates
    assert [a["host"] for a in claims.allocations(rt, migration)] == ["move-b"]
    claims.claim(rt, node_a, _consumer(), "p1", 0, 0, 0)  # unrelated consumer is untouched

    # Revert: the migration's claim goes back to the instance; nothing is left on B.
    assert claims.move(rt, migration, instance) == 1
    assert claims.move(rt, migration, instance) == 0  # no-op: the instance keeps its claim
    assert [a["host"] for a in claims.allocations(rt, instance)] == ["move-b"]
    assert claims.release(rt, instance) == 1
    assert claims.release(rt, instance) == 0
    usage = claims.usage(rt)
    assert usage[node_b] == claims.Usage(0, 0, 0, 0)
    assert usage[node_a].instances == 0


def test_release_one_host_only(rt):
    node_a = add_host(rt, "rel-a")
    node_b = add_host(rt, "rel-b")
    consumer = _consumer()
    claims.claim(rt, node_a, consumer, "p1", 1, 128, 1)
    claims.claim(rt, node_b, consumer, "p1", 1, 128, 1)
    assert claims.release(rt, consumer, compute_node_id=node_a) == 1
    assert [a["host"] for a in claims.allocations(rt, consumer)] == ["rel-b"]


def test_usage_counts_live_instances_only(rt):
    node = add_host(rt, "usage-a")
    live = add_instance(rt, host="usage-a")
    gone = add_instance(rt, host="usage-a")
    with rt.db.session() as session:
        session.execute(sa.text("UPDATE instances SET deleted = :yes WHERE uuid = :uuid"),
                        {"yes": True, "uuid": gone})
    for consumer in (live, gone, _consumer()):
        claims.claim(rt, node, consumer, "p1", 1, 100, 1)
    assert claims.usage(rt)[node] == claims.Usage(3, 300, 3, 1)
