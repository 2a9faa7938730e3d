"""Where a volume goes: filter the live backend pools, weigh them by free space, claim one.

Pools are what the volume agents report (``report_capacity``); a pool's usage is the sum
of the claims (``volumes.allocated_gb``) of the live volumes placed on it. Filters are
classes with one ``passes`` each, enabled by ``[volume] scheduler_default_filters``; the
number of pools left after each is logged, and "No valid backend" names the filter that
removed the last one. The claim is a generation-guarded UPDATE of the pool row in the
same transaction that records the placement, so concurrent creates never over-commit.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from controller import services
from controller.db.base import utcnow
from controller.db.models.services import Service
from controller.db.models.volume import Volume, VolumePool
from controller.runtime import Runtime
from controller.volume import errors

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Request:
    """What a volume needs: size, zone, its type's extra specs, maybe a fixed pool."""

    size: int
    availability_zone: str
    specs: dict[str, str] = dataclasses.field(default_factory=dict)
    pool: str | None = None  # a snapshot or clone must stay on its source's pool


@dataclasses.dataclass(frozen=True)
class PoolState:
    """One pool as read for one decision (its generation guards the claim)."""

    id: int
    name: str
    backend: str
    zone: str
    total_gb: float
    reported_free_gb: float
    reserved_percentage: int
    ratio: float
    thin: bool
    allocated_gb: int
    generation: int
    capabilities: dict[str, Any]

    @property
    def capacity_gb(self) -> float:
        """What may be allocated in all: over-subscribed when thin, less the reserve."""
        virtual = self.total_gb * (self.ratio if self.thin else 1.0)
        return virtual * (1 - self.reserved_percentage / 100.0)

    @property
    def free_gb(self) -> float:
        return self.capacity_gb - self.allocated_gb


class AvailabilityZoneFilter:
    def passes(self, pool: PoolState, request: Request) -> bool:
        return pool.zone == request.availability_zone


class CapacityFilter:
    def passes(self, pool: PoolState, request: Request) -> bool:
        if pool.reported_free_gb <= pool.total_gb * pool.reserved_percentage / 100.0 \
                and request.size > 0:
            return False  # physically full, however thin
        return request.size <= pool.free_gb


class CapabilitiesFilter:
    """A volume type's extra specs against the pool's capabilities (Cinder's operators:
    ``<is>``, ``<in>``, ``<or>``, ``==``, ``>=``, ``<=``, else string equality)."""

    def passes(self, pool: PoolState, request: Request) -> bool:
        for key, wanted in request.specs.items():
            scope, _, name = key.rpartition(":")
            if scope not in ("", "capabilities"):
                continue  # specs for other consumers (RESKEY:..., qos...)
            if name not in pool.capabilities:
                return False
            if not matches(str(pool.capabilities[name]), wanted):
                return False
        return True


FILTERS = {cls.__name__: cls for cls in (AvailabilityZoneFilter, CapacityFilter,
                                         CapabilitiesFilter)}


def matches(value: str, wanted: str) -> bool:
    """Whether a capability value satisfies an extra spec requirement."""
    words = wanted.split()
    if len(words) >= 2 and words[0] == "<is>":
        return value.lower() == words[1].lower()
    if len(words) >= 2 and words[0] == "<in>":
        return words[1] in value
    if words and words[0] == "<or>":
        return value in words[1::2]
    if len(words) == 2 and words[0] in ("==", ">=", "<="):
        try:
            have, need = float(value), float(words[1])
        except ValueError:
            return False
        return {"==": have == need, ">=": have >= need, "<=": have <= need}[words[0]]
    return value == wanted


def _live_backends(session: orm.Session, rt: Runtime) -> tuple[set[str], set[str]]:
    """(backends whose agent heartbeats recently, backends an admin disabled)."""
    now = utcnow()
    up, disabled = set(), set()
    for row in session.scalars(sa.select(Service).where(
            Service.binary.in_(rt.conf.volume.agent_binaries))):
        if row.disabled:
            disabled.add(row.host)
        if services.is_up(rt, row, now):
            up.add(row.host)
    return up, disabled


def pools(session: orm.Session, rt: Runtime) -> list[PoolState]:
    """Every pool whose agent is up and enabled, with its current usage."""
    up, disabled = _live_backends(session, rt)
    down_after = datetime.timedelta(seconds=rt.conf.service.service_down_time)
    # Generations first, usage second: a claim committed in between bumps a generation
    # read here, so the stale usage can never be acted on (the guarded UPDATE fails).
    rows = list(session.scalars(sa.select(VolumePool).order_by(VolumePool.name)))
    usage = dict(session.execute(
        sa.select(Volume.pool_id, sa.func.sum(Volume.allocated_gb))
        .where(Volume.deleted.is_(False), Volume.pool_id.is_not(None))
        .group_by(Volume.pool_id)).all())
    result = []
    for row in rows:
        fresh = row.backend in up or utcnow() - row.updated_at < down_after
        if not fresh or row.backend in disabled:
            continue
        result.append(state_of(rt, row, int(usage.get(row.id) or 0)))
    return result


