"""Allocations in SQL: atomic claims, release, re-keying for resizes, and usage per host.

A claim re-reads the host's generation and the SUM of its allocations, checks that the
request still fits, inserts the allocation and bumps the generation with
``UPDATE ... WHERE generation = <seen>``, all in one transaction. Every claim bumps the
generation, so if any other claim landed between our read and our write the guarded
UPDATE matches no row, the transaction rolls back and the caller re-reads: no host can
ever be filled past its capacity, whatever the number of schedulers or threads.

(Under SQLite the driver opens the transaction at the first write, so the reads happen
before it; the guard is what makes that safe, exactly as under PostgreSQL's READ
COMMITTED, where a concurrent UPDATE of the row is re-checked against the guard.)
"""

from __future__ import annotations

import dataclasses
import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controller.db.models.hosts import Allocation, ComputeNode
from controller.db.models.servers import Instance
from controller.runtime import Runtime
from controller.scheduler.host_state import Resources, from_row

LOG = logging.getLogger(__name__)


class ClaimError(Exception):
    """A claim was not made; nothing was written."""


class ClaimConflict(ClaimError):
    """Another claim (or an inventory update) changed the host since it was read: re-read
    and try again."""


class InsufficientResources(ClaimError):
    """The host no longer has room for the request (or is gone): try another host."""


@dataclasses.dataclass(frozen=True)
class Usage:
    """What is claimed on one host; instances counts live instances holding a claim."""

    vcpus: int
    memory_mb: int
    disk_gb: int
    instances: int


def claim(rt: Runtime, compute_node_id: int, consumer_uuid: str, project_id: str | None,
          vcpus: int, memory_mb: int, disk_gb: int) -> int:
    """Claim resources on one host for consumer_uuid, atomically.

    :returns: the host's new generation.
    :raises InsufficientResources: the host is gone, lacks room, or consumer_uuid already
        holds an allocation there.
    :raises ClaimConflict: another claim changed the host meanwhile (retry after a
        re-read).
    """
    wanted = Resources(vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb)
    try:
        with rt.db.session() as session:
            row = session.get(ComputeNode, compute_node_id)
            if row is None:
                raise InsufficientResources(f"compute node {compute_node_id} is gone")
            seen = row.generation  # read before the sum: any later claim bumps it
            used = session.execute(
                sa.select(sa.func.coalesce(sa.func.sum(Allocation.vcpus), 0),
                          sa.func.coalesce(sa.func.sum(Allocation.memory_mb), 0),
                          sa.func.coalesce(sa.func.sum(Allocation.disk_gb), 0))
                .where(Allocation.compute_node_id == compute_node_id)).one()
            state = from_row(row)
            state.used_vcpus, state.used_memory_mb, state.used_disk_gb = map(int, used)
            if not state.fits(wanted):
                raise InsufficientResources(
                    f"{row.host} has {state.free_vcpus:g} VCPUs, {state.free_memory_mb:g} MB "
                    f"RAM and {state.free_disk_gb:g} GB disk left; {consumer_uuid} asked for "
                    f"{vcpus}, {memory_mb} MB and {disk_gb} GB")
            session.add(Allocation(consumer_uuid=consumer_uuid, compute_node_id=row.id,
                                   project_id=project_id, vcpus=vcpus,
                                   memory_mb=memory_mb, disk_gb=disk_gb))
            session.flush()
            bumped = session.execute(
                sa.update(ComputeNode)
                .where(ComputeNode.id == compute_node_id, ComputeNode.generation == seen)
                .values(generation=seen + 1)
                .execution_options(synchronize_session=False))
            if bumped.rowcount != 1:
                raise ClaimConflict(f"{row.host} changed since generation {seen}")
            return seen + 1
    except sa_exc.IntegrityError as error:
        # The unique (consumer, node) pair: this consumer already holds a claim here.
        raise InsufficientResources(
            f"{consumer_uuid} already holds an allocation on compute node "
            f"{compute_node_id}") from error
    except sa_exc.OperationalError as error:
        # SQLite reports a lost race on its write lock as "database is locked".
        if "locked" in str(error.orig).lower():
            raise ClaimConflict(f"compute node {compute_node_id} is busy") from error
        raise


def release(rt: Runtime, consumer_uuid: str, compute_node_id: int | None = None) -> int:
    """Drop consumer_uuid's allocations (on one host, or everywhere).

    :returns: how many allocations were removed (0 when it held none).
    """
    query = sa.delete(Allocation).where(Allocation.consumer_uuid == consumer_uuid)
    if compute_node_id is not None:
        query = query.where(Allocation.compute_node_id == compute_node_id)
    with rt.db.session() as session:
        removed = session.execute(query).rowcount
    if removed:
        LOG.info("Released %d allocation(s) of %s", removed, consumer_uuid)
    return removed


def move(rt: Runtime, from_consumer: str, to_consumer: str) -> int:
    """Re-key from_consumer's allocations to to_consumer, replacing to_consumer's own.

    Resize bookkeeping: at the start ``move(instance, migration)`` lets the migration
    hold the old flavor on the source host; a revert is ``move(migration, instance)``
    (the instance's new-flavor claim on the destination goes, the old one comes back);
    a confirm is ``release(migration)``. When from_consumer holds nothing this is a
    no-op, so a repeated call cannot drop to_consumer's allocations.

    :returns: how many allocations were re-keyed.
    """
    with rt.db.session() as session:
        ids = session.scalars(sa.select(Allocation.id).where(
            Allocation.consumer_uuid == from_consumer)).all()
        if not ids:
            return 0
        session.execute(sa.delete(Allocation).where(Allocation.consumer_uuid == to_consumer))
        session.execute(sa.update(Allocation).where(Allocation.id.in_(ids))
                        .values(consumer_uuid=to_consumer)
                        .execution_options(synchronize_session=False))
    LOG.info("Moved %d allocation(s) from %s to %s", len(ids), from_consumer, to_consumer)
    return len(ids)


def allocations(rt: Runtime, consumer_uuid: str) -> list[dict]:
    """consumer_uuid's allocations: [{"compute_node_id", "host", "vcpus", "memory_mb",
    "disk_gb"}]."""
    query = (sa.select(Allocation, ComputeNode.host)
             .join(ComputeNode, ComputeNode.id == Allocation.compute_node_id)
             .where(Allocation.consumer_uuid == consumer_uuid).order_by(Allocation.id))
    with rt.db.session() as session:
        return [{"compute_node_id": a.compute_node_id, "host": host, "vcpus": a.vcpus,
                 "memory_mb": a.memory_mb, "disk_gb": a.disk_gb}
                for a, host in session.execute(query)]


def usage(rt: Runtime) -> dict[int, Usage]:
    """Claimed resources per compute node (every node, zero when nothing is claimed).

    instances counts allocations held by live instances (not by migrations).
    """
    live = sa.and_(Instance.uuid == Allocation.consumer_uuid, Instance.deleted.is_(False))
    query = (sa.select(ComputeNode.id,
                       sa.func.coalesce(sa.func.sum(Allocation.vcpus), 0),
                       sa.func.coalesce(sa.func.sum(Allocation.memory_mb), 0),
                       sa.func.coalesce(sa.func.sum(Allocation.disk_gb), 0),
                       sa.func.count(Instance.uuid))
             .outerjoin(Allocation, Allocation.compute_node_id == ComputeNode.id)
             .outerjoin(Instance, live)
             .group_by(ComputeNode.id))
    with rt.db.session() as session:
        return {node_id: Usage(int(vcpus), int(memory), int(disk), int(instances))
                for node_id, vcpus, memory, disk, instances in session.execute(query)}

