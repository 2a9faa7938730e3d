"""ComputeManager over the FakeDriver and an in-memory conductor: what each cast reports,
in which order, the guarded updates and what a failed guard undoes, and per-instance
serialisation."""

from __future__ import annotations

import base64
import threading
import time
import uuid as uuidlib

import pytest

from agents.compute import conf as compute_conf
from agents.compute.exception import (
    ConsoleNotAvailable,
    DiskTooSmall,
    HypervisorError,
    InstanceNotFound,
)
from agents.compute.fake import FakeDriver
from agents.compute.manager import ComputeManager
from agents.compute.power_state import PowerState
from agents.compute.reporter import Reporter
from common.context import RequestContext
from common.messaging import messaging as oslo_messaging
from tests.unit.compute_agent import helpers
from tests.unit.compute_agent.fake_conductor import FakeConductor

HOST = "agent-a"


def spec(uuid=None, **overrides):
    data = {"uuid": uuid or str(uuidlib.uuid4()), "name": "vm1",
            "project_id": helpers.PROJECT_ID, "user_id": "u-1", "hostname": "vm1",
            "availability_zone": "nova", "config_drive": False,
            "user_data": base64.b64encode(b"#!/bin/sh\necho hi\n").decode(),
            "public_keys": {"k": "ssh-ed25519 AAAA k"}, "metadata": {"a": "b"},
            "launch_index": 0,
            "flavor": {"name": "m1.nano", "memory_mb": 64, "vcpus": 1, "root_gb": 1},
            "image": {"id": helpers.IMAGE_ID, "disk_format": "qcow2", "os_hash_algo": None,
                      "os_hash_value": None, "checksum": None},
            "vifs": [], "volumes": []}
    data.update(overrides)
    return data


class Env:
    def __init__(self):
        self.conf = compute_conf.make(default_overrides={"host": HOST})
        self.driver = FakeDriver()
        self.conductor = FakeConductor(HOST)
        self.uploads: list[tuple[str, bytes]] = []
        self.manager = ComputeManager(self.conf, self.driver, Reporter(self.conductor, HOST),
                                      self.upload)
        self.ctx = RequestContext()

    def upload(self, image_id, chunks):
        self.uploads.append((image_id, b"".join(chunks)))

    def built(self, **overrides):
        """An ACTIVE instance, built through the manager."""
        data = spec(**overrides)
        self.conductor.add(data["uuid"])
        self.manager.build_and_run_instance(self.ctx, data)
        self.conductor.calls.clear()
        return data

    def row(self, uuid):
        return self.conductor.rows[uuid]


@pytest.fixture
def env():
    environment = Env()
    yield environment
    environment.driver.close()


def test_build_reports_in_order(env):
    data = spec()
    env.conductor.add(data["uuid"], task_state="networking")
    env.manager.build_and_run_instance(env.ctx, data, attempt=2)
    uuid = data["uuid"]
    assert env.conductor.names() == [
        "instances_on_host", "event:compute_build_and_run_instance:start",
        "instance_update", "instance_update",
        "event:compute_build_and_run_instance:finish:Success"]
    first, last = [d for m, _, d in env.conductor.calls if m == "instance_update"]
    assert first["updates"] == {"task_state": "spawning"}
    assert "networking" in first["expected"]
    assert last["expected"] == ["spawning"]
    row = env.row(uuid)
    assert (row["vm_state"], row["task_state"], row["power_state"]) == ("active", None, 1)
    assert row["launched_at"]
    # Every report carries the request's own ID.
    assert {d["request_id"] for m, _, d in env.conductor.calls if "request_id" in d} == {
        env.ctx.request_id}
    assert env.driver.domains[uuid].instance.user_data == b"#!/bin/sh\necho hi\n"


def test_build_of_an_instance_deleted_meanwhile_destroys_the_domain(env):
    data = spec()
    uuid = data["uuid"]
    env.conductor.add(uuid)
    real_spawn = env.driver.spawn

    def spawn_then_delete(instance):
        info = real_spawn(instance)
        env.conductor.rows[uuid].update(task_state="deleting")  # the API's delete
        return info

    env.driver.spawn = spawn_then_delete
    env.manager.build_and_run_instance(env.ctx, data)
    assert uuid not in env.driver.domains
    assert "build_failed" not in env.conductor.names()
    assert env.conductor.names()[-1] == "event:compute_build_and_run_instance:finish:Success"


