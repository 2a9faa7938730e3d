"""A compute agent for one fake host, served over real RabbitMQ in the test process.

It speaks the agent side of ``common.rpc.compute`` on a FakeDriver and reports back
only through ``common.rpc.conductor.ConductorAPI``, as the real agent does (it never
reads the database). Tests steer it with ``fail`` (method -> error message).
"""

from __future__ import annotations

import datetime
import logging
import traceback as tb
from typing import Any

from agents.compute.block_device import VolumeDevice
from agents.compute.fake import FakeDriver
from agents.compute.model import Flavor, Instance, vif_from_spec
from agents.compute.power_state import PowerState
from common import messaging
from common.context import RequestContext
from common.rpc.conductor import ConductorAPI
from controller.scheduler.host_state import COMPUTE_BINARY

LOG = logging.getLogger(__name__)

# power action -> (driver method, vm_state afterwards, task_state it runs under)
_POWER = {
    "stop": ("power_off", "stopped", "powering-off"),
    "start": ("power_on", "active", "powering-on"),
    "reboot_soft": ("reboot", "active", "rebooting"),
    "reboot_hard": ("reboot", "active", "rebooting_hard"),
    "pause": ("pause", "paused", "pausing"),
    "unpause": ("unpause", "active", "unpausing"),
    "suspend": ("suspend", "suspended", "suspending"),
    "resume": ("resume", "active", "resuming"),
}


