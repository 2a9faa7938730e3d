"""The conductor's transition tables: complete, consistent, and chained step to step."""

from __future__ import annotations

import pytest

from controller.compute import states as s
from controller.conductor import machine
from controller.conductor.manager import ACTION_HANDLERS
from controller.conductor.reconcile import GIVE_UP, REASK


@pytest.mark.parametrize("name", sorted(machine.STEPS))
def test_every_step_names_known_states(name):
    step = machine.STEPS[name]
    assert step.guard, "a step without a guard could overwrite anything"
    assert set(step.guard) <= machine.TASK_STATES | {None}
    task = step.sets.get("task_state")
    assert task is None or task in machine.TASK_STATES
    vm = step.sets.get("vm_state")
    assert vm is None or vm is machine.RESTORE or vm in machine.VM_STATES
    assert (vm is machine.RESTORE) == bool(step.restore_to)


def _sets_task(name):
    return machine.STEPS[name].sets["task_state"]


def test_build_steps_chain():
    assert s.SCHEDULING in machine.STEPS["build.placed"].guard
    assert _sets_task("build.placed") in machine.STEPS["build.reschedule"].guard
    # a rescheduled build is placed again like a new one
    assert _sets_task("build.reschedule") in machine.STEPS["build.placed"].guard
    assert set(s.BUILD_STATES) <= set(machine.STEPS["build.error"].guard)
    assert machine.STEPS["build.error"].sets["host"] is None


def test_resize_steps_chain_and_statuses():
    assert s.ACTIONS["resize"].sets_task in machine.STEPS["resize.claimed"].guard
    assert _sets_task("resize.claimed") in machine.STEPS["resize.finishing"].guard
    assert _sets_task("resize.finishing") in machine.STEPS["resize.done"].guard
    assert s.status(s.ACTIVE, _sets_task("resize.claimed")) == "RESIZE"
    resized = machine.STEPS["resize.done"].sets["vm_state"]
    assert s.status(resized, None) == "VERIFY_RESIZE"
    for action, step in (("confirm_resize", "resize.confirmed"),
                         ("revert_resize", "resize.reverted")):
        assert resized in s.ACTIONS[action].vm_states
        assert s.ACTIONS[action].sets_task in machine.STEPS[step].guard
        assert machine.STEPS[step].restore_to == {s.ACTIVE, s.STOPPED}
    for failure in ("resize.confirm_failed", "resize.revert_failed"):
        assert machine.STEPS[failure].sets == {"task_state": None}  # still resized


def test_every_api_action_has_a_workflow():
    conductor_actions = set(s.ACTIONS) - {"lock", "console", "delete"}
    assert conductor_actions == set(ACTION_HANDLERS)


@pytest.mark.parametrize("action", sorted(machine.POWER_ACTIONS))
def test_power_actions_can_fail_back_and_end_with_a_notification(action):
    task = s.ACTIONS[action].sets_task
    assert task in machine.STEPS["power.failed"].guard
    assert machine.TASK_NOTIFICATIONS[task] == machine.POWER_ACTIONS[action]
    assert task in REASK and task in GIVE_UP


def test_no_transient_task_can_stay_forever():
    # every task the API or a workflow sets is either re-asked, given up on by a
    # dedicated rule, or cleared by the generic task.expired step
    generic = set(machine.STEPS["task.expired"].guard)
    for task in machine.TASK_STATES - {s.SCHEDULING}:
        assert task in GIVE_UP or task in generic, task


def test_updates_for_restores_only_allowed_states():
    guard, values = machine.updates_for("resize.confirmed", restore=s.STOPPED)
    assert guard == [s.RESIZE_CONFIRMING]
    assert values["vm_state"] == s.STOPPED and values["new_flavor"] is None
    with pytest.raises(ValueError, match="restores vm_state"):
        machine.updates_for("resize.confirmed", restore=s.ERROR)
    with pytest.raises(ValueError):
        machine.updates_for("resize.reverted")
    assert machine.updates_for("delete.done")[1]["deleted"] is True


@pytest.mark.parametrize("vm, task, power, expected", [
    (s.ACTIVE, None, machine.SHUTDOWN, s.STOPPED),
    (s.ACTIVE, None, machine.CRASHED, s.STOPPED),
    (s.STOPPED, None, machine.RUNNING, s.ACTIVE),
    (s.ACTIVE, None, machine.RUNNING, None),
    (s.ACTIVE, s.POWERING_OFF, machine.SHUTDOWN, None),  # a task in flight decides
    (s.PAUSED, None, machine.SHUTDOWN, None),
])
def test_power_sync(vm, task, power, expected):
    assert machine.synced_vm_state(vm, task, power) == expected


def test_migration_status_moves_are_closed():
    from controller.conductor.migrations import STATUS_MOVES

    for targets in STATUS_MOVES.values():
        assert targets <= set(STATUS_MOVES)
    for final in ("confirmed", "reverted", "error"):
        assert STATUS_MOVES[final] == frozenset()
    # every non-final status can fail
    assert all("error" in targets for status, targets in STATUS_MOVES.items()
               if status not in ("confirmed", "reverted", "error"))