def test_build_of_an_instance_deleted_before_it_started_does_nothing(env):
    data = spec()
    env.conductor.add(data["uuid"], task_state="deleting")
    env.manager.build_and_run_instance(env.ctx, data)
    assert env.driver.calls == []


def test_stale_build_cast_is_ignored(env):
    data = spec()
    env.conductor.add(data["uuid"], host="agent-b")  # rescheduled elsewhere
    env.manager.build_and_run_instance(env.ctx, data)
    env.conductor.add(data["uuid"], vm_state="active", task_state=None)  # built already
    env.manager.build_and_run_instance(env.ctx, data)
    assert env.conductor.names() == ["instances_on_host", "instances_on_host"]
    assert env.driver.calls == []


@pytest.mark.parametrize(("error", "reschedule"), [
    (HypervisorError("qemu died"), True),
    (DiskTooSmall("image needs 2 GiB; choose a flavor with a larger root disk"), False),
])
def test_failed_build_is_handed_back(env, error, reschedule):
    data = spec()
    env.conductor.add(data["uuid"])
    env.driver.fail_next("spawn", error)
    env.manager.build_and_run_instance(env.ctx, data, attempt=3)
    failed = env.conductor.last("build_failed")
    assert failed == {"message": str(error), "reschedule": reschedule, "attempt": 3}
    assert env.conductor.names()[-1] == "event:compute_build_and_run_instance:finish:Error"


def test_malformed_spec_fails_the_build_without_reschedule(env):
    data = spec(flavor={"name": "broken"})
    env.conductor.add(data["uuid"])
    env.manager.build_and_run_instance(env.ctx, data)
    failed = env.conductor.last("build_failed")
    assert failed["reschedule"] is False and "malformed" in failed["message"]
    data = spec(user_data="not base64!")
    env.conductor.add(data["uuid"])
    env.manager.build_and_run_instance(env.ctx, data)
    assert "base64" in env.conductor.last("build_failed")["message"]


@pytest.mark.parametrize(("action", "task", "event", "vm_state", "power"), [
    ("stop", "powering-off", "compute_stop_instance", "stopped", PowerState.SHUTDOWN),
    ("reboot_soft", "rebooting", "compute_reboot_instance", "active", PowerState.RUNNING),
    ("reboot_hard", "rebooting_hard", "compute_reboot_instance", "active", PowerState.RUNNING),
    ("pause", "pausing", "compute_pause_instance", "paused", PowerState.PAUSED),
    ("suspend", "suspending", "compute_suspend_instance", "suspended", PowerState.SUSPENDED),
])
def test_power_actions(env, action, task, event, vm_state, power):
    uuid = env.built()["uuid"]
    env.row(uuid)["task_state"] = task
    env.manager.power_action(env.ctx, uuid, action)
    assert env.conductor.names() == [f"event:{event}:start", "instance_update",
                                     f"event:{event}:finish:Success"]
    row = env.row(uuid)
    assert (row["vm_state"], row["task_state"], row["power_state"]) == (vm_state, None, power)


def test_start_unpause_resume(env):
    uuid = env.built()["uuid"]
    for first, back, task_first, task_back in (("stop", "start", "powering-off", "powering-on"),
                                               ("pause", "unpause", "pausing", "unpausing"),
                                               ("suspend", "resume", "suspending", "resuming")):
        env.row(uuid)["task_state"] = task_first
        env.manager.power_action(env.ctx, uuid, first)
        env.row(uuid)["task_state"] = task_back
        env.manager.power_action(env.ctx, uuid, back)
        assert (env.row(uuid)["vm_state"], env.row(uuid)["task_state"]) == ("active", None)


def test_power_action_refused_by_the_driver_becomes_a_fault(env):
    uuid = env.built()["uuid"]
    env.driver.domains[uuid].power_state = PowerState.SHUTDOWN
    env.row(uuid).update(vm_state="stopped", task_state="pausing")
    env.manager.power_action(env.ctx, uuid, "pause")
    fault = env.conductor.last("instance_fault")
    assert fault["code"] == 409 and "start it first" in fault["message"]
    row = env.row(uuid)
    assert (row["vm_state"], row["task_state"], row["power_state"]) == ("stopped", None, 4)
    assert env.conductor.names()[-1] == "event:compute_pause_instance:finish:Error"


def test_power_action_on_a_missing_domain_sets_error(env):
    uuid = str(uuidlib.uuid4())
    env.conductor.add(uuid, vm_state="active", task_state="powering-off")
    env.manager.power_action(env.ctx, uuid, "stop")
    assert (env.row(uuid)["vm_state"], env.row(uuid)["task_state"]) == ("error", None)
    assert "no domain on this host" in env.conductor.last("instance_fault")["message"]


