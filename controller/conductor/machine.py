"""The conductor's state machine as data: every write of a workflow is one line here.

A :class:`Step` says from which task_states the write may happen (the guard of the
UPDATE, so a delete that came in meanwhile, or another task, wins) and what it sets.
The workflows name steps instead of spelling out states, so the whole life of a server
can be read in :data:`STEPS`, and a unit test can walk it.

The agents report their own results through ``instance_update`` (they set vm/task/power
state, guarded by the task they worked on); :data:`TASK_NOTIFICATIONS` says which
notification a task that ends that way completes, and :data:`POWER_SYNC` how a power
state the hypervisor reports moves a server that is idle (Nova's sync_power_states).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from controller.compute import states as s

# ------------------------------------------------- power states (Nova's numbers)
NOSTATE = 0
RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED = 7
POWER_STATES = frozenset({NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED})

VM_STATES = frozenset({s.ACTIVE, s.BUILDING, s.PAUSED, s.SUSPENDED, s.STOPPED, s.RESIZED,
                       s.SOFT_DELETED, s.DELETED, s.ERROR, s.SHELVED, s.SHELVED_OFFLOADED,
                       s.RESCUED})
TASK_STATES = frozenset(
    {*s.BUILD_STATES, *s.SNAPSHOT_STATES, *s.RESIZE_STATES, *s.SOFT_REBOOT_STATES,
     *s.HARD_REBOOT_STATES, s.RESIZE_REVERTING, s.RESIZE_CONFIRMING, s.PAUSING,
     s.UNPAUSING, s.SUSPENDING, s.RESUMING, s.POWERING_OFF, s.POWERING_ON, s.REBUILDING,
     s.REBUILD_SPAWNING, s.DELETING})

# A build that reached its host (claim held there), whatever step the agent is at.
BUILD_ON_HOST = (s.BLOCK_DEVICE_MAPPING, s.NETWORKING, s.SPAWNING)
RESIZE_IN_FLIGHT = (*s.RESIZE_STATES,)
POWER_TASKS = (s.POWERING_OFF, s.POWERING_ON, *s.SOFT_REBOOT_STATES, *s.HARD_REBOOT_STATES,
               s.PAUSING, s.UNPAUSING, s.SUSPENDING, s.RESUMING)


class _Restore:
    """Marker: the workflow supplies vm_state (the one saved before the task began)."""

    def __repr__(self) -> str:
        return "RESTORE"


RESTORE = _Restore()


@dataclasses.dataclass(frozen=True)
class Step:
    """From task_states ``guard`` (None = idle), write ``sets``.

    A value of :data:`RESTORE` in sets must be given by the caller, from ``restore_to``.
    """

    guard: tuple[str | None, ...]
    sets: Mapping[str, Any]
    restore_to: frozenset[str] = frozenset()


_ERROR = {"vm_state": s.ERROR, "task_state": None}
_IDLE = {"task_state": None}

# One line per write a workflow makes. Agents' own reports are not here: they are
# guarded by the agent with the task it was asked to run (see reports.instance_update).
STEPS: dict[str, Step] = {
    # build: scheduling -> networking (host chosen, ports allocated) -> spawning (cast);
    # the agent then reports ACTIVE.
    "build.placed": Step((s.SCHEDULING,), {"task_state": s.NETWORKING}),
    "build.spawning": Step((s.NETWORKING, s.BLOCK_DEVICE_MAPPING),
                           {"task_state": s.SPAWNING}),
    # volumes (boot from volume, volumes at boot): made and exported to the host.
    "build.block_devices": Step((s.SPAWNING,), {"task_state": s.BLOCK_DEVICE_MAPPING}),
    "build.reschedule": Step(BUILD_ON_HOST, {"task_state": s.SCHEDULING, "host": None,
                                             "node": None}),
    "build.error": Step(s.BUILD_STATES, {**_ERROR, "host": None, "node": None}),
    # delete: the API set deleting; the row is only marked, never removed.
    "delete.done": Step((s.DELETING,), {"vm_state": s.DELETED, "task_state": None,
                                        "deleted": True}),
    # power actions: the agent reports the result; this is the way back on failure.
    "power.failed": Step(POWER_TASKS, _IDLE),
    # rebuild: rebuilding -> rebuild_spawning (cast); the agent reports the end.
    "rebuild.spawning": Step((s.REBUILDING,), {"task_state": s.REBUILD_SPAWNING}),
    "rebuild.failed": Step((s.REBUILDING, s.REBUILD_SPAWNING), _IDLE),
    "rebuild.error": Step((s.REBUILDING, s.REBUILD_SPAWNING), _ERROR),
    # snapshot: the instance keeps its vm_state whatever happens to the image.
    "snapshot.done": Step(s.SNAPSHOT_STATES, _IDLE),
    # resize (same host): prep -> migrating (claimed, cast) -> finish -> resized.
    "resize.claimed": Step((s.RESIZE_PREP,), {"task_state": s.RESIZE_MIGRATING}),
    "resize.finishing": Step((s.RESIZE_MIGRATING, s.RESIZE_MIGRATED, s.RESIZE_FINISH),
                             {"task_state": s.RESIZE_FINISH}),
    "resize.done": Step((s.RESIZE_FINISH,), {"vm_state": s.RESIZED, "task_state": None}),
    "resize.failed": Step(RESIZE_IN_FLIGHT, {"vm_state": RESTORE, "task_state": None,
                                             "old_flavor": None, "new_flavor": None},
                          frozenset({s.ACTIVE, s.STOPPED})),
    "resize.confirmed": Step((s.RESIZE_CONFIRMING,),
                             {"vm_state": RESTORE, "task_state": None, "old_flavor": None,
                              "new_flavor": None}, frozenset({s.ACTIVE, s.STOPPED})),
    "resize.reverted": Step((s.RESIZE_REVERTING,),
                            {"vm_state": RESTORE, "task_state": None, "old_flavor": None,
                             "new_flavor": None}, frozenset({s.ACTIVE, s.STOPPED})),
    # confirm/revert that failed: still resized, both claims kept, so the user may retry.
    "resize.confirm_failed": Step((s.RESIZE_CONFIRMING,), _IDLE),
    "resize.revert_failed": Step((s.RESIZE_REVERTING,), _IDLE),
    # reconciliation: a task nobody answered is cleared (the instance keeps its state).
    "task.expired": Step(tuple(TASK_STATES - {*s.BUILD_STATES, s.DELETING}), _IDLE),
}


def updates_for(name: str, restore: str | None = None) -> tuple[list[str | None], dict]:
    """The guard and the values of step name; restore fills a RESTORE vm_state.

    :raises ValueError: restore is missing or not allowed for this step.
    """
    step = STEPS[name]
    values = dict(step.sets)
    for key, value in values.items():
        if value is RESTORE:
            if restore not in step.restore_to:
                raise ValueError(f"step {name} restores {key} to one of "
                                 f"{sorted(step.restore_to)}, not {restore!r}")
            values[key] = restore
    return list(step.guard), values


# ------------------------------------------- notifications an agent's report completes
# task_state the agent clears -> the notification family it ends (instance.<name>.end).
TASK_NOTIFICATIONS: dict[str, str] = {
    s.SPAWNING: "create",
    s.POWERING_OFF: "power_off",
    s.POWERING_ON: "power_on",
    **dict.fromkeys((*s.SOFT_REBOOT_STATES, *s.HARD_REBOOT_STATES), "reboot"),
    s.PAUSING: "pause",
    s.UNPAUSING: "unpause",
    s.SUSPENDING: "suspend",
    s.RESUMING: "resume",
    s.REBUILDING: "rebuild",
    s.REBUILD_SPAWNING: "rebuild",
}

# run_instance_action's power actions -> the notification family they start.
POWER_ACTIONS: dict[str, str] = {
    "stop": "power_off",
    "start": "power_on",
    "reboot_soft": "reboot",
    "reboot_hard": "reboot",
    "pause": "pause",
    "unpause": "unpause",
    "suspend": "suspend",
    "resume": "resume",
}

# (vm_state, reported power_state) of an idle server -> the vm_state it moves to.
POWER_SYNC: dict[tuple[str, int], str] = {
    (s.ACTIVE, SHUTDOWN): s.STOPPED,
    (s.ACTIVE, CRASHED): s.STOPPED,
    (s.STOPPED, RUNNING): s.ACTIVE,
}


def synced_vm_state(vm_state: str, task_state: str | None, power_state: int) -> str | None:
    """The vm_state an idle server moves to after the hypervisor reported power_state,
    or None when it stays (busy servers are never moved: their task decides)."""
    if task_state is not None:
        return None
    return POWER_SYNC.get((vm_state, power_state))
