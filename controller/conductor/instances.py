"""The one guarded write every instance change goes through, and its notification.

``UPDATE instances SET ... WHERE uuid = ? AND deleted = false AND task_state IN (...)``:
the guard (``expected_task_state``) is how a workflow step yields to whatever came in
meanwhile (a delete, another task). The UPDATE also matches the vm/task/power state it
read, so the ``instance.update`` notification it emits carries the exact old and new
states; a concurrent writer only costs a re-read.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller.compute import server_metadata
from controller.conductor import machine
from controller.db.base import utcnow
from controller.db.models.servers import Instance
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

# Columns a workflow may write; "metadata" replaces the user metadata rows.
WRITABLE = frozenset({
    "vm_state", "task_state", "power_state", "progress", "host", "node", "launched_on",
    "launched_at", "terminated_at", "deleted", "deleted_at", "image_ref", "display_name",
    "flavor_id", "flavor", "old_flavor", "new_flavor", "system_metadata", "metadata",
    "availability_zone"})
_RETRIES = 5


@dataclasses.dataclass(frozen=True)
class Change:
    """An applied update: the states before it and the row after it."""

    old_vm_state: str
    old_task_state: str | None
    old_power_state: int
    row: Instance
    changed: bool


def elevated(ctx: RequestContext) -> RequestContext:
    """ctx with the admin role added: the conductor acts for the system, but keeps the
    caller's request ID (and so its logs and its instance action)."""
    if ctx.is_admin:
        return ctx
    return dataclasses.replace(ctx, roles=[*ctx.roles, "admin"])


def get(rt: Runtime, uuid: str) -> Instance | None:
    """The instance row, deleted or not (None when there never was one)."""
    with rt.db.session() as session:
        return session.get(Instance, uuid)


def _guard_list(expected: Iterable[str | None] | str | None) -> list[str | None] | None:
    if expected is None:
        return None
    if isinstance(expected, str):
        return [expected]
    return list(expected)


def _task_is(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


def transition(rt: Runtime, ctx: RequestContext, uuid: str, updates: Mapping[str, Any],
               expected_task_state: Iterable[str | None] | str | None = None
               ) -> Change | None:
    """Apply updates to the live instance uuid if its task_state is one of
    expected_task_state (None: any); emit ``instance.update`` when its vm, task or
    power state changed.

    Returns None when the instance is deleted (or missing) or the guard failed.

    :raises ValueError: updates names a column a workflow may not write.
    """
    unknown = set(updates) - WRITABLE
    if unknown:
        raise ValueError(f"not writable on an instance: {', '.join(sorted(unknown))}")
    guard = _guard_list(expected_task_state)
    for _ in range(_RETRIES):
        with rt.db.session() as session:
            row = session.get(Instance, uuid, populate_existing=True)
            if row is None or row.deleted or (guard is not None and row.task_state
                                              not in guard):
                return None
            old = (row.vm_state, row.task_state, row.power_state)
            values = {key: value for key, value in updates.items()
                      if key != "metadata" and getattr(row, key) != value}
            metadata = updates.get("metadata")
            if not values and metadata is None:
                return Change(*old, row=row, changed=False)
            values["updated_at"] = utcnow()
            result = session.execute(
                sa.update(Instance).where(
                    Instance.uuid == uuid, Instance.deleted.is_(False),
                    Instance.vm_state == old[0], _task_is(Instance.task_state, old[1]),
                    Instance.power_state == old[2]).values(**values)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                continue  # somebody wrote in between: read again, check the guard again
            if metadata is not None:
                server_metadata.replace_all(session, uuid, metadata)
            session.refresh(row)
            change = Change(*old, row=row, changed=True)
        if old != (change.row.vm_state, change.row.task_state, change.row.power_state):
            notify_update(rt, ctx, change)  # bookkeeping-only writes are not transitions
        return change
    LOG.warning("instance %s: gave up updating after %d concurrent writes", uuid, _RETRIES)
    return None


def update(rt: Runtime, ctx: RequestContext, uuid: str, updates: Mapping[str, Any],
           expected_task_state: Iterable[str | None] | str | None = None) -> Instance | None:
    """:func:`transition`, returning the updated row (None when the guard failed)."""
    change = transition(rt, ctx, uuid, updates, expected_task_state)
    return change.row if change else None


def apply(rt: Runtime, ctx: RequestContext, uuid: str, step: str,
          extra: Mapping[str, Any] | None = None, restore: str | None = None,
          only_from: Iterable[str | None] | None = None) -> Instance | None:
    """Apply the machine step ``step`` (plus extra data columns) to uuid.

    only_from narrows the step's guard (e.g. to the task a reconciliation saw).

    :raises ValueError: extra overrides a state the step sets, or restore is invalid.
    """
    guard, values = machine.updates_for(step, restore)
    clash = set(extra or {}) & set(values)
    if clash:
        raise ValueError(f"step {step} sets {', '.join(sorted(clash))} itself")
    if only_from is not None:
        allowed = set(only_from)
        guard = [task for task in guard if task in allowed]
    values.update(extra or {})
    if values.get("deleted"):
        now = utcnow()
        values.setdefault("deleted_at", now)
        values.setdefault("terminated_at", now)
    return update(rt, ctx, uuid, values, guard)


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def payload(row: Instance) -> dict[str, Any]:
    """The instance as notifications describe it (Nova's InstancePayload, in short)."""
    return {
        "uuid": row.uuid, "instance_id": row.uuid, "display_name": row.display_name,
        "tenant_id": row.project_id, "user_id": row.user_id, "host": row.host,
        "node": row.node, "state": row.vm_state, "task_state": row.task_state,
        "power_state": row.power_state, "image_uuid": row.image_ref,
        "flavor": {key: (row.flavor or {}).get(key)
                   for key in ("id", "name", "memory_mb", "vcpus", "root_gb")},
        "availability_zone": row.availability_zone, "launched_at": _iso(row.launched_at),
        "terminated_at": _iso(row.terminated_at), "deleted_at": _iso(row.deleted_at),
    }


def notify_update(rt: Runtime, ctx: RequestContext, change: Change) -> None:
    """``instance.update`` with the old and new vm/task/power states."""
    row = change.row
    body = payload(row)
    body["state_update"] = {
        "old_state": change.old_vm_state, "state": row.vm_state,
        "old_task_state": change.old_task_state, "new_task_state": row.task_state,
        "old_power_state": change.old_power_state, "power_state": row.power_state}
    rt.notify(ctx, "instance.update", body)


def notify(rt: Runtime, ctx: RequestContext, uuid: str, event_type: str,
           extra: Mapping[str, Any] | None = None) -> None:
    """Emit ``event_type`` (instance.create.start...) with the instance's payload."""
    row = get(rt, uuid)
    if row is None:
        return
    body = payload(row)
    body.update(extra or {})
    rt.notify(ctx, event_type, body)
