"""The conductor's periodic reconciliation: no instance stays in a transient state forever.

Rules (each one query, each instance handled through the workflows' own functions):

- BUILD on a host whose compute service is down: the build failed there (claim
  released, rescheduled elsewhere or ERROR);
- scheduling with no host for longer than ``[conductor] build_timeout``: ERROR;
- a task unchanged for longer than ``[conductor] task_timeout``: on an up host the agent
  is asked again once where the step is safe to repeat (:data:`REASK`), then the task
  is cleared with a fault (:data:`GIVE_UP`); a delete on a down host is finished locally;
- a resize whose server left VERIFY_RESIZE another way (a stop) is closed as confirmed;
- claims held by deleted instances or finished migrations are released.

Power state drift needs no rule here: the agents report it (``instance_update``).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable

import sqlalchemy as sa

from common.context import RequestContext
from controller.compute import states
from controller.conductor import (
    actions,
    build,
    delete,
    hosts,
    instances,
    machine,
    migrations,
    networking,
    power,
    resize,
    resize_confirm,
    snapshot,
    spec,
    volume_sweep,
)
from controller.db.base import utcnow
from controller.db.models.hosts import Allocation
from controller.db.models.servers import Instance, Migration
from controller.runtime import Runtime
from controller.scheduler import claims

LOG = logging.getLogger(__name__)

REASKED_KEY = "task_reasked_at"
# Progress since the re-ask shows as a later updated_at; the re-ask's own write lands a
# moment after its timestamp, hence the slack.
_REASK_SLACK = datetime.timedelta(seconds=5)

# task_state -> the power action to send again (the driver makes repeats no-ops).
_POWER_BY_TASK = {
    states.POWERING_OFF: "stop", states.POWERING_ON: "start",
    **dict.fromkeys(states.SOFT_REBOOT_STATES, "reboot_soft"),
    **dict.fromkeys(states.HARD_REBOOT_STATES, "reboot_hard"),
    states.PAUSING: "pause", states.UNPAUSING: "unpause", states.SUSPENDING: "suspend",
    states.RESUMING: "resume",
}


def _reask_power(rt: Runtime, ctx: RequestContext, row: Instance) -> None:
    rt.compute_api.power_action(ctx, row.host, row.uuid, _POWER_BY_TASK[row.task_state])


def _reask_delete(rt: Runtime, ctx: RequestContext, row: Instance) -> None:
    rt.compute_api.terminate_instance(ctx, row.host, row.uuid)


def _reask_build(rt: Runtime, ctx: RequestContext, row: Instance) -> None:
    rt.compute_api.build_and_run_instance(ctx, row.host, spec.build(rt, ctx, row),
                                          attempt=len(build.tried_hosts(row)))


# Steps the agent may safely be asked to run again (all idempotent on the host).
REASK: dict[str, Callable[[Runtime, RequestContext, Instance], None]] = {
    **dict.fromkeys(_POWER_BY_TASK, _reask_power),
    states.DELETING: _reask_delete,
    states.SPAWNING: _reask_build,
}


def _give_up_power(rt: Runtime, ctx: RequestContext, row: Instance, why: str) -> None:
    family = machine.POWER_ACTIONS[_POWER_BY_TASK[row.task_state]]
    power.fail(rt, ctx, row.uuid, family, row.task_state, why)


def _give_up_resize(rt: Runtime, ctx: RequestContext, row: Instance, why: str) -> None:
    migration_uuid = (row.system_metadata or {}).get(resize.MIGRATION_KEY)
    resize.fail(rt, ctx, row.uuid, migration_uuid, why,
                claimed=row.task_state != states.RESIZE_PREP)


def _give_up_verify(rt: Runtime, ctx: RequestContext, row: Instance, why: str) -> None:
    step = "confirm" if row.task_state == states.RESIZE_CONFIRMING else "revert"
    migration = migrations.latest(rt, row.uuid, "confirming", "reverting")
    resize_confirm.failed(rt, ctx, row.uuid, migration.uuid if migration else None, step,
                          why)


def _give_up_other(rt: Runtime, ctx: RequestContext, row: Instance, why: str) -> None:
    step = "rebuild.error" if row.task_state == states.REBUILD_SPAWNING else "task.expired"
    if instances.apply(rt, ctx, row.uuid, step, only_from=[row.task_state]) is not None:
        actions.add_fault(rt, row.uuid, why, host=row.host)


# How a task nobody answered ends (the instance keeps a usable state plus a fault).
GIVE_UP: dict[str, Callable[[Runtime, RequestContext, Instance, str], None]] = {
    **dict.fromkeys(_POWER_BY_TASK, _give_up_power),
    states.DELETING: lambda rt, ctx, row, why: delete.finish(rt, ctx, row.uuid),
    **dict.fromkeys(machine.BUILD_ON_HOST, lambda rt, ctx, row, why: build.build_failed(
        rt, ctx, row.uuid, row.host, why, reschedule=False)),
    **dict.fromkeys(states.SNAPSHOT_STATES, lambda rt, ctx, row, why: snapshot.finished(
        rt, ctx, row.uuid, (row.system_metadata or {}).get(snapshot.IMAGE_KEY, ""), why)),
    **dict.fromkeys(states.RESIZE_STATES, _give_up_resize),
    states.RESIZE_CONFIRMING: _give_up_verify,
    states.RESIZE_REVERTING: _give_up_verify,
}


# Tasks cleared even when their host is down: nothing the host could still do to them
# matters more than the user getting the server back (a delete finishes locally).
_GIVE_UP_WHEN_DOWN = frozenset({*_POWER_BY_TASK, states.DELETING, *states.SNAPSHOT_STATES})


@dataclasses.dataclass
class Report:
    """What one pass did (for logs and tests)."""

    builds_on_dead_hosts: int = 0
    scheduling_timeouts: int = 0
    tasks_reasked: int = 0
    tasks_expired: int = 0
    claims_released: int = 0
    servers_with_ports_released: int = 0
    resizes_closed: int = 0


def _rows(rt: Runtime, *conditions) -> list[Instance]:
    query = (sa.select(Instance).where(Instance.deleted.is_(False), *conditions)
             .order_by(Instance.updated_at).limit(rt.conf.conductor.periodic_batch_size))
    with rt.db.session() as session:
        return list(session.scalars(query))


def _ago(seconds: int) -> datetime.datetime:
    return utcnow() - datetime.timedelta(seconds=seconds)


def builds_on_dead_hosts(rt: Runtime, ctx: RequestContext, report: Report) -> None:
    down = hosts.down_computes(rt)
    if not down:
        return
    for row in _rows(rt, Instance.vm_state == states.BUILDING,
                     Instance.task_state.in_(machine.BUILD_ON_HOST), Instance.host.in_(down)):
        report.builds_on_dead_hosts += 1
        build.build_failed(rt, ctx, row.uuid, row.host,
                           f"The compute service on host {row.host} went down while "
                           "building this server.", reschedule=True)


def scheduling_timeouts(rt: Runtime, ctx: RequestContext, report: Report) -> None:
    timeout = rt.conf.conductor.build_timeout
    for row in _rows(rt, Instance.task_state == states.SCHEDULING, Instance.host.is_(None),
                     Instance.updated_at < _ago(timeout)):
        report.scheduling_timeouts += 1
        build.fail(rt, ctx, row.uuid, f"Build timed out: the server was not scheduled "
                   f"within {timeout} seconds.")


def stale_tasks(rt: Runtime, ctx: RequestContext, report: Report) -> None:
    timeout = rt.conf.conductor.task_timeout
    rows = _rows(rt, Instance.task_state.is_not(None), Instance.task_state != states.SCHEDULING,
                 Instance.updated_at < _ago(timeout))
    up_hosts = hosts.up_computes(rt) if rows else set()
    for row in rows:
        why = (f"Task {row.task_state} got no answer from host {row.host} within "
               f"{timeout} seconds; it was abandoned.")
        up = row.host in up_hosts
        if not up and row.task_state not in _GIVE_UP_WHEN_DOWN:
            continue  # the host may come back and finish it (builds: the rule above)
        if up and row.task_state in REASK and not _reasked_already(row):
            try:
                REASK[row.task_state](rt, ctx, row)
            except Exception:  # noqa: BLE001 - giving up comes at the next stall
                LOG.exception("could not ask %s again about %s", row.host, row.uuid)
            _mark_reasked(rt, ctx, row)
            report.tasks_reasked += 1
            continue
        report.tasks_expired += 1
        LOG.warning("instance %s: %s", row.uuid, why)
        GIVE_UP.get(row.task_state, _give_up_other)(rt, ctx, row, why)


def _reasked_already(row: Instance) -> bool:
    stamp = (row.system_metadata or {}).get(REASKED_KEY)
    if not stamp:
        return False
    try:
        when = datetime.datetime.fromisoformat(stamp)
    except ValueError:
        return False
    # Any write after the re-ask (progress, another task) makes it a fresh stall.
    return row.updated_at is not None and row.updated_at - when <= _REASK_SLACK


def _mark_reasked(rt: Runtime, ctx: RequestContext, row: Instance) -> None:
    metadata = {**(row.system_metadata or {}), REASKED_KEY: utcnow().isoformat()}
    instances.update(rt, ctx, row.uuid, {"system_metadata": metadata}, [row.task_state])


def abandoned_resizes(rt: Runtime, ctx: RequestContext, report: Report) -> None:
    """Close resizes whose server left VERIFY_RESIZE another way (stopped, reset...):
    it runs the new flavor, so the resize is as good as confirmed: the old flavor's
    claim goes and the agent may drop what it kept for a revert."""
    query = (sa.select(Migration.uuid, Instance.uuid, Instance.host)
             .join(Instance, Instance.uuid == Migration.instance_uuid)
             .where(Migration.status == "finished", Instance.deleted.is_(False),
                    Instance.vm_state != states.RESIZED, Instance.task_state.is_(None))
             .limit(rt.conf.conductor.periodic_batch_size))
    with rt.db.session() as session:
        rows = session.execute(query).all()
    up_hosts = hosts.up_computes(rt) if rows else set()
    for migration_uuid, uuid, host in rows:
        if not migrations.set_status(rt, migration_uuid, "confirmed"):
            continue
        report.resizes_closed += 1
        claims.release(rt, migration_uuid)
        row = instances.get(rt, uuid)
        instances.update(rt, ctx, uuid, {
            "old_flavor": None, "new_flavor": None,
            "system_metadata": resize.cleaned_system_metadata(row)}, [None])
        if host in up_hosts:
            try:
                rt.compute_api.confirm_resize(ctx, host, uuid, migration_uuid)
            except Exception:  # noqa: BLE001 - only disk space is at stake
                LOG.exception("could not ask %s to drop the pre-resize copy of %s", host,
                              uuid)


def orphan_ports(rt: Runtime, ctx: RequestContext, report: Report) -> None:
    """Release the ports still held by deleted servers (a delete whose release failed)."""
    for uuid in networking.servers_with_orphan_ports(rt,
                                                     rt.conf.conductor.periodic_batch_size):
        if networking.release(rt, ctx, uuid):
            report.servers_with_ports_released += 1


def orphan_claims(rt: Runtime, report: Report) -> None:
    """Release claims whose consumer is a deleted instance or a finished migration."""
    deleted = sa.select(Instance.uuid).where(Instance.deleted.is_(True))
    finished = sa.select(Migration.uuid).where(
        Migration.status.in_(("confirmed", "reverted", "error")))
    with rt.db.session() as session:
        consumers = set(session.scalars(sa.select(Allocation.consumer_uuid).where(
            sa.or_(Allocation.consumer_uuid.in_(deleted),
                   Allocation.consumer_uuid.in_(finished)))))
    for consumer in consumers:
        report.claims_released += claims.release(rt, consumer)


def run_once(rt: Runtime) -> Report:
    """One reconciliation pass; each rule's failure is logged and the next one runs."""
    ctx = RequestContext.admin()
    report = Report()
    for rule in (builds_on_dead_hosts, scheduling_timeouts, stale_tasks, abandoned_resizes,
                 volume_sweep.orphan_mappings, orphan_ports):
        try:
            rule(rt, ctx, report)
        except Exception:  # noqa: BLE001 - one broken rule must not stop the others
            LOG.exception("reconciliation rule %s failed", rule.__name__)
    try:
        orphan_claims(rt, report)
    except Exception:  # noqa: BLE001
        LOG.exception("reconciliation of orphan claims failed")
    LOG.log(logging.INFO if any(dataclasses.astuple(report)) else logging.DEBUG,
            "reconciliation pass: %s", report)
    return report
