"""Confirm and revert of a resized server, and the agent's ``resize_finished`` reports.

confirm: resize_confirming -> agent drops what it kept -> the migration's claim (old
flavor) is released; vm back to its pre-resize state; migration confirmed.
revert: resize_reverting -> agent goes back to the old flavor and disk -> the
migration's claim moves back to the instance (replacing the new one); flavor = old;
migration reverted. Either failing leaves the server resized with both claims and the
migration finished, so the user can try again.
"""

from __future__ import annotations

import logging

from common.context import RequestContext
from controller.compute import states
from controller.conductor import actions, hosts, instances, migrations, power, resize, spec
from controller.db.models.servers import Instance
from controller.runtime import Runtime
from controller.scheduler import claims

LOG = logging.getLogger(__name__)

# step -> (task it runs under, migration status while running, notification family,
#          machine step on success, machine step on failure)
_STEPS = {
    "confirm": (states.RESIZE_CONFIRMING, "confirming", "resize_confirm",
                "resize.confirmed", "resize.confirm_failed"),
    "revert": (states.RESIZE_REVERTING, "reverting", "resize_revert",
               "resize.reverted", "resize.revert_failed"),
}


def run(rt: Runtime, ctx: RequestContext, row: Instance, step: str) -> None:
    """Ask the agent to confirm or revert (step) row's resize."""
    task, running, family, _, _ = _STEPS[step]
    if row.task_state != task:
        LOG.warning("%s_resize of %s ignored: task_state is %s", step, row.uuid,
                    row.task_state)
        return
    instances.notify(rt, ctx, row.uuid, f"instance.{family}.start")
    migration = migrations.latest(rt, row.uuid, "finished")
    if migration is None:
        failed(rt, ctx, row.uuid, None, step, "The server has no finished resize to "
                f"{step}.", code=409)
        return
    if not hosts.compute_up(rt, row.host):
        failed(rt, ctx, row.uuid, None, step, power.host_unreachable(row.host), code=409)
        return
    migrations.set_status(rt, migration.uuid, running)
    try:
        if step == "confirm":
            rt.compute_api.confirm_resize(ctx, row.host, row.uuid, migration.uuid)
        else:
            old_flavor = row.old_flavor or row.flavor
            rt.compute_api.revert_resize(ctx, row.host,
                                         spec.build(rt, ctx, row, flavor=old_flavor),
                                         migration.uuid)
    except Exception as exc:  # noqa: BLE001 - spec or bus failure: nothing happened
        LOG.exception("could not send %s_resize of %s to %s", step, row.uuid, row.host)
        failed(rt, ctx, row.uuid, migration.uuid, step,
                f"Could not send the {step} request to host {row.host}: {exc}")


def failed(rt: Runtime, ctx: RequestContext, uuid: str, migration_uuid: str | None,
           step: str, message: str, code: int = 500) -> None:
    """The confirm/revert did not happen: still resized, task cleared, fault recorded."""
    _, _, family, _, failure = _STEPS[step]
    row = instances.apply(rt, ctx, uuid, failure)
    if migration_uuid:
        migrations.set_status(rt, migration_uuid, "finished")
    if row is None:
        return
    actions.add_fault(rt, uuid, message, host=row.host, code=code)
    actions.finish(rt, ctx, uuid, error=True)
    instances.notify(rt, ctx, uuid, f"instance.{family}.error", {"fault": message})


def _done(rt: Runtime, ctx: RequestContext, uuid: str, migration_uuid: str,
          step: str) -> None:
    task, _, family, success, _ = _STEPS[step]
    row = instances.get(rt, uuid)
    if row is None or row.deleted or row.task_state != task:
        LOG.info("%s of %s not applied: no %s in flight", step, uuid, step)
        return
    # Claims first: once the server shows its final state the user may resize again.
    extra = {"system_metadata": resize.cleaned_system_metadata(row)}
    if step == "confirm":
        claims.release(rt, migration_uuid)
        migrations.set_status(rt, migration_uuid, "confirmed")
    else:
        claims.move(rt, migration_uuid, uuid)
        migrations.set_status(rt, migration_uuid, "reverted")
        old_flavor = row.old_flavor or row.flavor
        extra.update(flavor=old_flavor, flavor_id=old_flavor.get("id", row.flavor_id))
    if instances.apply(rt, ctx, uuid, success, extra,
                       restore=resize.old_vm_state(row)) is None:
        return  # deleted meanwhile: the delete released whatever was left
    actions.finish(rt, ctx, uuid)
    instances.notify(rt, ctx, uuid, f"instance.{family}.end")


def finished(rt: Runtime, ctx: RequestContext, uuid: str, migration_uuid: str, step: str,
             error: str | None = None) -> None:
    """The agent finished step "resize", "confirm" or "revert" (or failed it: error)."""
    migration = migrations.get(rt, migration_uuid)
    if migration is None or migration.instance_uuid != uuid:
        LOG.warning("resize_finished for %s names unknown migration %s", uuid,
                    migration_uuid)
        return
    if step == "resize":
        resize.resized(rt, ctx, uuid, migration_uuid, error)
    elif step not in _STEPS:
        LOG.warning("resize_finished for %s: unknown step %r", uuid, step)
    elif error:
        failed(rt, ctx, uuid, migration_uuid, step, f"{step.capitalize()} of the resize "
                f"failed: {error}")
    else:
        _done(rt, ctx, uuid, migration_uuid, step)
