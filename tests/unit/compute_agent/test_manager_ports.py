"""The agent's interface attach/detach calls over the FakeDriver: the driver gets a Vif,
the action events are reported, errors go back to the caller."""

from __future__ import annotations

import dataclasses

import pytest

from agents.compute.exception import InstanceNotFound, InvalidInput
from common.messaging import messaging as oslo_messaging
from tests.unit.compute_agent import helpers
from tests.unit.compute_agent.test_manager import Env


@pytest.fixture
def env():
    environment = Env()
    yield environment
    environment.driver.close()


def _vif_spec(index: int) -> dict:
    vif = helpers.vif(index)
    return {**dataclasses.asdict(vif), "type": "ovs", "devname": vif.devname}


def test_attach_and_detach_interface(env):
    data = env.built()
    uuid = data["uuid"]
    env.manager.attach_interface(env.ctx, uuid, _vif_spec(1))
    env.manager.attach_interface(env.ctx, uuid, _vif_spec(1))  # again: a no-op
    assert [v.mac for v in env.driver.domains[uuid].instance.vifs] == [helpers.vif(1).mac]
    env.manager.detach_interface(env.ctx, uuid, _vif_spec(1))
    assert env.driver.domains[uuid].instance.vifs == ()
    assert env.conductor.names(uuid) == [
        "event:compute_attach_interface:start", "event:compute_attach_interface:finish:"
        "Success"] * 2 + ["event:compute_detach_interface:start",
                          "event:compute_detach_interface:finish:Success"]


def test_interface_errors_go_back_to_the_caller(env):
    # Expected errors: the caller gets the original, the log no traceback.
    with pytest.raises(oslo_messaging.ExpectedException) as error:
        env.manager.attach_interface(env.ctx, helpers.instance().uuid, _vif_spec(1))
    assert error.value.exc_info[0] is InstanceNotFound
    uuid = env.built()["uuid"]
    with pytest.raises(oslo_messaging.ExpectedException) as error:
        env.manager.detach_interface(env.ctx, uuid, {"id": "nope", "mac": "x"})
    assert error.value.exc_info[0] is InvalidInput
    assert env.conductor.names(uuid)[-1] == "event:compute_detach_interface:finish:Error"
