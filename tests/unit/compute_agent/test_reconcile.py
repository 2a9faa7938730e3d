"""Start-up reconciliation: every rule, then converge() against the fake driver."""

from __future__ import annotations

import pytest

from agents.compute import reconcile
from agents.compute.exception import HypervisorError
from agents.compute.fake import FakeDriver
from agents.compute.model import InstanceInfo
from agents.compute.power_state import PowerState
from agents.compute.reconcile import Action, Expected, Kind
from tests.unit.compute_agent import helpers

A, B, C, D, E = (f"{n}0000000-0000-4000-8000-000000000000" for n in "abcde")


def _dom(uuid, state=PowerState.RUNNING, reason="running:booted"):
    return InstanceInfo(uuid=uuid, power_state=state, state_reason=reason)


def test_live_instances_are_left_alone_and_reported():
    actions = reconcile.plan([_dom(A), _dom(B, PowerState.SHUTDOWN, "shutoff:shutdown")],
                             [Expected(A), Expected(B)], [A, B])
    assert actions == [Action(Kind.REPORT, A, "running:booted", PowerState.RUNNING),
                       Action(Kind.REPORT, B, "shutoff:shutdown", PowerState.SHUTDOWN)]


def test_deleted_and_unknown_domains_are_orphans():
    actions = reconcile.plan([_dom(A), _dom(B), _dom(C)], [Expected(A, deleted=True),
                                                           Expected(C)])
    assert [(a.kind, a.uuid) for a in actions] == [
        (Kind.DESTROY, A), (Kind.DESTROY, B), (Kind.REPORT, C)]
    assert "deleted" in actions[0].reason
    assert "does not place" in actions[1].reason


def test_files_without_a_domain():
    # D: files of a deleted instance; E: files of a live instance whose domain is gone.
    actions = reconcile.plan([], [Expected(D, deleted=True), Expected(E)], [D, E])
    assert actions == [Action(Kind.DESTROY, D, "files of a deleted instance"),
                       Action(Kind.MISSING, E, "no domain on this host")]


def test_deleted_instance_without_anything_needs_nothing():
    assert reconcile.plan([], [Expected(A, deleted=True)], []) == []


def test_empty_host_reports_every_live_instance_missing():
    assert [a.kind for a in reconcile.plan([], [Expected(A), Expected(B)])] == [
        Kind.MISSING, Kind.MISSING]


def test_converge_destroys_orphans_and_keeps_running_guests():
    driver = FakeDriver()
    try:
        keep, deleted, unknown = (helpers.instance() for _ in range(3))
        for inst in (keep, deleted, unknown):
            driver.spawn(inst)
        driver.power_off(deleted.uuid)
        actions = reconcile.converge(driver, [Expected(keep.uuid),
                                              Expected(deleted.uuid, deleted=True)])
        assert {a.uuid: a.kind for a in actions} == {
            keep.uuid: Kind.REPORT, deleted.uuid: Kind.DESTROY, unknown.uuid: Kind.DESTROY}
        assert list(driver.domains) == [keep.uuid]
        assert driver.list_instance_files() == [keep.uuid]
        assert driver.get_info(keep.uuid).power_state == PowerState.RUNNING
        assert driver.domains[keep.uuid].boots == 1  # not restarted
    finally:
        driver.close()


def test_converge_goes_on_after_a_failed_destroy():
    driver = FakeDriver()
    try:
        first, second = sorted((helpers.instance() for _ in range(2)), key=lambda i: i.uuid)
        driver.spawn(first)
        driver.spawn(second)
        driver.fail_next("destroy", HypervisorError("libvirt said no"))
        actions = reconcile.converge(driver, [])
        assert [a.kind for a in actions] == [Kind.DESTROY, Kind.DESTROY]
        assert list(driver.domains) == [first.uuid]  # left for the next resync
    finally:
        driver.close()


def test_converge_propagates_an_unreachable_hypervisor():
    driver = FakeDriver()
    driver.fail_next("list_instances", HypervisorError("down"))
    with pytest.raises(HypervisorError):
        reconcile.converge(driver, [])
    driver.close()
