"""What compute agents report (they never touch the database): states, faults, events,
inventory, and the question "which instances should be on my host?".
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.conductor import actions, instances, machine
from controller.db.base import utcnow
from controller.db.models.servers import Instance
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

# What an agent may set on an instance; everything else is the conductor's business.
AGENT_FIELDS = frozenset({"vm_state", "task_state", "power_state", "launched_at",
                          "progress"})


def _parse_time(value: Any) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise exceptions.BadRequest(f"launched_at {value!r} is not an ISO 8601 time") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return parsed


def clean_updates(updates: dict[str, Any]) -> dict[str, Any]:
    """updates as an agent may send them: known fields, known states.

    :raises BadRequest: an unknown field or state (a bug in the agent: refuse it whole).
    """
    unknown = set(updates) - AGENT_FIELDS
    if unknown:
        raise exceptions.BadRequest(f"agents may not set {', '.join(sorted(unknown))}")
    clean = dict(updates)
    if "vm_state" in clean and clean["vm_state"] not in machine.VM_STATES:
        raise exceptions.BadRequest(f"unknown vm_state {clean['vm_state']!r}")
    if clean.get("task_state") is not None and clean["task_state"] not in machine.TASK_STATES:
        raise exceptions.BadRequest(f"unknown task_state {clean['task_state']!r}")
    if "power_state" in clean:
        clean["power_state"] = int(clean["power_state"])
        if clean["power_state"] not in machine.POWER_STATES:
            raise exceptions.BadRequest(f"unknown power_state {clean['power_state']!r}")
    if "launched_at" in clean:
        clean["launched_at"] = _parse_time(clean["launched_at"])
    if "progress" in clean:
        clean["progress"] = max(0, min(100, int(clean["progress"])))
    return clean


def _summary(row: Instance) -> dict[str, Any]:
    return {"uuid": row.uuid, "vm_state": row.vm_state, "task_state": row.task_state,
            "power_state": row.power_state, "deleted": bool(row.deleted)}


def instance_update(rt: Runtime, ctx: RequestContext, uuid: str, updates: dict[str, Any],
                    expected_task_state: list[str | None] | None = None
                    ) -> dict[str, Any] | None:
    """Apply an agent's report (guarded); None when the guard failed (stop working).

    A task the report ends completes its notification (instance.<family>.end, or
    .error when the server went to ERROR); a power state reported for an idle server
    moves its vm_state as :data:`machine.POWER_SYNC` says.

    :raises BadRequest: updates names a field or state an agent may not set (raised,
        not answered with None: None would tell the agent to undo its work).
    """
    try:
        clean = clean_updates(updates)
    except (TypeError, ValueError) as exc:
        raise exceptions.BadRequest(f"instance_update for {uuid}: {exc}") from exc
    change = instances.transition(rt, ctx, uuid, clean, expected_task_state)
    if change is None:
        return None
    row = change.row
    family = machine.TASK_NOTIFICATIONS.get(change.old_task_state or "")
    if family and change.changed and row.task_state is None:
        failed = row.vm_state == "error"
        actions.finish(rt, ctx, uuid, error=failed)
        instances.notify(rt, ctx, uuid, f"instance.{family}.{'error' if failed else 'end'}")
    target = machine.synced_vm_state(row.vm_state, row.task_state, row.power_state)
    if target is not None:
        LOG.info("instance %s: hypervisor reports power state %s while %s; now %s", uuid,
                 row.power_state, row.vm_state, target)
        row = instances.update(rt, ctx, uuid, {"vm_state": target}, [None]) or row
    return _summary(row)


def instance_fault(rt: Runtime, ctx: RequestContext, uuid: str, host: str, message: str,
                   details: str | None = None, code: int = 500) -> None:
    """Record a fault an agent reports (for a live or recently deleted instance)."""
    if instances.get(rt, uuid) is None:
        LOG.warning("fault reported for unknown instance %s: %s", uuid, message)
        return
    actions.add_fault(rt, uuid, message, details, host=host, code=code)


def action_event(rt: Runtime, ctx: RequestContext, uuid: str, event: str, host: str,
                 phase: str, result: str | None = None,
                 traceback: str | None = None) -> None:
    """File an agent's event under the action of ctx.request_id (ignored without one)."""
    try:
        actions.event(rt, ctx, uuid, event, phase, host=host, result=result,
                      traceback=traceback)
    except ValueError as exc:
        LOG.error("action_event for %s refused: %s", uuid, exc)


def instances_on_host(rt: Runtime, host: str) -> list[dict[str, Any]]:
    """Every live instance placed on host, plus those deleted within
    ``[conductor] deleted_instance_memory`` seconds (so the agent removes leftovers)."""
    since = utcnow() - datetime.timedelta(seconds=rt.conf.conductor.deleted_instance_memory)
    query = sa.select(Instance).where(
        Instance.host == host,
        sa.or_(Instance.deleted.is_(False), Instance.deleted_at >= since)).order_by(
        Instance.created_at)
    with rt.db.session() as session:
        return [_summary(row) for row in session.scalars(query)]