def state_of(rt: Runtime, row: VolumePool, allocated: int) -> PoolState:
    capabilities = {"multiattach": True, "QoS_support": False, "online_extend_support": False,
                    **(row.capabilities or {}),
                    "volume_backend_name": row.volume_backend_name,
                    "storage_protocol": row.storage_protocol,
                    "thin_provisioning_support": row.thin_provisioning_support}
    return PoolState(
        id=row.id, name=row.name, backend=row.backend,
        zone=capabilities.get("availability_zone", rt.conf.volume.storage_availability_zone),
        total_gb=row.total_capacity_gb, reported_free_gb=row.free_capacity_gb,
        reserved_percentage=row.reserved_percentage,
        ratio=row.max_over_subscription_ratio or rt.conf.volume.max_over_subscription_ratio,
        thin=row.thin_provisioning_support, allocated_gb=allocated,
        generation=row.generation, capabilities=capabilities)


def select(rt: Runtime, candidates: list[PoolState], request: Request) -> list[PoolState]:
    """The pools that pass every enabled filter, most free space first.

    :raises NoValidBackend: naming the filter that left no pool.
    """
    if request.pool is not None:
        candidates = [p for p in candidates if p.name == request.pool]
        if not candidates:
            raise errors.NoValidBackend(f"Pool {request.pool} of the source is not "
                                        "available (its volume agent is down or disabled).")
    if not candidates:
        raise errors.NoValidBackend("No volume backend is up: no volume agent has reported "
                                    "its capacity recently.")
    for name in rt.conf.volume.scheduler_default_filters:
        chosen = FILTERS.get(name)
        if chosen is None:
            LOG.warning("unknown volume scheduler filter %s ignored", name)
            continue
        flt = chosen()
        remaining = [pool for pool in candidates if flt.passes(pool, request)]
        LOG.debug("volume scheduler: %s left %d of %d pools", name, len(remaining),
                  len(candidates))
        if not remaining:
            raise errors.NoValidBackend(f"{name} removed every backend pool for a "
                                        f"{request.size} GiB volume "
                                        f"({_explain(name, candidates, request)}).")
        candidates = remaining
    return sorted(candidates, key=lambda pool: (-pool.free_gb, pool.name))


def _explain(name: str, candidates: list[PoolState], request: Request) -> str:
    if name == "CapacityFilter":
        best = max(candidates, key=lambda pool: pool.free_gb)
        return f"largest free space is {max(best.free_gb, 0):.0f} GiB on {best.name}"
    if name == "AvailabilityZoneFilter":
        return f"none in availability zone {request.availability_zone}"
    specs = ", ".join(f"{k}={v}" for k, v in sorted(request.specs.items()))
    return f"none matches the volume type's extra specs {specs}"


def _guarded_bump(session: orm.Session, pool: PoolState) -> bool:
    result = session.execute(
        sa.update(VolumePool).where(VolumePool.id == pool.id,
                                    VolumePool.generation == pool.generation)
        .values(generation=pool.generation + 1).execution_options(synchronize_session=False))
    return result.rowcount == 1


def claim(rt: Runtime, volume_id: str, request: Request) -> PoolState:
    """Place volume_id on the best pool for request and claim request.size GiB there.

    :raises NoValidBackend: no pool passes the filters (or claims kept conflicting).
    """
    for _attempt in range(rt.conf.volume.claim_attempts):
        with rt.db.session() as session:
            best = select(rt, pools(session, rt), request)[0]
            if not _guarded_bump(session, best):
                continue  # another claim changed the pool since we read it: re-read
            session.execute(sa.update(Volume).where(Volume.id == volume_id).values(
                host=best.name, pool_id=best.id, allocated_gb=request.size,
                updated_at=utcnow()).execution_options(synchronize_session=False))
        LOG.info("volume %s (%d GiB) placed on %s", volume_id, request.size, best.name)
        return best
    raise errors.NoValidBackend("Too many concurrent claims on the backend pools; retry.")


def claim_extend(rt: Runtime, volume_id: str, pool_id: int | None, old_size: int,
                 new_size: int) -> None:
    """Claim new_size - old_size more GiB for volume_id on its own pool.

    :raises NoValidBackend: the pool has not that much free space.
    """
    for _attempt in range(rt.conf.volume.claim_attempts):
        with rt.db.session() as session:
            row = session.get(VolumePool, pool_id) if pool_id is not None else None
            if row is None:
                raise errors.NoValidBackend(f"Volume {volume_id} is on no known backend pool.")
            used = session.scalar(sa.select(sa.func.sum(Volume.allocated_gb)).where(
                Volume.pool_id == row.id, Volume.deleted.is_(False))) or 0
            pool = state_of(rt, row, int(used))
            if new_size - old_size > pool.free_gb:
                raise errors.NoValidBackend(
                    f"Not enough free space on {pool.name} to extend volume {volume_id} to "
                    f"{new_size} GiB ({max(pool.free_gb, 0):.0f} GiB free).")
            if not _guarded_bump(session, pool):
                continue
            session.execute(sa.update(Volume).where(Volume.id == volume_id).values(
                allocated_gb=new_size).execution_options(synchronize_session=False))
        return
    raise errors.NoValidBackend("Too many concurrent claims on the backend pools; retry.")


def release_extend(rt: Runtime, volume_id: str) -> None:
    """An extend failed: the volume holds its (unchanged) size again."""
    with rt.db.session() as session:
        session.execute(sa.update(Volume).where(Volume.id == volume_id).values(
            allocated_gb=Volume.size).execution_options(synchronize_session=False))
