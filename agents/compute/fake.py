"""An in-memory ComputeDriver for unit tests of the agent's callers (manager, reconcile).

It applies the same power state rules as the libvirt driver (power_state.TRANSITIONS),
records every call, can be told to fail the next call of a method, and writes a console
log with the guest's ready line on every boot, so console-output code can be tested.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile

from agents.compute import power_state as ps
from agents.compute.block_device import VolumeDevice
from agents.compute.driver import CONSOLE_TYPES, ComputeDriver, Uploader
from agents.compute.exception import (
    ConsoleNotAvailable,
    DiskTooSmall,
    InstanceNotFound,
    NotSupported,
)
from agents.compute.model import (
    Flavor,
    HostResources,
    Instance,
    InstanceInfo,
    Vif,
    canonical_uuid,
)
from agents.compute.power_state import PowerState


@dataclasses.dataclass
class FakeDomain:
    instance: Instance
    power_state: PowerState = PowerState.SHUTDOWN
    boots: int = 0
    serial_port: int = 0
    # A pending resize: (instance before, was it running).
    resize_from: tuple[Instance, bool] | None = None


class FakeDriver(ComputeDriver):
    """A hypervisor that only keeps a dict; see the module docstring."""

    def __init__(self, console_dir: str | None = None, graceful: bool = True):
        self.domains: dict[str, FakeDomain] = {}
        self.files: set[str] = set()
        self.calls: list[tuple[str, str]] = []
        self.uploads: dict[str, bytes] = {}  # instance uuid -> last snapshot's bytes
        # Domains other agents own on the same hypervisor: never listed, never touched.
        self.foreign: dict[str, FakeDomain] = {}
        self.graceful = graceful  # False: guests ignore the ACPI power button
        self.resources = HostResources(vcpus=4, memory_mb=8192, disk_gb=100, disk_free_gb=80,
                                       hypervisor_version=7002000, cpu_model="x86_64")
        self._failures: dict[str, Exception] = {}
        self._own_console_dir = console_dir is None
        self.console_dir = console_dir or tempfile.mkdtemp(prefix="fake-compute-")

    def fail_next(self, method: str, error: Exception) -> None:
        """Make the next call of method raise error (then behave normally again)."""
        self._failures[method] = error

    def close(self) -> None:
        if self._own_console_dir:
            shutil.rmtree(self.console_dir, ignore_errors=True)

    # ------------------------------------------------------------- lifecycle
    def spawn(self, instance: Instance) -> InstanceInfo:
        self._record("spawn", instance.uuid)
        self.files.add(instance.uuid)
        domain = self.domains.setdefault(
            instance.uuid, FakeDomain(instance, serial_port=10000 + len(self.domains)))
        domain.instance = instance
        if domain.power_state != PowerState.RUNNING:
            self._boot(domain)
        return self.get_info(instance.uuid)

    # ------------------------------------------ snapshot, resize, rebuild
    def snapshot(self, instance_uuid: str, upload: Uploader) -> None:
        domain = self._get("snapshot", instance_uuid)
        data = f"fake-qcow2 of {instance_uuid} at boot {domain.boots}".encode()
        self.uploads[instance_uuid] = data
        upload(iter([data[:10], data[10:]]))

    def resize(self, instance: Instance, old_flavor: Flavor | None = None) -> InstanceInfo:
        domain = self._get("resize", instance.uuid)
        if instance.flavor.root_gb and \
                instance.flavor.root_gb < domain.instance.flavor.root_gb:
            raise DiskTooSmall(f"instance {instance.uuid}: a disk is never shrunk")
        if domain.resize_from is None:
            domain.resize_from = (domain.instance,
                                  domain.power_state in (PowerState.RUNNING, PowerState.PAUSED))
        running = domain.resize_from[1]
        domain.instance = instance
        domain.power_state = PowerState.SHUTDOWN
        if running:
            self._boot(domain)
        return self.get_info(instance.uuid)

    def confirm_resize(self, instance_uuid: str) -> None:
        self._record("confirm_resize", instance_uuid)
        domain = self.domains.get(instance_uuid)
        if domain is not None:
            domain.resize_from = None

    def revert_resize(self, instance: Instance) -> InstanceInfo:
        domain = self._get("revert_resize", instance.uuid)
        domain.instance = instance
        if domain.resize_from is not None:
            running = domain.resize_from[1]
            domain.resize_from = None
            domain.power_state = PowerState.SHUTDOWN
            if running:
                self._boot(domain)
        return self.get_info(instance.uuid)

    def rebuild(self, instance: Instance, power_on: bool = True) -> InstanceInfo:
        self._record("rebuild", instance.uuid)
        old = self.domains.pop(instance.uuid, None)
        domain = FakeDomain(instance, serial_port=old.serial_port if old else 10000,
                            boots=old.boots if old else 0)
        self.domains[instance.uuid] = domain
        self.files.add(instance.uuid)
        if power_on:
            self._boot(domain)
        return self.get_info(instance.uuid)

    # ----------------------------------------------------------------- ports
    def attach_interface(self, instance_uuid: str, vif: Vif) -> None:
        domain = self._get("attach_interface", instance_uuid)
        if all(plugged.mac != vif.mac for plugged in domain.instance.vifs):
            domain.instance = dataclasses.replace(
                domain.instance, vifs=(*domain.instance.vifs, vif))

    def detach_interface(self, instance_uuid: str, vif: Vif) -> None:
        domain = self._get("detach_interface", instance_uuid)
        domain.instance = dataclasses.replace(domain.instance, vifs=tuple(
            plugged for plugged in domain.instance.vifs if plugged.mac != vif.mac))

    # --------------------------------------------------------------- volumes
    def attach_volume(self, instance_uuid: str, volume: VolumeDevice) -> str:
        domain = self._get("attach_volume", instance_uuid)
        for plugged in domain.instance.volumes:
            if plugged.volume_id == volume.volume_id:
                return plugged.device
        used = {"vda", *(plugged.device for plugged in domain.instance.volumes)}
        device = volume.device if volume.device not in used else next(
            f"vd{letter}" for letter in "bcdefghijklmnopqrstuvwxyz"
            if f"vd{letter}" not in used)
        domain.instance = dataclasses.replace(domain.instance, volumes=(
            *domain.instance.volumes, dataclasses.replace(volume, device=device)))
        return device

    def detach_volume(self, instance_uuid: str, volume_id: str) -> None:
        domain = self._get("detach_volume", instance_uuid)
        domain.instance = dataclasses.replace(domain.instance, volumes=tuple(
            plugged for plugged in domain.instance.volumes if plugged.volume_id != volume_id))

    def console_port(self, instance_uuid: str, console_type: str) -> int:
        if console_type not in CONSOLE_TYPES:
            raise NotSupported(f"console type {console_type!r} is not supported")
        domain = self._get("console_port", instance_uuid)
        if domain.power_state not in (PowerState.RUNNING, PowerState.PAUSED):
            raise ConsoleNotAvailable(f"instance {instance_uuid} is not running")
        return 5900 if console_type == "novnc" else domain.serial_port

    def destroy(self, instance_uuid: str, *, keep_files: bool = False) -> None:
        self._record("destroy", instance_uuid)
        self.domains.pop(instance_uuid, None)
        if not keep_files:
            self.files.discard(instance_uuid)
            log_path = self.console_log_path(instance_uuid)
            if os.path.exists(log_path):
                os.unlink(log_path)

    # ----------------------------------------------------------------- power
    def power_off(self, instance_uuid: str, timeout: float | None = None) -> bool:
        domain = self._get("power_off", instance_uuid)
        if not ps.check(instance_uuid, "power_off", domain.power_state):
            return False
        graceful = domain.power_state == PowerState.RUNNING and self.graceful and timeout != 0
        domain.power_state = PowerState.SHUTDOWN
        return graceful

    def power_on(self, instance_uuid: str) -> None:
        domain = self._get("power_on", instance_uuid)
        if ps.check(instance_uuid, "power_on", domain.power_state):
            self._boot(domain)

    def reboot(self, instance_uuid: str, hard: bool = False) -> str:
        domain = self._get("reboot", instance_uuid)
        if not hard:
            ps.check(instance_uuid, "soft reboot", domain.power_state)
        ps.check(instance_uuid, "hard reboot", domain.power_state)
        self._boot(domain)
        return "soft" if not hard and self.graceful else "hard"

    def pause(self, instance_uuid: str) -> None:
        self._transition("pause", instance_uuid, PowerState.PAUSED)

    def unpause(self, instance_uuid: str) -> None:
        self._transition("unpause", instance_uuid, PowerState.RUNNING)

    def suspend(self, instance_uuid: str) -> None:
        self._transition("suspend", instance_uuid, PowerState.SUSPENDED)

    def resume(self, instance_uuid: str) -> None:
        self._transition("resume", instance_uuid, PowerState.RUNNING)

    # ---------------------------------------------------------------- status
    def get_info(self, instance_uuid: str) -> InstanceInfo:
        domain = self._get("get_info", instance_uuid)
        flavor = domain.instance.flavor
        running = domain.power_state in (PowerState.RUNNING, PowerState.PAUSED)
        return InstanceInfo(uuid=instance_uuid, power_state=domain.power_state,
                            memory_kib=flavor.memory_mb * 1024 if running else 0,
                            vcpus=flavor.vcpus)

    def list_instances(self) -> list[InstanceInfo]:
        self._record("list_instances", "")
        return [self.get_info(uuid) for uuid in sorted(self.domains)]

    def host_resources(self) -> HostResources:
        self._record("host_resources", "")
        return self.resources

    def list_instance_files(self) -> list[str]:
        return sorted(self.files)

    def console_log_path(self, instance_uuid: str) -> str:
        return os.path.join(self.console_dir, f"{canonical_uuid(instance_uuid)}.log")

    # --------------------------------------------------------------- helpers
    def _record(self, method: str, instance_uuid: str) -> None:
        self.calls.append((method, instance_uuid))
        error = self._failures.pop(method, None)
        if error is not None:
            raise error

    def _get(self, method: str, instance_uuid: str) -> FakeDomain:
        self._record(method, instance_uuid)
        try:
            return self.domains[instance_uuid]
        except KeyError:
            raise InstanceNotFound(instance_uuid) from None

    def _transition(self, action: str, instance_uuid: str, target: PowerState) -> None:
        domain = self._get(action, instance_uuid)
        if ps.check(instance_uuid, action, domain.power_state):
            domain.power_state = target

    def _boot(self, domain: FakeDomain) -> None:
        domain.power_state = PowerState.RUNNING
        domain.boots += 1
        with open(self.console_log_path(domain.instance.uuid), "a") as log:
            log.write(f"fake boot {domain.boots}\nstratus-guest ready: "
                      f"instance-id={domain.instance.uuid} addresses=\n")
