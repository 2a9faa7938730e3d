"""Power actions (stop, start, reboot, pause, unpause, suspend, resume).

The API set the action's task_state; the conductor casts ``power_action`` to the host
and the agent reports the resulting vm/task/power states through ``instance_update``
(which emits the ``.end`` notification, see reports). When the host cannot be asked the
task is cleared again with a fault: the server keeps its state and the user may retry.
"""

from __future__ import annotations

import logging

from common.context import RequestContext
from controller.compute import states
from controller.conductor import actions, hosts, instances, machine
from controller.db.models.servers import Instance
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)


def host_unreachable(host: str | None) -> str:
    """The fault message when an instance's host cannot be asked to do anything."""
    if not host:
        return "The server has no host; it cannot run this action."
    return (f"The compute service on host {host} is down; try again when it is back "
            "(openstack compute service list shows its state).")


def run(rt: Runtime, ctx: RequestContext, row: Instance, action: str) -> None:
    """Carry out power action ``action`` on row (its task_state is the action's)."""
    family = machine.POWER_ACTIONS[action]
    task = states.ACTIONS[action].sets_task
    if row.task_state != task:
        LOG.warning("%s of %s ignored: task_state is %s, not %s", action, row.uuid,
                    row.task_state, task)
        return
    instances.notify(rt, ctx, row.uuid, f"instance.{family}.start")
    if not hosts.compute_up(rt, row.host):
        fail(rt, ctx, row.uuid, family, task, host_unreachable(row.host), code=409)
        return
    try:
        rt.compute_api.power_action(ctx, row.host, row.uuid, action)
    except Exception as exc:  # noqa: BLE001 - the bus refused the cast
        LOG.exception("could not send %s of %s to %s", action, row.uuid, row.host)
        fail(rt, ctx, row.uuid, family, task,
             f"Could not send {action} to host {row.host}: {exc}")


def fail(rt: Runtime, ctx: RequestContext, uuid: str, family: str, task: str | None,
         message: str, code: int = 500) -> None:
    """Clear the power task (the server keeps its vm_state) and record why."""
    if instances.apply(rt, ctx, uuid, "power.failed", only_from=[task]) is None:
        return
    actions.add_fault(rt, uuid, message, code=code)
    actions.finish(rt, ctx, uuid, error=True)
    instances.notify(rt, ctx, uuid, f"instance.{family}.error", {"fault": message})
