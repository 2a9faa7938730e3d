"""Delete: the API set task deleting; the conductor removes the guest, then the row.

- no host (never scheduled, or failed to build): release claims, mark deleted now;
- host up: cast ``terminate_instance``; ``instance_deleted`` comes back and finishes;
- host down: "local delete": mark deleted and release claims now; the agent removes the
  domain when it starts again (its reconciliation sees the instance deleted).

The row is only marked deleted (vm_state deleted, deleted_at), never removed, so
``changes-since`` listings and an agent that was away still learn about it.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from common.context import RequestContext
from controller.compute import states
from controller.conductor import actions, hosts, instances, migrations, networking, volumes
from controller.db.models.servers import ServerGroupMember
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

EVENT = "conductor_delete_instance"


def delete_instance(rt: Runtime, ctx: RequestContext, uuid: str) -> None:
    """Start deleting uuid (task deleting already set by the API)."""
    row = instances.get(rt, uuid)
    if row is None or row.deleted:
        LOG.info("instance %s is already deleted", uuid)
        return
    if row.task_state != states.DELETING:
        LOG.warning("delete of %s ignored: task_state is %s, not deleting", uuid,
                    row.task_state)
        return
    # (instance.delete.start was emitted by the API when it set the task.)
    actions.event(rt, ctx, uuid, EVENT, "start", host=row.host)
    if not row.host:
        finish(rt, ctx, uuid)
        return
    if not hosts.compute_up(rt, row.host):
        LOG.warning("compute service on %s is down: deleting %s locally; the agent removes "
                    "the domain when it is back", row.host, uuid)
        finish(rt, ctx, uuid)
        return
    try:
        rt.compute_api.terminate_instance(ctx, row.host, uuid)
    except Exception:  # noqa: BLE001 - the bus refused the cast: delete locally
        LOG.exception("could not ask %s to terminate %s; deleting locally", row.host, uuid)
        finish(rt, ctx, uuid)


def finish(rt: Runtime, ctx: RequestContext, uuid: str, host: str | None = None) -> bool:
    """Release the claims, leave server groups, mark the row deleted (idempotent).

    Returns False when the instance was not being deleted (already done, or missing).
    """
    row = instances.get(rt, uuid)
    if row is None or (not row.deleted and row.task_state != states.DELETING):
        LOG.warning("instance %s is not being deleted; its claims stay", uuid)
        return False
    # The migrations' claims are the source side of a resize in flight.
    open_migrations = migrations.of_instance(rt, uuid)
    hosts.release_all(rt, uuid, open_migrations)
    for migration_uuid in open_migrations:
        migrations.set_status(rt, migration_uuid, "error")  # a no-op once final
    # Ports compute made go, the user's are unbound and kept (a failure is logged; the
    # next delete attempt or the reconciliation releases them).
    networking.release(rt, ctx, uuid)
    # Volumes are detached (available again) and those marked delete_on_termination
    # deleted; what fails stays mapped and the reconciliation finishes it.
    volumes.release_all(rt, ctx, uuid, row.host)
    with rt.db.session() as session:
        session.execute(sa.delete(ServerGroupMember)
                        .where(ServerGroupMember.instance_uuid == uuid))
    row = instances.apply(rt, ctx, uuid, "delete.done")
    if row is None:
        LOG.info("instance %s was not being deleted; nothing more to do", uuid)
        return False
    actions.event(rt, ctx, uuid, EVENT, "finish", host=host, result=actions.SUCCESS)
    actions.finish(rt, ctx, uuid)
    instances.notify(rt, ctx, uuid, "instance.delete.end")
    LOG.info("instance %s deleted", uuid)
    return True


def instance_deleted(rt: Runtime, ctx: RequestContext, uuid: str, host: str) -> None:
    """The agent on host removed the domain and files: finish the delete."""
    row = instances.get(rt, uuid)
    if row is not None and not row.deleted and row.host and row.host != host:
        LOG.warning("instance_deleted for %s from %s, but it lives on %s; ignored", uuid,
                    host, row.host)
        return
    finish(rt, ctx, uuid, host)