def test_terminate(env):
    uuid = env.built()["uuid"]
    env.row(uuid)["task_state"] = "deleting"
    env.manager.terminate_instance(env.ctx, uuid)
    assert env.conductor.names() == ["event:compute_terminate_instance:start",
                                     "instance_deleted",
                                     "event:compute_terminate_instance:finish:Success"]
    assert uuid not in env.driver.domains and uuid not in env.driver.files
    env.manager.terminate_instance(env.ctx, uuid)  # idempotent
    assert env.conductor.names().count("instance_deleted") == 2


def test_failed_terminate_leaves_error_with_a_fault(env):
    uuid = env.built()["uuid"]
    env.row(uuid)["task_state"] = "deleting"
    env.driver.fail_next("destroy", HypervisorError("libvirt refused"))
    env.manager.terminate_instance(env.ctx, uuid)
    assert "instance_deleted" not in env.conductor.names()
    assert (env.row(uuid)["vm_state"], env.row(uuid)["task_state"]) == ("error", None)


def test_snapshot(env):
    uuid = env.built()["uuid"]
    image_id = str(uuidlib.uuid4())
    env.row(uuid)["task_state"] = "image_snapshot"
    env.manager.snapshot_instance(env.ctx, uuid, image_id)
    assert env.uploads == [(image_id, env.driver.uploads[uuid])]
    updates = [d["updates"] for m, _, d in env.conductor.calls if m == "instance_update"]
    assert updates == [{"task_state": "image_uploading"}]  # the conductor ends the task
    assert env.conductor.last("snapshot_finished") == {"image_id": image_id, "error": None}
    assert env.conductor.names()[-1] == "event:compute_snapshot_instance:finish:Success"


def test_snapshot_of_an_instance_deleted_meanwhile_uploads_nothing(env):
    uuid = env.built()["uuid"]
    env.row(uuid)["task_state"] = "deleting"
    env.manager.snapshot_instance(env.ctx, uuid, "img")
    assert env.uploads == []
    assert "deleted during the snapshot" in env.conductor.last("snapshot_finished")["error"]


def test_failed_snapshot_upload(env):
    uuid = env.built()["uuid"]
    env.row(uuid)["task_state"] = "image_snapshot"

    def refuse(image_id, chunks):
        raise RuntimeError("image service: HTTP 413: too large")

    env.manager.upload = refuse
    env.manager.snapshot_instance(env.ctx, uuid, "img")
    assert "HTTP 413" in env.conductor.last("snapshot_finished")["error"]
    assert "instance_fault" not in env.conductor.names()  # the conductor records it


def test_resize_confirm_and_revert(env):
    data = env.built()
    uuid = data["uuid"]
    bigger = dict(data, flavor={"name": "m1.small", "memory_mb": 128, "vcpus": 2,
                                "root_gb": 2})
    env.row(uuid)["task_state"] = "resize_prep"
    env.manager.resize_instance(env.ctx, bigger, "mig-1")
    assert env.conductor.names() == ["event:compute_resize_instance:start", "instance_update",
                                     "instance_update", "resize_finished",
                                     "event:compute_resize_instance:finish:Success"]
    assert env.conductor.last("resize_finished") == {"migration_uuid": "mig-1",
                                                     "step": "resize", "error": None}
    assert env.row(uuid)["task_state"] == "resize_finish"
    assert env.driver.domains[uuid].instance.flavor.memory_mb == 128

    # The conductor then sets VERIFY_RESIZE; a revert goes back to the old flavor.
    env.row(uuid).update(vm_state="resized", task_state="resize_reverting")
    env.manager.revert_resize(env.ctx, data, "mig-1")
    assert env.conductor.last("resize_finished")["step"] == "revert"
    assert env.driver.domains[uuid].instance.flavor.memory_mb == 64

    env.row(uuid).update(vm_state="active", task_state="resize_prep")
    env.manager.resize_instance(env.ctx, bigger, "mig-2")
    env.row(uuid).update(vm_state="resized", task_state="resize_confirming")
    env.manager.confirm_resize(env.ctx, uuid, "mig-2")
    assert env.conductor.last("resize_finished") == {"migration_uuid": "mig-2",
                                                     "step": "confirm", "error": None}
    assert env.driver.domains[uuid].resize_from is None


