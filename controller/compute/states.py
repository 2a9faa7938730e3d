"""Server states as data: vm_state, task_state, the API status, and which action may run when.

Nova's model: ``vm_state`` says what the server is (stable), ``task_state`` what is being
done to it (None when idle), ``power_state`` what the hypervisor last reported. The API
status (``ACTIVE``, ``SHUTOFF``...) is derived from the first two.

Every user action is one line of :data:`ACTIONS`: the vm_states it is allowed from, the
task_states it is allowed from (None = idle), and the task_state it sets. An action not
allowed in the current state is a 409 that says so (:func:`check`). The API applies the
transition with a guarded UPDATE (``WHERE vm_state IN ... AND task_state IN ...``) so two
concurrent actions cannot both start.
"""

from __future__ import annotations

import dataclasses

from controller import exceptions

# ------------------------------------------------------------------ vm_state
ACTIVE = "active"
BUILDING = "building"
PAUSED = "paused"
SUSPENDED = "suspended"
STOPPED = "stopped"
RESIZED = "resized"  # resized, waiting for confirm or revert
SOFT_DELETED = "soft-delete"
DELETED = "deleted"
ERROR = "error"
SHELVED = "shelved"
SHELVED_OFFLOADED = "shelved_offloaded"
RESCUED = "rescued"

# ---------------------------------------------------------------- task_state
SCHEDULING = "scheduling"
BLOCK_DEVICE_MAPPING = "block_device_mapping"
NETWORKING = "networking"
SPAWNING = "spawning"
IMAGE_SNAPSHOT = "image_snapshot"
IMAGE_PENDING_UPLOAD = "image_pending_upload"
IMAGE_UPLOADING = "image_uploading"
RESIZE_PREP = "resize_prep"
RESIZE_MIGRATING = "resize_migrating"
RESIZE_MIGRATED = "resize_migrated"
RESIZE_FINISH = "resize_finish"
RESIZE_REVERTING = "resize_reverting"
RESIZE_CONFIRMING = "resize_confirming"
REBOOTING = "rebooting"
REBOOT_PENDING = "reboot_pending"
REBOOT_STARTED = "reboot_started"
REBOOTING_HARD = "rebooting_hard"
REBOOT_PENDING_HARD = "reboot_pending_hard"
REBOOT_STARTED_HARD = "reboot_started_hard"
PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
REBUILDING = "rebuilding"
REBUILD_SPAWNING = "rebuild_spawning"
DELETING = "deleting"

IDLE = None

SOFT_REBOOT_STATES = (REBOOTING, REBOOT_PENDING, REBOOT_STARTED)
HARD_REBOOT_STATES = (REBOOTING_HARD, REBOOT_PENDING_HARD, REBOOT_STARTED_HARD)
RESIZE_STATES = (RESIZE_PREP, RESIZE_MIGRATING, RESIZE_MIGRATED, RESIZE_FINISH)
SNAPSHOT_STATES = (IMAGE_SNAPSHOT, IMAGE_PENDING_UPLOAD, IMAGE_UPLOADING)
BUILD_STATES = (SCHEDULING, BLOCK_DEVICE_MAPPING, NETWORKING, SPAWNING)

# --------------------------------------------------------------- API status
# (vm_state, task_state) -> status; task_state None is the default of a vm_state.
_STATUS: dict[str, dict[str | None, str]] = {
    ACTIVE: {None: "ACTIVE", **dict.fromkeys(SOFT_REBOOT_STATES, "REBOOT"),
             **dict.fromkeys(HARD_REBOOT_STATES, "HARD_REBOOT"),
             REBUILDING: "REBUILD", REBUILD_SPAWNING: "REBUILD",
             **dict.fromkeys(RESIZE_STATES, "RESIZE"), "migrating": "MIGRATING",
             "updating_password": "PASSWORD"},
    BUILDING: {None: "BUILD"},
    STOPPED: {None: "SHUTOFF", **dict.fromkeys(RESIZE_STATES, "RESIZE"),
              REBUILDING: "REBUILD", REBUILD_SPAWNING: "REBUILD"},
    RESIZED: {None: "VERIFY_RESIZE", RESIZE_REVERTING: "REVERT_RESIZE"},
    PAUSED: {None: "PAUSED", "migrating": "MIGRATING"},
    SUSPENDED: {None: "SUSPENDED"},
    RESCUED: {None: "RESCUE"},
    ERROR: {None: "ERROR", REBUILDING: "REBUILD", REBUILD_SPAWNING: "REBUILD"},
    DELETED: {None: "DELETED"},
    SOFT_DELETED: {None: "SOFT_DELETED"},
    SHELVED: {None: "SHELVED"},
    SHELVED_OFFLOADED: {None: "SHELVED_OFFLOADED"},
}


def status(vm_state: str, task_state: str | None) -> str:
    """The API ``status`` of a server in vm_state/task_state (UNKNOWN if unmapped)."""
    by_task = _STATUS.get(vm_state, {})
    return by_task.get(task_state) or by_task.get(None, "UNKNOWN")