class FakeAgent:
    """The RPC endpoint of one fake compute host."""

    def __init__(self, conf, host: str, uploader=None):
        self.conf = conf
        self.host = host
        self.driver = FakeDriver()
        self.conductor = ConductorAPI(conf)
        self.fail: dict[str, str] = {}
        self.calls: list[str] = []
        self.uploader = uploader  # (ctx, image_id, chunks) -> None
        self.server = None

    # ------------------------------------------------------------------ plumbing
    def start(self) -> FakeAgent:
        self.server = messaging.rpc_server(self.conf, self.conf.compute_rpc.topic, [self],
                                           server=self.host)
        self.server.start()
        self.heartbeat()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server.wait()
            self.server = None
        self.driver.close()

    def heartbeat(self) -> None:
        self.conductor.report_state(RequestContext.admin(), self.host, COMPUTE_BINARY,
                                    self.conf.compute_rpc.topic)

    def _failing(self, method: str) -> str | None:
        self.calls.append(method)
        return self.fail.get(method)

    def _update(self, ctx, uuid: str, updates: dict[str, Any], expected) -> Any:
        return self.conductor.instance_update(ctx, uuid, updates, expected_task_state=expected)

    def _power(self, uuid: str) -> int:
        return int(self.driver.get_info(uuid).power_state)

    # ------------------------------------------------------------------ workflows
    def build_and_run_instance(self, ctxt, spec: dict[str, Any], attempt: int = 1) -> None:
        uuid = spec["uuid"]
        self.conductor.action_event(ctxt, uuid, "compute_build_and_run_instance", self.host,
                                    "start")
        error = self._failing("build_and_run_instance")
        try:
            if error:
                raise RuntimeError(error)
            self.driver.spawn(Instance.from_spec(spec))
        except Exception as exc:  # noqa: BLE001 - reported, as the real agent does
            self.driver.destroy(uuid)
            self.conductor.action_event(ctxt, uuid, "compute_build_and_run_instance",
                                        self.host, "finish", "Error", tb.format_exc())
            self.conductor.build_failed(ctxt, uuid, self.host, str(exc),
                                        reschedule=True, attempt=attempt)
            return
        result = self._update(ctxt, uuid, {
            "vm_state": "active", "task_state": None, "power_state": self._power(uuid),
            "launched_at": datetime.datetime.now(datetime.UTC).isoformat()}, ["spawning"])
        if result is None:  # deleted while spawning: leave nothing behind
            self.driver.destroy(uuid)
            return
        self.conductor.action_event(ctxt, uuid, "compute_build_and_run_instance", self.host,
                                    "finish", "Success")

    def terminate_instance(self, ctxt, instance_uuid: str) -> None:
        if self._failing("terminate_instance"):
            return  # swallowed: the conductor's periodic task must notice
        self.driver.destroy(instance_uuid)
        self.conductor.instance_deleted(ctxt, instance_uuid, self.host)

    def power_action(self, ctxt, instance_uuid: str, action: str) -> None:
        method, vm_state, task = _POWER[action]
        error = self._failing("power_action")
        if error:
            return  # no answer at all: the periodic task's business
        call = getattr(self.driver, method)
        if action == "reboot_hard":
            call(instance_uuid, hard=True)
        else:
            call(instance_uuid)
        self._update(ctxt, instance_uuid, {"vm_state": vm_state, "task_state": None,
                                           "power_state": self._power(instance_uuid)}, [task])

    def rebuild_instance(self, ctxt, spec: dict[str, Any]) -> None:
        uuid = spec["uuid"]
        error = self._failing("rebuild_instance")
        if error:
            self.conductor.instance_fault(ctxt, uuid, self.host, error)
            self._update(ctxt, uuid, {"vm_state": "error", "task_state": None},
                         ["rebuild_spawning"])
            return
        self.driver.rebuild(Instance.from_spec(spec))
        self._update(ctxt, uuid, {"vm_state": "active", "task_state": None,
                                  "power_state": self._power(uuid)}, ["rebuild_spawning"])

    def snapshot_instance(self, ctxt, instance_uuid: str, image_id: str) -> None:
        error = self._failing("snapshot_instance")
        if not error:
            try:
                self.driver.snapshot(instance_uuid,
                                     lambda chunks: self.uploader(ctxt, image_id, chunks))
            except Exception as exc:  # noqa: BLE001
                error = str(exc)
        self.conductor.snapshot_finished(ctxt, instance_uuid, image_id, error=error)

    def resize_instance(self, ctxt, spec: dict[str, Any], migration_uuid: str) -> None:
        uuid = spec["uuid"]
        error = self._failing("resize_instance")
        if not error:
            instance = Instance.from_spec(spec)
            self.driver.resize(instance)
        self.conductor.resize_finished(ctxt, uuid, migration_uuid, "resize", error=error)

    def confirm_resize(self, ctxt, instance_uuid: str, migration_uuid: str) -> None:
        error = self._failing("confirm_resize")
        if not error:
            self.driver.confirm_resize(instance_uuid)
        self.conductor.resize_finished(ctxt, instance_uuid, migration_uuid, "confirm",
                                       error=error)

    def revert_resize(self, ctxt, spec: dict[str, Any], migration_uuid: str) -> None:
        error = self._failing("revert_resize")
        if not error:
            self.driver.revert_resize(Instance.from_spec(spec))
        self.conductor.resize_finished(ctxt, spec["uuid"], migration_uuid, "revert",
                                       error=error)

    def sync_instances(self, ctxt) -> None:
        self.calls.append("sync_instances")

    def attach_interface(self, ctxt, instance_uuid: str, vif: dict[str, Any]) -> None:
        error = self._failing("attach_interface")
        if error:
            raise RuntimeError(error)  # a call: the caller gets the error back
        self.driver.attach_interface(instance_uuid, vif_from_spec(vif))

    def detach_interface(self, ctxt, instance_uuid: str, vif: dict[str, Any]) -> None:
        error = self._failing("detach_interface")
        if error:
            raise RuntimeError(error)
        self.driver.detach_interface(instance_uuid, vif_from_spec(vif))

    def attach_volume(self, ctxt, instance_uuid: str, volume: dict[str, Any]) -> dict:
        error = self._failing("attach_volume")
        if error:
            raise RuntimeError(error)  # a call: the caller gets the error back
        device = self.driver.attach_volume(instance_uuid, VolumeDevice.from_spec(volume))
        return {"device": device}

    def detach_volume(self, ctxt, instance_uuid: str, volume_id: str) -> None:
        error = self._failing("detach_volume")
        if error:
            raise RuntimeError(error)
        self.driver.detach_volume(instance_uuid, volume_id)

    # ------------------------------------------------------------------ helpers
    def flavor_of(self, uuid: str) -> Flavor:
        return self.driver.domains[uuid].instance.flavor

    def power_state(self, uuid: str) -> PowerState:
        return self.driver.get_info(uuid).power_state
