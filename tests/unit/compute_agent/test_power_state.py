"""Power state rules (shared by every driver), exercised through the fake driver."""

from __future__ import annotations

import pytest

from agents.compute import power_state as ps
from agents.compute.block_device import VolumeDevice
from agents.compute.exception import InstanceNotFound, InvalidPowerState
from agents.compute.fake import FakeDriver
from agents.compute.power_state import PowerState
from tests.unit.compute_agent import helpers


@pytest.fixture
def driver():
    fake = FakeDriver()
    yield fake
    fake.close()


def test_every_action_has_one_rule_and_no_overlap():
    for action, (runs_from, done_in) in ps.TRANSITIONS.items():
        assert not runs_from & done_in, action


@pytest.mark.parametrize(("action", "state", "expected"), [
    ("power_off", PowerState.RUNNING, True),
    ("power_off", PowerState.SHUTDOWN, False),
    ("power_off", PowerState.SUSPENDED, True),
    ("power_on", PowerState.SHUTDOWN, True),
    ("power_on", PowerState.RUNNING, False),
    ("pause", PowerState.PAUSED, False),
    ("unpause", PowerState.RUNNING, False),
    ("suspend", PowerState.PAUSED, True),
    ("resume", PowerState.SUSPENDED, True),
    ("hard reboot", PowerState.SUSPENDED, True),
])
def test_allowed_and_already_done(action, state, expected):
    assert ps.check("u", action, state) is expected


@pytest.mark.parametrize(("action", "state", "hint"), [
    ("power_on", PowerState.PAUSED, "unpause it first"),
    ("power_on", PowerState.SUSPENDED, "resume it first"),
    ("pause", PowerState.SHUTDOWN, "start it first"),
    ("soft reboot", PowerState.PAUSED, "unpause it first"),
    ("resume", PowerState.SHUTDOWN, "start it first"),
])
def test_refused_with_what_to_do(action, state, hint):
    with pytest.raises(InvalidPowerState, match=hint) as info:
        ps.check("u", action, state)
    assert info.value.state == state.name


def test_fake_driver_lifecycle(driver):
    inst = helpers.instance()
    assert driver.spawn(inst).power_state == PowerState.RUNNING
    assert driver.spawn(inst).power_state == PowerState.RUNNING  # resumable, no reboot
    assert driver.domains[inst.uuid].boots == 1
    assert driver.power_off(inst.uuid) is True
    assert driver.power_off(inst.uuid) is False  # already off
    driver.power_on(inst.uuid)
    driver.pause(inst.uuid)
    with pytest.raises(InvalidPowerState):
        driver.reboot(inst.uuid)  # soft needs a running guest
    assert driver.reboot(inst.uuid, hard=True) == "hard"
    driver.suspend(inst.uuid)
    assert driver.get_info(inst.uuid).power_state == PowerState.SUSPENDED
    driver.resume(inst.uuid)
    assert driver.get_console_output(inst.uuid).count(
        f"stratus-guest ready: instance-id={inst.uuid}") == 3
    driver.destroy(inst.uuid)
    driver.destroy(inst.uuid)  # idempotent
    assert driver.get_console_output(inst.uuid) == ""
    with pytest.raises(InstanceNotFound):
        driver.get_info(inst.uuid)


def test_fake_driver_forced_power_off_and_injected_failures(driver):
    inst = helpers.instance()
    driver.spawn(inst)
    assert driver.power_off(inst.uuid, timeout=0) is False
    driver.power_on(inst.uuid)
    driver.fail_next("power_on", InstanceNotFound(inst.uuid))
    with pytest.raises(InstanceNotFound):
        driver.power_on(inst.uuid)
    driver.graceful = False
    assert driver.reboot(inst.uuid) == "hard"
    volume = VolumeDevice("6f1c3c4e-7d1e-4c43-9a55-0e0c7d1b2a3f", "vdb", {})
    assert driver.attach_volume(inst.uuid, volume) == "vdb"
    assert driver.attach_volume(inst.uuid, volume) == "vdb"  # idempotent
    driver.detach_volume(inst.uuid, volume.volume_id)
    assert driver.domains[inst.uuid].instance.volumes == ()
    assert ("reboot", inst.uuid) in driver.calls
    assert driver.host_resources().vcpus == 4