def status_filter(statuses: list[str]) -> tuple[set[str], set[str | None] | None]:
    """(vm_states, task_states) a ``status=`` list filter selects (Nova's reverse
    mapping); task_states None means any task."""
    vm_states: set[str] = set()
    tasks: set[str | None] = set()
    any_task = False
    for wanted in statuses:
        wanted = wanted.upper()
        for vm_state, by_task in _STATUS.items():
            for task, name in by_task.items():
                if name == wanted:
                    vm_states.add(vm_state)
                    if task is None:
                        any_task = True  # the idle status covers the vm_state
                    else:
                        tasks.add(task)
    return vm_states, None if any_task else tasks


# ------------------------------------------------------------------ actions
@dataclasses.dataclass(frozen=True)
class Action:
    """Where an action may start from and the task_state it sets."""

    vm_states: frozenset[str]
    task_states: frozenset[str | None]
    sets_task: str | None


def _action(vm_states, task_states=(IDLE,), sets_task=None) -> Action:
    return Action(frozenset(vm_states), frozenset(task_states), sets_task)


_RUNNING_LIKE = (ACTIVE, PAUSED, SUSPENDED, STOPPED, ERROR, RESIZED)

# One line per action (Nova's check_instance_state rules).
ACTIONS: dict[str, Action] = {
    "stop": _action((ACTIVE, RESIZED, ERROR), sets_task=POWERING_OFF),
    "start": _action((STOPPED,), sets_task=POWERING_ON),
    "reboot_soft": _action((ACTIVE,), (IDLE, REBOOTING), REBOOTING),
    "reboot_hard": _action((ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR),
                           (IDLE, *SOFT_REBOOT_STATES, *HARD_REBOOT_STATES), REBOOTING_HARD),
    "pause": _action((ACTIVE,), sets_task=PAUSING),
    "unpause": _action((PAUSED,), sets_task=UNPAUSING),
    "suspend": _action((ACTIVE,), sets_task=SUSPENDING),
    "resume": _action((SUSPENDED,), sets_task=RESUMING),
    "rebuild": _action((ACTIVE, STOPPED, ERROR), sets_task=REBUILDING),
    "resize": _action((ACTIVE, STOPPED), sets_task=RESIZE_PREP),
    "confirm_resize": _action((RESIZED,), sets_task=RESIZE_CONFIRMING),
    "revert_resize": _action((RESIZED,), sets_task=RESIZE_REVERTING),
    "snapshot": _action((ACTIVE, STOPPED, PAUSED, SUSPENDED), sets_task=IMAGE_SNAPSHOT),
    "lock": _action((*_RUNNING_LIKE, BUILDING), (IDLE, *BUILD_STATES,
                                                  *SOFT_REBOOT_STATES, *HARD_REBOOT_STATES,
                                                  *RESIZE_STATES, *SNAPSHOT_STATES,
                                                  POWERING_OFF, POWERING_ON, PAUSING,
                                                  UNPAUSING, SUSPENDING, RESUMING,
                                                  REBUILDING, REBUILD_SPAWNING,
                                                  RESIZE_REVERTING, RESIZE_CONFIRMING)),
    "console": _action((ACTIVE,), (IDLE, *SNAPSHOT_STATES, *SOFT_REBOOT_STATES)),
    # Delete is allowed from anywhere except an in-flight delete; it always wins.
    "delete": _action((*_RUNNING_LIKE, BUILDING, SOFT_DELETED, SHELVED, SHELVED_OFFLOADED,
                       RESCUED),
                      (IDLE, *BUILD_STATES, *SOFT_REBOOT_STATES, *HARD_REBOOT_STATES,
                       *RESIZE_STATES, *SNAPSHOT_STATES, POWERING_OFF, POWERING_ON,
                       PAUSING, UNPAUSING, SUSPENDING, RESUMING, REBUILDING,
                       REBUILD_SPAWNING, RESIZE_REVERTING, RESIZE_CONFIRMING),
                      DELETING),
}

# Nova's API names of the actions, for the 409 message.
_NOVA_NAMES = {"reboot_soft": "reboot", "reboot_hard": "reboot", "snapshot": "createImage",
               "confirm_resize": "confirmResize", "revert_resize": "revertResize",
               "console": "get console"}


def check(action: str, instance_uuid: str, vm_state: str, task_state: str | None) -> Action:
    """The Action to apply, if allowed in vm_state/task_state.

    :raises Conflict: not allowed; the message names the state, as Nova's does.
    """
    rule = ACTIONS[action]
    name = _NOVA_NAMES.get(action, action)
    if vm_state not in rule.vm_states:
        raise exceptions.Conflict(f"Cannot '{name}' instance {instance_uuid} while it is in "
                                  f"vm_state {vm_state}")
    if task_state not in rule.task_states:
        raise exceptions.Conflict(f"Cannot '{name}' instance {instance_uuid} while it is in "
                                  f"task_state {task_state}")
    return rule
