"""The guarded instance update every conductor write goes through."""

from __future__ import annotations

import pytest

from controller import exceptions
from controller.compute import states as s
from controller.conductor import actions, instances, machine, reports
from controller.db.models.servers import InstanceAction, InstanceFault
from tests.unit.conductor import seed


@pytest.fixture
def uuid(rt):
    return seed.instance(rt, seed.user_ctx(), seed.flavor(rt), seed.image(rt))


def test_update_applies_when_the_guard_holds_and_notifies_old_and_new(rt, uuid):
    ctx = seed.user_ctx()
    row = instances.update(rt, ctx, uuid, {"task_state": s.SPAWNING, "host": "h1"},
                           [s.SCHEDULING])
    assert row.task_state == s.SPAWNING and row.host == "h1"
    event, payload = rt.notifications[-1]
    assert event == "instance.update"
    assert payload["state_update"] == {
        "old_state": s.BUILDING, "state": s.BUILDING, "old_task_state": s.SCHEDULING,
        "new_task_state": s.SPAWNING, "old_power_state": 0, "power_state": 0}


def test_failed_guard_changes_nothing(rt, uuid):
    ctx = seed.user_ctx()
    assert instances.update(rt, ctx, uuid, {"vm_state": s.ACTIVE}, [s.SPAWNING]) is None
    assert instances.get(rt, uuid).vm_state == s.BUILDING
    assert rt.notifications == []


def test_idle_guard_and_no_guard(rt, uuid):
    ctx = seed.user_ctx()
    assert instances.update(rt, ctx, uuid, {"progress": 5}, [None]) is None
    assert instances.update(rt, ctx, uuid, {"progress": 5}).progress == 5
    instances.update(rt, ctx, uuid, {"task_state": None})
    assert instances.update(rt, ctx, uuid, {"progress": 9}, [None]).progress == 9


def test_no_change_emits_nothing(rt, uuid):
    change = instances.transition(rt, seed.user_ctx(), uuid, {"vm_state": s.BUILDING})
    assert change is not None and not change.changed and rt.notifications == []


def test_deleted_instances_are_never_written(rt, uuid):
    ctx = seed.user_ctx()
    instances.update(rt, ctx, uuid, {"task_state": s.DELETING})
    row = instances.apply(rt, ctx, uuid, "delete.done")
    assert row.deleted and row.vm_state == s.DELETED and row.deleted_at is not None
    assert row.terminated_at is not None
    assert instances.update(rt, ctx, uuid, {"vm_state": s.ACTIVE}) is None


def test_apply_refuses_to_override_the_step(rt, uuid):
    with pytest.raises(ValueError, match="sets task_state itself"):
        instances.apply(rt, seed.user_ctx(), uuid, "build.placed", {"task_state": None})
    with pytest.raises(ValueError, match="not writable"):
        instances.update(rt, seed.user_ctx(), uuid, {"uuid": "x"})


def test_apply_only_from_narrows_the_guard(rt, uuid):
    ctx = seed.user_ctx()
    instances.update(rt, ctx, uuid, {"vm_state": s.ACTIVE, "task_state": s.PAUSING})
    assert instances.apply(rt, ctx, uuid, "power.failed", only_from=[s.POWERING_OFF]) \
        is None
    assert instances.apply(rt, ctx, uuid, "power.failed",
                           only_from=[s.PAUSING]).task_state is None


def test_metadata_is_replaced(rt):
    ctx = seed.user_ctx()
    uuid = seed.instance(rt, ctx, seed.flavor(rt), seed.image(rt), metadata={"a": "1"})
    instances.update(rt, ctx, uuid, {"metadata": {"b": "2"}})
    assert {m.key: m.value for m in instances.get(rt, uuid).metadata_items} == {"b": "2"}


def test_faults_and_action_events(rt):
    ctx = seed.user_ctx()
    uuid = seed.instance(rt, ctx, seed.flavor(rt), seed.image(rt))
    assert actions.event(rt, ctx, uuid, "conductor_x", "start")
    assert actions.event(rt, ctx, uuid, "conductor_x", "finish", result=actions.ERROR,
                         traceback="boom")
    assert not actions.event(rt, seed.user_ctx(), uuid, "conductor_x", "start")
    with pytest.raises(ValueError):
        actions.event(rt, ctx, uuid, "conductor_x", "finish", result="Maybe")
    actions.add_fault(rt, uuid, "x" * 400, host="h1")
    with rt.db.session() as session:
        fault = session.query(InstanceFault).one()
        action = session.query(InstanceAction).one()
        assert len(fault.message) == 255 and fault.details == "x" * 400
        assert action.message == "Error" and action.events[0].result == "Error"
        assert action.events[0].finish_time is not None


def test_power_states_match_the_agents():
    from agents.compute.power_state import PowerState

    assert {state.value for state in PowerState} == set(machine.POWER_STATES)
    assert machine.SHUTDOWN == PowerState.SHUTDOWN and machine.RUNNING == PowerState.RUNNING


@pytest.mark.parametrize("updates", [{"host": "elsewhere"}, {"vm_state": "flying"},
                                     {"task_state": "dancing"}, {"power_state": 42},
                                     {"launched_at": "yesterday"}])
def test_agents_cannot_write_what_is_not_theirs(rt, uuid, updates):
    with pytest.raises(exceptions.BadRequest):
        reports.instance_update(rt, seed.user_ctx(), uuid, updates)
    assert instances.get(rt, uuid).host is None


def test_agent_report_ends_a_task_with_its_notification(rt, uuid):
    ctx = seed.user_ctx()
    instances.update(rt, ctx, uuid, {"task_state": s.SPAWNING, "host": "h1"})
    answer = reports.instance_update(rt, ctx, uuid, {
        "vm_state": s.ACTIVE, "task_state": None, "power_state": 1,
        "launched_at": "2024-05-01T10:00:00+00:00"}, [s.SPAWNING])
    assert answer == {"uuid": uuid, "vm_state": s.ACTIVE, "task_state": None,
                      "power_state": 1, "deleted": False}
    assert instances.get(rt, uuid).launched_at.isoformat() == "2024-05-01T10:00:00"
    assert [event for event, _ in rt.notifications][-1] == "instance.create.end"
