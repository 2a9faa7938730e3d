"""Volume actions: extend, bootable and read-only flags, admin status resets, retype.

Image metadata and uploads are in :mod:`controller.volume.volume_images`, the legacy
attach/detach steps in :mod:`controller.volume.legacy_attach`.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.volume import (
    Volume,
    VolumeAttachment,
    VolumePool,
)
from controller.runtime import Runtime
from controller.volume import agent, errors, quotas, scheduler, states, store, types

LOG = logging.getLogger(__name__)


def extend(rt: Runtime, ctx: RequestContext, volume_id: str, new_size: int,
           attached_ok: bool = False) -> None:
    """Grow a volume to new_size GiB (attached ones too when attached_ok, from 3.42).

    :raises BadRequest: not larger, too large, wrong status, or no room on its pool.
    :raises QuotaExceeded: the project is out of gigabytes.
    """
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id)
        states.check(states.VOLUME, "extend_attached" if attached_ok else "extend", row.id,
                     row.status)
        if new_size <= row.size:
            raise errors.InvalidInput(f"New size for extend must be greater than current "
                                      f"size. (current: {row.size}, extended: {new_size}).")
        if new_size > rt.conf.volume.max_volume_size_gb:
            raise errors.InvalidInput(f"Volume size {new_size}GB is larger than the largest "
                                      f"volume this cloud creates "
                                      f"({rt.conf.volume.max_volume_size_gb}GB).")
        old_size, pool_id, type_name = row.size, row.pool_id, row.volume_type.name
    delta = new_size - old_size
    quotas.check(rt, row.project_id, {"gigabytes": delta, f"gigabytes_{type_name}": delta},
                 new_size)
    scheduler.claim_extend(rt, row.id, pool_id, old_size, new_size)
    try:
        with rt.db.session() as session:
            row = store.volume(session, ctx, volume_id, lock=True)
            store.transition(session, row, states.VOLUME,
                             "extend_attached" if attached_ok else "extend")
    except exceptions.StratusError:
        scheduler.release_extend(rt, volume_id)
        raise
    try:
        agent.api(rt).extend_volume(ctx, row.backend_host, row.id, new_size)
    except Exception:  # noqa: BLE001 - the volume must not stay "extending"
        LOG.exception("could not ask %s to extend volume %s", row.backend_host, row.id)
        scheduler.release_extend(rt, volume_id)
        _set_status(rt, volume_id, states.ERROR_EXTENDING)
    rt.notify(ctx, "volume.resize.start", {"volume_id": volume_id, "size": new_size})


def _set_status(rt: Runtime, volume_id: str, status: str) -> None:
    with rt.db.session() as session:
        session.execute(sa.update(Volume).where(Volume.id == volume_id).values(
            status=status, updated_at=utcnow()))


def _admin_flag(rt: Runtime, ctx: RequestContext, volume_id: str, key: str,
                value: str | None) -> None:
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "set_flags", row.id, row.status)
        store.set_admin_metadata(session, row.id, key, value)
        row.updated_at = utcnow()


def set_bootable(rt: Runtime, ctx: RequestContext, volume_id: str, bootable: bool) -> None:
    """:raises NotFound: no such volume. :raises BadRequest: it is busy."""
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "set_flags", row.id, row.status)
        row.bootable, row.updated_at = bootable, utcnow()


def set_readonly(rt: Runtime, ctx: RequestContext, volume_id: str, readonly: bool) -> None:
    """Set the read-only flag new attachments follow. :raises NotFound, BadRequest."""
    _admin_flag(rt, ctx, volume_id, "readonly", str(readonly))


def reset_status(rt: Runtime, ctx: RequestContext, volume_id: str,
                 values: dict[str, Any]) -> None:
    """Admin: set status, attach_status and/or migration_status, unchecked.

    :raises NotFound: no such volume. :raises BadRequest: an unknown status.
    """
    status, attach_status = values.get("status"), values.get("attach_status")
    if status is not None and status not in states.VOLUME_STATUSES:
        raise errors.InvalidInput(f"Must specify a valid status (got {status!r}).")
    if attach_status is not None and attach_status not in (states.ATTACHED, states.DETACHED):
        raise errors.InvalidInput(f"Must specify a valid attach status (got "
                                  f"{attach_status!r}).")
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        if status is not None:
            row.status = status
        if attach_status is not None:
            row.attach_status = attach_status
            if attach_status == states.DETACHED:
                session.execute(sa.delete(VolumeAttachment).where(
                    VolumeAttachment.volume_id == row.id))
        if "migration_status" in values:
            row.migration_status = values["migration_status"]
        row.updated_at = utcnow()
    LOG.info("volume %s status reset to %s by %s", volume_id, values, ctx.user_id)


def retype(rt: Runtime, ctx: RequestContext, volume_id: str, new_type: str) -> None:
    """Change a volume's type when its pool also satisfies the new type (no migration).

    :raises NotFound: no such volume or type.
    :raises BadRequest: wrong status, or the new type needs another backend.
    :raises QuotaExceeded: the project is out of the new type's quota.
    """
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id)
        states.check(states.VOLUME, "retype", row.id, row.status)
        vtype = types.resolve(session, rt, ctx, new_type)
        pool = session.get(VolumePool, row.pool_id) if row.pool_id else None
        specs, name, size = vtype.specs, vtype.name, row.size
        if vtype.id == row.volume_type_id:
            return
        if pool is not None:
            state = scheduler.state_of(rt, pool, 0)
            if not scheduler.CapabilitiesFilter().passes(
                    state, scheduler.Request(size, row.availability_zone, specs)):
                raise errors.InvalidVolume(f"Volume {row.id} would have to move to another "
                                           f"backend to become a {name} volume; migration is "
                                           "not supported.")
    quotas.check(rt, row.project_id, {f"volumes_{name}": 1, f"gigabytes_{name}": size})
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        store.transition(session, row, states.VOLUME, "retype", volume_type_id=vtype.id)
