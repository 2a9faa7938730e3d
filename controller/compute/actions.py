"""Instance actions and their events (``server event list``), and the guarded task_state
transition every mutating server action starts with.

A transition is one UPDATE guarded by the states the action may start from (and, for a
non-admin, by the server being unlocked), so two concurrent requests can never both
start: the loser's UPDATE matches no row, and it re-reads the server to say why (409).
The instance action is recorded in the same transaction.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.compute import states
from controller.db.base import utcnow
from controller.db.models.servers import Instance, InstanceAction
from controller.runtime import Runtime

# Nova's names of the recorded actions (instance_actions.py), by states.ACTIONS key.
RECORD_NAMES = {"stop": "stop", "start": "start", "reboot_soft": "reboot",
                "reboot_hard": "reboot", "pause": "pause", "unpause": "unpause",
                "suspend": "suspend", "resume": "resume", "rebuild": "rebuild",
                "resize": "resize", "confirm_resize": "confirmResize",
                "revert_resize": "revertResize", "snapshot": "createImage",
                "delete": "delete", "lock": "lock", "unlock": "unlock"}


def locked_error(instance_uuid: str) -> exceptions.Conflict:
    return exceptions.Conflict(f"Instance {instance_uuid} is locked")


def record(session: orm.Session, ctx: RequestContext, instance_uuid: str, action: str,
           start: datetime.datetime | None = None) -> InstanceAction:
    """Add the instance action row for ctx's request (Nova's action_start)."""
    now = start or utcnow()
    row = InstanceAction(instance_uuid=instance_uuid, action=action,
                         request_id=ctx.request_id, project_id=ctx.project_id,
                         user_id=ctx.user_id, start_time=now, updated_at=now)
    session.add(row)
    return row


def find(session: orm.Session, instance_uuid: str,
         request_id: str) -> InstanceAction | None:
    """The latest action request_id started on instance_uuid, if any."""
    return session.scalars(sa.select(InstanceAction).where(
        InstanceAction.instance_uuid == instance_uuid,
        InstanceAction.request_id == request_id).order_by(InstanceAction.id.desc())).first()


def finish(rt: Runtime, instance_uuid: str, request_id: str, error: bool = False) -> None:
    """Mark the action of request_id finished ("Error" in message when it failed)."""
    with rt.db.session() as session:
        action = find(session, instance_uuid, request_id)
        if action is not None:
            action.finish_time = action.updated_at = utcnow()
            if error:
                action.message = "Error"


def _task_guard(allowed: frozenset[str | None]) -> sa.ColumnElement[bool]:
    named = [task for task in allowed if task is not None]
    condition = Instance.task_state.in_(named) if named else sa.false()
    if None in allowed:
        condition = sa.or_(condition, Instance.task_state.is_(None))
    return condition


def transition(rt: Runtime, ctx: RequestContext, instance_uuid: str, action: str,
               rule: states.Action | None = None, values: dict | None = None,
               record_as: str | None = None, check_lock: bool = True) -> Instance:
    """Apply action's task_state change to the server, guarded; record the action.

    rule defaults to states.ACTIONS[action]; values are extra columns to set in the
    same UPDATE; record_as names the instance action (None: RECORD_NAMES, "" none).

    :raises NotFound: the server is gone. :raises Conflict: locked (for a non-admin),
        or not in a state the action may start from; the message says which.
    """
    rule = rule or states.ACTIONS[action]
    updates = dict(values or {})
    if rule.sets_task is not None:
        updates["task_state"] = rule.sets_task
    updates["updated_at"] = utcnow()
    guard = [Instance.uuid == instance_uuid, Instance.deleted.is_(False),
             Instance.vm_state.in_(rule.vm_states), _task_guard(rule.task_states)]
    if check_lock and not ctx.is_admin:
        guard.append(Instance.locked.is_(False))
    with rt.db.session() as session:
        result = session.execute(sa.update(Instance).where(*guard).values(**updates)
                                 .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            _explain(session, ctx, instance_uuid, action, rule, check_lock)
        name = RECORD_NAMES.get(action, action) if record_as is None else record_as
        if name:
            record(session, ctx, instance_uuid, name)
        return session.get(Instance, instance_uuid, populate_existing=True)


def _explain(session: orm.Session, ctx: RequestContext, instance_uuid: str, action: str,
             rule: states.Action, check_lock: bool) -> None:
    """Raise the reason a guarded update matched no row."""
    row = session.get(Instance, instance_uuid, populate_existing=True)
    if row is None or row.deleted:
        raise exceptions.NotFound(f"Instance {instance_uuid} could not be found.")
    if check_lock and row.locked and not ctx.is_admin:
        raise locked_error(instance_uuid)
    check(action, rule, instance_uuid, row.vm_state, row.task_state)
    # The row changed between the UPDATE and this read; the caller may simply retry.
    raise exceptions.Conflict(f"Instance {instance_uuid} changed state while "
                              f"'{action}' was starting; try again.")


def check(action: str, rule: states.Action, instance_uuid: str, vm_state: str,
          task_state: str | None) -> None:
    """states.check for rules that are not in states.ACTIONS too (same 409 wording).

    :raises Conflict: vm_state/task_state is not allowed by rule.
    """
    if action in states.ACTIONS and states.ACTIONS[action] == rule:
        states.check(action, instance_uuid, vm_state, task_state)
        return
    if vm_state not in rule.vm_states:
        raise exceptions.Conflict(f"Cannot '{action}' instance {instance_uuid} while it is "
                                  f"in vm_state {vm_state}")
    if task_state not in rule.task_states:
        raise exceptions.Conflict(f"Cannot '{action}' instance {instance_uuid} while it is "
                                  f"in task_state {task_state}")


def revert(rt: Runtime, instance_uuid: str, task_state: str | None,
           previous: str | None, request_id: str) -> None:
    """Undo a transition whose cast failed: restore the task_state (if still ours) and
    mark the action failed."""
    with rt.db.session() as session:
        session.execute(sa.update(Instance).where(
            Instance.uuid == instance_uuid, Instance.task_state == task_state)
            .values(task_state=previous).execution_options(synchronize_session=False))
        action = find(session, instance_uuid, request_id)
        if action is not None:
            action.finish_time, action.message = utcnow(), "Error"


def list_(rt: Runtime, instance_uuid: str,
          changes_since: datetime.datetime | None = None) -> list[InstanceAction]:
    """The server's actions, newest first."""
    query = sa.select(InstanceAction).where(InstanceAction.instance_uuid == instance_uuid)
    if changes_since is not None:
        query = query.where(InstanceAction.updated_at >= changes_since)
    with rt.db.session() as session:
        return list(session.scalars(query.order_by(InstanceAction.start_time.desc(),
                                                   InstanceAction.id.desc())))


def get(rt: Runtime, instance_uuid: str, request_id: str) -> InstanceAction:
    """:raises NotFound: the server has no action of request_id."""
    with rt.db.session() as session:
        action = find(session, instance_uuid, request_id) \
            if len(request_id) <= 255 else None
    if action is None:
        raise exceptions.NotFound(f"Action for request_id {request_id} on instance "
                                  f"{instance_uuid} not found")
    return action