def test_failed_resize_reports_the_error(env):
    data = env.built(flavor={"name": "m1.small", "memory_mb": 64, "vcpus": 1, "root_gb": 2})
    env.row(data["uuid"])["task_state"] = "resize_prep"
    smaller = dict(data, flavor={"name": "m1.nano", "memory_mb": 64, "vcpus": 1,
                                 "root_gb": 1})
    env.manager.resize_instance(env.ctx, smaller, "mig-3")
    finished = env.conductor.last("resize_finished")
    assert finished["step"] == "resize" and "never shrunk" in finished["error"]
    assert "instance_fault" not in env.conductor.names()  # the conductor records it


def test_rebuild_keeps_a_stopped_server_stopped(env):
    data = env.built()
    uuid = data["uuid"]
    env.driver.power_off(uuid)
    env.row(uuid).update(vm_state="stopped", task_state="rebuilding")
    env.manager.rebuild_instance(env.ctx, data)
    row = env.row(uuid)
    assert (row["vm_state"], row["task_state"], row["power_state"]) == ("stopped", None, 4)
    assert ("rebuild", uuid) in env.driver.calls
    env.row(uuid).update(vm_state="active", task_state="rebuilding")
    env.driver.power_on(uuid)
    env.manager.rebuild_instance(env.ctx, data)
    assert env.row(uuid)["vm_state"] == "active"


def test_failed_rebuild_sets_error(env):
    data = env.built()
    env.row(data["uuid"])["task_state"] = "rebuilding"
    env.driver.fail_next("rebuild", HypervisorError("no space left"))
    env.manager.rebuild_instance(env.ctx, data)
    assert (env.row(data["uuid"])["vm_state"], env.row(data["uuid"])["task_state"]) == (
        "error", None)


def test_console_output_and_endpoint(env):
    uuid = env.built()["uuid"]
    out = env.manager.get_console_output(env.ctx, uuid, length=1)
    assert out == f"stratus-guest ready: instance-id={uuid} addresses=\n"
    assert env.manager.get_console_output(env.ctx, uuid).startswith("fake boot 1\n")
    assert env.manager.get_console_output(env.ctx, uuid, length=0) == ""
    serial = env.manager.get_console_endpoint(env.ctx, uuid, "serial")
    assert serial == {"host": "127.0.0.1", "port": env.driver.domains[uuid].serial_port}
    assert env.manager.get_console_endpoint(env.ctx, uuid, "novnc")["port"] == 5900
    env.conf.set_override("console_host", "192.0.2.9", group="compute")
    assert env.manager.get_console_endpoint(env.ctx, uuid, "novnc")["host"] == "192.0.2.9"
    env.driver.power_off(uuid)
    # Expected errors (no traceback in the server log); the caller gets the original.
    with pytest.raises(oslo_messaging.ExpectedException) as error:
        env.manager.get_console_endpoint(env.ctx, uuid, "serial")
    assert error.value.exc_info[0] is ConsoleNotAvailable
    with pytest.raises(oslo_messaging.ExpectedException) as error:
        env.manager.get_console_output(env.ctx, str(uuidlib.uuid4()))
    assert error.value.exc_info[0] is InstanceNotFound


def test_operations_on_one_instance_run_one_at_a_time(env):
    data = spec()
    uuid = data["uuid"]
    env.conductor.add(uuid)
    release, spawning = threading.Event(), threading.Event()
    real_spawn = env.driver.spawn

    def slow_spawn(instance):
        if instance.uuid == uuid:
            spawning.set()
            assert release.wait(10)
        return real_spawn(instance)

    env.driver.spawn = slow_spawn
    build = threading.Thread(target=env.manager.build_and_run_instance, args=(env.ctx, data))
    build.start()
    assert spawning.wait(10)
    env.conductor.rows[uuid]["task_state"] = "deleting"  # the API's delete, meanwhile
    delete = threading.Thread(target=env.manager.terminate_instance, args=(env.ctx, uuid))
    delete.start()
    # Another instance is not held up by the slow one.
    other = spec()
    env.conductor.add(other["uuid"])
    env.manager.build_and_run_instance(env.ctx, other)
    assert other["uuid"] in env.driver.domains
    time.sleep(0.2)
    assert "event:compute_terminate_instance:start" not in env.conductor.names(uuid)
    release.set()
    build.join(10)
    delete.join(10)
    names = env.conductor.names(uuid)
    assert names.index("event:compute_build_and_run_instance:finish:Success") < names.index(
        "event:compute_terminate_instance:start")
    assert uuid not in env.driver.domains and env.conductor.rows[uuid]["deleted"]
