"""The compute agent's RPC endpoint: the methods of ``common.rpc.compute``.

Thin on purpose: each cast takes the instance's lock (operations on one instance run
one at a time; the RPC server's threads run different instances in parallel), records
the action event (Nova's event names), moves the task_state along with guarded
updates, has the driver do the work, and reports the result. A guarded update that
returns None means the instance was deleted or another task took over: the operation
stops there, undoing what it just made (a spawned domain is destroyed).

Errors become faults whose messages come from the driver's exceptions (they say what
to do next) and the instance leaves its task_state (or ERROR when it has no usable
domain any more); a failed build is handed back with ``build_failed``. Snapshots and
resizes end with ``snapshot_finished`` / ``resize_finished`` (with the error, if any):
there the conductor ends the task, records the fault and undoes its own side.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from oslo_config import cfg

from agents.compute.block_device import VolumeDevice
from agents.compute.driver import ComputeDriver
from agents.compute.exception import ComputeError, InstanceNotFound
from agents.compute.locks import InstanceLocks
from agents.compute.model import Flavor, Instance, vif_from_spec
from agents.compute.outcomes import (
    NOT_RESCHEDULABLE,
    Abandoned,
    Swallow,
    describe,
    details,
    fault_code,
    uuid_of,
)
from agents.compute.power_state import PowerState
from agents.compute.reporter import VM_STATE_BY_POWER, Reporter, utcnow_iso
from agents.compute.sync import HostSync, rows_by_uuid
from common.context import RequestContext
from common.messaging import messaging as oslo_messaging

LOG = logging.getLogger(__name__)

Upload = Callable[[str, Iterable[bytes]], None]  # (image id, chunks): the image client's

CONSOLE_OUTPUT_MAX_BYTES = 1 << 20
BUILD_TASKS = ["scheduling", "block_device_mapping", "networking", "spawning"]
SOFT_REBOOT_TASKS = ["rebooting", "reboot_pending", "reboot_started"]
HARD_REBOOT_TASKS = ["rebooting_hard", "reboot_pending_hard", "reboot_started_hard"]

# action -> (event, driver method, its arguments, task_states the API set for it)
POWER_ACTIONS: dict[str, tuple[str, str, dict[str, Any], list[str | None]]] = {
    "stop": ("compute_stop_instance", "power_off", {}, ["powering-off"]),
    "start": ("compute_start_instance", "power_on", {}, ["powering-on"]),
    "reboot_soft": ("compute_reboot_instance", "reboot", {"hard": False}, SOFT_REBOOT_TASKS),
    "reboot_hard": ("compute_reboot_instance", "reboot", {"hard": True},
                    SOFT_REBOOT_TASKS + HARD_REBOOT_TASKS),
    "pause": ("compute_pause_instance", "pause", {}, ["pausing"]),
    "unpause": ("compute_unpause_instance", "unpause", {}, ["unpausing"]),
    "suspend": ("compute_suspend_instance", "suspend", {}, ["suspending"]),
    "resume": ("compute_resume_instance", "resume", {}, ["resuming"]),
}


class ComputeManager:
    """RPC endpoint of ``common.rpc.compute`` on one host."""

    target = oslo_messaging.Target(version="1.0")

    def __init__(self, conf: cfg.ConfigOpts, driver: ComputeDriver, reporter: Reporter,
                 upload: Upload, locks: InstanceLocks | None = None):
        self.conf = conf
        self.host = conf.host
        self.driver = driver
        self.reporter = reporter
        self.upload = upload
        self.locks = locks or InstanceLocks()
        self.sync = HostSync(driver, reporter, self.locks)

    # ------------------------------------------------------------------ build
    def build_and_run_instance(self, ctxt: RequestContext, spec: dict[str, Any],
                               attempt: int = 1) -> None:
        """Cast: spawn the instance; ACTIVE via instance_update, or build_failed."""
        uuid = uuid_of(spec.get("uuid") if isinstance(spec, dict) else None)
        if uuid is None:
            return
        with self.locks.hold(uuid):
            row = self._placed_here(ctxt, uuid)
            if row is None or row.get("vm_state") != "building":
                LOG.warning("build of %s skipped: the controller no longer builds it on this "
                            "host (%s)", uuid, row and row.get("vm_state"))
                return
            with self._guard_errors(), \
                    self.reporter.event(ctxt, uuid, "compute_build_and_run_instance"):
                if self.reporter.update(ctxt, uuid, {"task_state": "spawning"},
                                        BUILD_TASKS) is None:
                    LOG.info("instance %s was deleted before its build started", uuid)
                    return
                try:
                    info = self.driver.spawn(Instance.from_spec(spec))
                except Exception as error:
                    self.reporter.build_failed(
                        ctxt, uuid, describe(error), details(error),
                        reschedule=not isinstance(error, NOT_RESCHEDULABLE), attempt=attempt)
                    raise
                done = self.reporter.update(
                    ctxt, uuid, {"vm_state": "active", "task_state": None,
                                 "power_state": int(info.power_state),
                                 "launched_at": utcnow_iso()}, ["spawning"])
                if done is None:
                    LOG.warning("instance %s was deleted while it was built; destroying it",
                                uuid)
                    self.driver.destroy(uuid)

    def terminate_instance(self, ctxt: RequestContext, instance_uuid: str) -> None:
        """Cast: destroy the domain and files; instance_deleted."""
        with self.locks.hold(instance_uuid), self._guard_errors(), \
                self.reporter.event(ctxt, instance_uuid, "compute_terminate_instance"):
            try:
                self.driver.destroy(instance_uuid)
            except Exception as error:
                self._failed(ctxt, instance_uuid, error, ["deleting"], "error")
                raise
            self.reporter.instance_deleted(ctxt, instance_uuid)

    # ------------------------------------------------------------------ power
    def power_action(self, ctxt: RequestContext, instance_uuid: str, action: str) -> None:
        """Cast: stop, start, reboot_soft, reboot_hard, pause, unpause, suspend, resume."""
        if action not in POWER_ACTIONS:
            LOG.error("unknown power action %r for %s", action, instance_uuid)
            return
        event, method, kwargs, tasks = POWER_ACTIONS[action]
        with self.locks.hold(instance_uuid), self._guard_errors(), \
                self.reporter.event(ctxt, instance_uuid, event):
            try:
                getattr(self.driver, method)(instance_uuid, **kwargs)
                state = self.driver.get_info(instance_uuid).power_state
            except Exception as error:
                self._failed(ctxt, instance_uuid, error, tasks)
                raise
            if self.reporter.update(ctxt, instance_uuid,
                                    {"vm_state": VM_STATE_BY_POWER[state], "task_state": None,
                                     "power_state": int(state)}, tasks) is None:
                LOG.warning("instance %s: %s done, but it was deleted or taken over meanwhile",
                            instance_uuid, action)

    # ---------------------------------------------------------------- rebuild
    def rebuild_instance(self, ctxt: RequestContext, spec: dict[str, Any]) -> None:
        """Cast: a fresh root disk from spec's image; the guest keeps its power state."""
        uuid = uuid_of(spec.get("uuid") if isinstance(spec, dict) else None)
        if uuid is None:
            return
        tasks: list[str | None] = ["rebuilding", "rebuild_spawning"]
        with self.locks.hold(uuid), self._guard_errors(), \
                self.reporter.event(ctxt, uuid, "compute_rebuild_instance"):
            try:
                instance = Instance.from_spec(spec)
                before = self._power_state(uuid)
                if self.reporter.update(ctxt, uuid, {"task_state": "rebuild_spawning"},
                                        tasks) is None:
                    return
                # A stopped server stays stopped (as Nova does); anything else runs.
                info = self.driver.rebuild(instance, power_on=before != PowerState.SHUTDOWN)
            except Exception as error:
                self._failed(ctxt, uuid, error, tasks, "error")
                raise
            self.reporter.update(ctxt, uuid, {
                "vm_state": VM_STATE_BY_POWER[info.power_state], "task_state": None,
                "power_state": int(info.power_state), "launched_at": utcnow_iso()},
                ["rebuild_spawning"])

    # --------------------------------------------------------------- snapshot
    def snapshot_instance(self, ctxt: RequestContext, instance_uuid: str,
                          image_id: str) -> None:
        """Cast: upload a flattened copy of the root disk as image_id's data.

        snapshot_finished ends the task (the conductor clears it, and on an error
        records the fault and discards the image).
        """
        with self.locks.hold(instance_uuid), self._guard_errors(), \
                self.reporter.event(ctxt, instance_uuid, "compute_snapshot_instance"):

            def upload(chunks: Iterator[bytes]) -> None:
                if self.reporter.update(ctxt, instance_uuid, {"task_state": "image_uploading"},
                                        ["image_snapshot", "image_pending_upload"]) is None:
                    raise Abandoned(f"instance {instance_uuid} was deleted during the "
                                     "snapshot; the image is not uploaded")
                self.upload(image_id, chunks)

            try:
                self.driver.snapshot(instance_uuid, upload)
            except Abandoned as error:
                self.reporter.snapshot_finished(ctxt, instance_uuid, image_id, str(error))
                return
            except Exception as error:
                self._log_failure(instance_uuid, error)
                self.reporter.snapshot_finished(ctxt, instance_uuid, image_id,
                                                describe(error))
                raise
            self.reporter.snapshot_finished(ctxt, instance_uuid, image_id)

    # ----------------------------------------------------------------- resize
    def resize_instance(self, ctxt: RequestContext, spec: dict[str, Any],
                        migration_uuid: str) -> None:
        """Cast: move to spec's (new) flavor here; resize_finished("resize")."""
        uuid = uuid_of(spec.get("uuid") if isinstance(spec, dict) else None)
        if uuid is None:
            return
        with self.locks.hold(uuid), self._guard_errors(), \
                self.reporter.event(ctxt, uuid, "compute_resize_instance"):
            try:
                instance = Instance.from_spec(spec)
                old = spec.get("old_flavor")
                old_flavor = Flavor(**{k: old[k] for k in ("name", "memory_mb", "vcpus",
                                                           "root_gb") if k in old}) \
                    if isinstance(old, dict) else None
                if self.reporter.update(ctxt, uuid, {"task_state": "resize_migrating"},
                                        ["resize_prep", "resize_migrating"]) is None:
                    return
                info = self.driver.resize(instance, old_flavor)
            except Exception as error:  # the conductor records the fault and undoes
                self._log_failure(uuid, error)
                self.reporter.resize_finished(ctxt, uuid, migration_uuid, "resize",
                                              describe(error))
                raise
            if self.reporter.update(ctxt, uuid, {"task_state": "resize_finish",
                                                 "power_state": int(info.power_state)},
                                    ["resize_migrating"]) is not None:
                self.reporter.resize_finished(ctxt, uuid, migration_uuid, "resize")

    def confirm_resize(self, ctxt: RequestContext, instance_uuid: str,
                       migration_uuid: str) -> None:
        """Cast: drop the pre-resize copy; resize_finished("confirm")."""
        self._finish_resize(ctxt, instance_uuid, migration_uuid, "confirm",
                            lambda: self.driver.confirm_resize(instance_uuid))

    def revert_resize(self, ctxt: RequestContext, spec: dict[str, Any],
                      migration_uuid: str) -> None:
        """Cast: back to spec's (old) flavor and disk; resize_finished("revert")."""
        uuid = uuid_of(spec.get("uuid") if isinstance(spec, dict) else None)
        if uuid is not None:
            self._finish_resize(ctxt, uuid, migration_uuid, "revert",
                                lambda: self.driver.revert_resize(Instance.from_spec(spec)))

    def _finish_resize(self, ctxt: RequestContext, uuid: str, migration_uuid: str,
                       step: str, work: Callable[[], Any]) -> None:
        task = "resize_confirming" if step == "confirm" else "resize_reverting"
        with self.locks.hold(uuid), self._guard_errors(), \
                self.reporter.event(ctxt, uuid, f"compute_{step}_resize"):
            try:
                work()
                state = self.driver.get_info(uuid).power_state
            except Exception as error:  # the conductor records the fault
                self._log_failure(uuid, error)
                self.reporter.resize_finished(ctxt, uuid, migration_uuid, step,
                                              describe(error))
                raise
            if self.reporter.update(ctxt, uuid, {"power_state": int(state)},
                                    [task]) is not None:
                self.reporter.resize_finished(ctxt, uuid, migration_uuid, step)

    # ----------------------------------------------------------------- ports
    @oslo_messaging.expected_exceptions(ComputeError)
    def attach_interface(self, ctxt: RequestContext, instance_uuid: str,
                         vif: dict[str, Any]) -> None:
        """Call: hot-plug vif (a spec vif dict) into the instance, running or not.

        :raises InvalidInput, InstanceNotFound, HypervisorError: see the driver.
        """
        with self.locks.hold(instance_uuid), \
                self.reporter.event(ctxt, instance_uuid, "compute_attach_interface"):
            self.driver.attach_interface(instance_uuid, vif_from_spec(vif))

    @oslo_messaging.expected_exceptions(ComputeError)
    def detach_interface(self, ctxt: RequestContext, instance_uuid: str,
                         vif: dict[str, Any]) -> None:
        """Call: hot-unplug vif from the instance (waits for a running guest to let go).

        :raises InvalidInput, InstanceNotFound, HypervisorError: see the driver.
        """
        with self.locks.hold(instance_uuid), \
                self.reporter.event(ctxt, instance_uuid, "compute_detach_interface"):
            self.driver.detach_interface(instance_uuid, vif_from_spec(vif))

    # --------------------------------------------------------------- volumes
    @oslo_messaging.expected_exceptions(ComputeError)
    def attach_volume(self, ctxt: RequestContext, instance_uuid: str,
                      volume: dict[str, Any]) -> dict[str, Any]:
        """Call: plug volume (a spec volume dict) into the instance, running or not;
        answer {"device": the device it got}.

        :raises InvalidInput, InstanceNotFound, HypervisorError: see the driver.
        """
        with self.locks.hold(instance_uuid), \
                self.reporter.event(ctxt, instance_uuid, "compute_attach_volume"):
            device = self.driver.attach_volume(instance_uuid, VolumeDevice.from_spec(volume))
        return {"device": device}

    @oslo_messaging.expected_exceptions(ComputeError)
    def detach_volume(self, ctxt: RequestContext, instance_uuid: str, volume_id: str) -> None:
        """Call: unplug the volume (waits for a running guest to let go of it).

        :raises InvalidInput, InstanceNotFound, HypervisorError: see the driver.
        """
        with self.locks.hold(instance_uuid), \
                self.reporter.event(ctxt, instance_uuid, "compute_detach_volume"):
            self.driver.detach_volume(instance_uuid, volume_id)

    # ------------------------------------------------------------------ sync
    def sync_instances(self, ctxt: RequestContext) -> None:
        """Cast: reconcile this host with the controller again."""
        try:
            self.sync.full_sync(ctxt)
        except ComputeError as error:
            LOG.error("requested reconciliation failed: %s", error)

    # ------------------------------------------------------------- consoles
    @oslo_messaging.expected_exceptions(ComputeError)
    def get_console_output(self, ctxt: RequestContext, instance_uuid: str,
                           length: int | None = None) -> str:
        """Call: the last length lines of the console log (None: all that is kept).

        :raises InstanceNotFound: the instance has no domain here.
        """
        self.driver.get_info(instance_uuid)
        text = self.driver.get_console_output(instance_uuid, CONSOLE_OUTPUT_MAX_BYTES)
        if length is None:
            return text
        if length <= 0:
            return ""
        return "".join(text.splitlines(keepends=True)[-int(length):])

    @oslo_messaging.expected_exceptions(ComputeError)
    def get_console_endpoint(self, ctxt: RequestContext, instance_uuid: str,
                             console_type: str) -> dict[str, Any]:
        """Call: {"host", "port"} the console proxy connects to for console_type.

        :raises InstanceNotFound, ConsoleNotAvailable, NotSupported: see the driver.
        """
        port = self.driver.console_port(instance_uuid, console_type)
        return {"host": self.console_host(console_type), "port": port}

    def console_host(self, console_type: str) -> str:
        """Where the proxy reaches this host's consoles of console_type."""
        opts = self.conf.compute
        if opts.console_host:
            return opts.console_host
        listen = opts.vnc_listen if console_type == "novnc" else opts.serial_listen
        if listen in ("0.0.0.0", "::", ""):
            return opts.host_ip or "127.0.0.1"
        return listen

    # --------------------------------------------------------------- helpers
    def _placed_here(self, ctxt: RequestContext, uuid: str) -> dict[str, Any] | None:
        """The controller's row for uuid if it places the instance on this host."""
        try:
            return rows_by_uuid(self.reporter.instances_on_host(ctxt)).get(uuid)
        except Exception as error:  # noqa: BLE001 - cannot check: build anyway, guarded
            LOG.warning("could not check that %s is still built here (%s); building it",
                        uuid, error)
            return {"uuid": uuid, "vm_state": "building"}

    def _power_state(self, uuid: str) -> PowerState:
        try:
            return self.driver.get_info(uuid).power_state
        except InstanceNotFound:
            return PowerState.NOSTATE

    @staticmethod
    def _log_failure(uuid: str, error: Exception) -> None:
        expected = isinstance(error, ComputeError)
        (LOG.warning if expected else LOG.error)("instance %s: %s", uuid, describe(error),
                                                 exc_info=not expected)

    def _fault(self, ctxt: RequestContext, uuid: str, error: Exception) -> None:
        self._log_failure(uuid, error)
        self.reporter.fault(ctxt, uuid, describe(error), details(error), fault_code(error))

    def _failed(self, ctxt: RequestContext, uuid: str, error: Exception,
                tasks: list[str | None], vm_state: str | None = None) -> None:
        """Record the fault and leave the task: the instance keeps its vm_state (or
        gets vm_state) with the power state the hypervisor reports now; ERROR when
        its domain is gone."""
        self._fault(ctxt, uuid, error)
        state = self._power_state(uuid)
        updates: dict[str, Any] = {"task_state": None, "power_state": int(state)}
        if vm_state or isinstance(error, InstanceNotFound):
            updates["vm_state"] = vm_state or "error"
        try:
            self.reporter.update(ctxt, uuid, updates, tasks)
        except Exception:  # noqa: BLE001 - the fault is recorded; the sync repairs
            LOG.exception("could not clear the task of %s after a failure", uuid)

    def _guard_errors(self):
        """Swallow (after logging) what escaped a cast: the reports were sent."""
        return Swallow()


