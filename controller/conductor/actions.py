"""Instance faults and instance action events (``server show`` fault, ``server event``).

The API records the action (create, stop, resize...) under the request ID; the request
context travels with every RPC message, so the conductor and the agents file their
events under the same action by ``(instance uuid, ctx.request_id)``. A step with no
action (a periodic task's) is only logged.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from common.context import RequestContext
from controller.compute import actions as compute_actions
from controller.db.base import utcnow
from controller.db.models.servers import InstanceActionEvent, InstanceFault
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

SUCCESS = "Success"
ERROR = "Error"
_MESSAGE_MAX = 255


def add_fault(rt: Runtime, uuid: str, message: str, details: str | None = None,
              host: str | None = None, code: int = 500) -> None:
    """Record why an operation on uuid failed (the newest fault is the one shown)."""
    message = (message or "Unknown error").strip()
    if len(message) > _MESSAGE_MAX:
        details = f"{message}\n{details}" if details else message
        message = message[:_MESSAGE_MAX - 3] + "..."
    with rt.db.session() as session:
        session.add(InstanceFault(instance_uuid=uuid, code=code, message=message,
                                  details=details, host=host))
    LOG.warning("instance %s fault (%s): %s", uuid, code, message)


def event(rt: Runtime, ctx: RequestContext, uuid: str, name: str, phase: str,
          host: str | None = None, result: str | None = None,
          traceback: str | None = None) -> bool:
    """Start (phase "start") or finish (phase "finish", result Success | Error) the event
    name of the action ctx.request_id started on uuid. A finish without a start is
    recorded whole. Returns False when there is no such action.

    :raises ValueError: phase or result is not one of the above.
    """
    if phase not in ("start", "finish"):
        raise ValueError(f"phase must be start or finish, not {phase!r}")
    if phase == "finish" and result not in (SUCCESS, ERROR):
        raise ValueError(f"result must be {SUCCESS} or {ERROR}, not {result!r}")
    now = utcnow()
    with rt.db.session() as session:
        action = compute_actions.find(session, uuid, ctx.request_id)
        if action is None:
            LOG.debug("instance %s: no action for %s; event %s not recorded", uuid,
                      ctx.request_id, name)
            return False
        row = session.scalars(
            sa.select(InstanceActionEvent).where(InstanceActionEvent.action_id == action.id,
                                                 InstanceActionEvent.event == name,
                                                 InstanceActionEvent.finish_time.is_(None))
            .order_by(InstanceActionEvent.id.desc())).first()
        if phase == "start" or row is None:
            row = InstanceActionEvent(action_id=action.id, event=name, start_time=now,
                                      host=host)
            session.add(row)
        if phase == "finish":
            row.finish_time, row.result = now, result
            row.traceback = traceback
            if host:
                row.host = host
            if result == ERROR:
                action.message = ERROR
        action.updated_at = now
    return True


def finish(rt: Runtime, ctx: RequestContext, uuid: str, error: bool = False) -> None:
    """Mark the action of ctx.request_id on uuid finished (message Error on failure)."""
    compute_actions.finish(rt, uuid, ctx.request_id, error)
