"""The conductor's reconciliation of volume mappings: no volume stays held by a server
that is gone, and no attach or detach stays half done.

- the mappings of a deleted server (its delete could not release them: the volume agent
  was down, say) are released again: attachment and export removed, the volume deleted
  when it was marked delete_on_termination;
- a mapping ``attaching`` or ``detaching`` unchanged for ``[conductor] task_timeout``
  (the conductor died in the middle) is finished: an attach is undone, a detach done.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller.compute import block_device_mappings as bdms
from controller.conductor import hosts, volumes
from controller.db.base import utcnow
from controller.db.models import block_devices as bdm_model
from controller.db.models.block_devices import BlockDeviceMapping
from controller.db.models.servers import Instance
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)


def orphan_mappings(rt: Runtime, ctx: RequestContext, report: Any = None) -> None:
    """One pass of both rules (the signature of the reconciliation's rules)."""
    batch = rt.conf.conductor.periodic_batch_size
    stale = utcnow() - datetime.timedelta(seconds=rt.conf.conductor.task_timeout)
    with rt.db.session() as session:
        gone = list(session.execute(
            sa.select(Instance.uuid, Instance.host).where(
                Instance.deleted.is_(True),
                Instance.uuid.in_(sa.select(BlockDeviceMapping.instance_uuid)))
            .limit(batch)))
        stuck = list(session.scalars(sa.select(BlockDeviceMapping).join(
            Instance, Instance.uuid == BlockDeviceMapping.instance_uuid).where(
            Instance.deleted.is_(False),
            BlockDeviceMapping.status.in_((bdm_model.ATTACHING, bdm_model.DETACHING)),
            BlockDeviceMapping.updated_at < stale).limit(batch)))
    for uuid, host in gone:
        if volumes.release_all(rt, ctx, uuid, host):
            LOG.info("released the volumes of deleted instance %s", uuid)
    for row in stuck:
        _finish(rt, ctx, row)


def _finish(rt: Runtime, ctx: RequestContext, row: BlockDeviceMapping) -> None:
    """Undo a stuck attach, complete a stuck detach (both end with the volume out)."""
    with rt.db.session() as session:
        host = session.scalar(sa.select(Instance.host).where(
            Instance.uuid == row.instance_uuid))
    LOG.warning("volume %s has been %s on instance %s since %s; finishing that",
                row.volume_id, row.status, row.instance_uuid, row.updated_at)
    try:
        if host and hosts.compute_up(rt, host):
            rt.compute_api.detach_volume(ctx, host, row.instance_uuid, row.volume_id,
                                         timeout=rt.conf.conductor.volume_attach_timeout)
        elif host:
            return  # the guest may still use it: wait for the host to come back
        volumes.release(rt, ctx, row, host)
    except Exception as exc:  # noqa: BLE001 - logged; the next pass tries again
        LOG.warning("volume %s on instance %s: not finished yet: %s", row.volume_id,
                    row.instance_uuid, getattr(exc, "message", exc))
        bdms.set_values(rt, row.id, {})  # touch: the next try waits a full timeout
        return
    bdms.remove(rt, row.id)
