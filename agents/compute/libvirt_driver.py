"""The hypervisor driver on libvirt/QEMU (``virt_type`` kvm on real hosts, qemu = TCG here).

An instance is a persistent domain ``instance-<uuid>`` plus the directory
``<instances_path>/<uuid>`` (root disk overlay, config drive, console log). Suspend is
libvirt's managed save, so a suspended instance is a shut-off domain with a saved memory
image that the next start restores.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from agents.compute import conf as compute_conf
from agents.compute import configdrive, disks, domain_xml, libvirt_disk, paths, vifs, volumes
from agents.compute import power_state as ps
from agents.compute.block_device import VolumeDevice
from agents.compute.driver import CONSOLE_TYPES, ComputeDriver
from agents.compute.exception import (
    ComputeError,
    ConsoleNotAvailable,
    InstanceNotFound,
    InvalidPowerState,
    NotSupported,
)
from agents.compute.imagecache import Fetcher, ImageCache
from agents.compute.libvirt_disk_ops import DiskOpsMixin
from agents.compute.libvirt_host import Host
from agents.compute.model import HostResources, Instance, InstanceInfo, Vif, canonical_uuid
from agents.compute.power_state import PowerState
from agents.compute.serial_ports import SerialPorts
from common import processutils

LOG = logging.getLogger(__name__)

# libvirt flag values (stable ABI), spelled out so this module imports without libvirt.
DEFINE_VALIDATE = 1  # check the XML against libvirt's schema: a clear error, not a guess
SHUTDOWN_ACPI_POWER_BTN = 1
SAVE_RUNNING = 2
UNDEFINE_MANAGED_SAVE, UNDEFINE_SNAPSHOTS_METADATA, UNDEFINE_NVRAM = 1, 2, 4
GIB = 1024 ** 3
STALE_SNAPSHOT_AGE = 86400  # s: a snapshot copy this old is a crashed agent's leftover
POLL_INTERVAL = 0.1  # seconds between state checks while waiting for a guest to stop


class LibvirtDriver(DiskOpsMixin, ComputeDriver):
    """ComputeDriver on the local libvirtd."""

    def __init__(self, conf: cfg.ConfigOpts, image_cache: ImageCache, *,
                 host: Host | None = None,
                 build_config_drive: Callable[..., str] = configdrive.build,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 execute: disks.Execute = processutils.execute,
                 serial_ports: SerialPorts | None = None,
                 wait_for_ports: vifs.PortWaiter | None = None):
        self._opts = conf.compute
        self.owner = conf.host  # tagged on every domain: which agent owns it
        self.host = host or Host(self._opts.libvirt_uri)
        self.image_cache = image_cache
        self._build_config_drive = build_config_drive
        self._sleep = sleep
        self._clock = clock
        self._execute = execute
        self.serial_ports = serial_ports or SerialPorts(
            *compute_conf.serial_port_range(conf), listen=self._opts.serial_listen)
        # New guests start once the network agent wired their ports (see vifs).
        self._wait_for_ports = wait_for_ports
        self.plugger = vifs.Plugger(self.host, self._opts.nic_offloads,
                                    self._opts.interface_detach_timeout, sleep=sleep,
                                    clock=clock)
        self.volumes = volumes.VolumePlugger(self.host, self._opts.volume_detach_timeout,
                                             sleep=sleep, clock=clock)

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, fetch: Fetcher,
                  wait_for_ports: vifs.PortWaiter | None = None) -> LibvirtDriver:
        """A driver whose image cache downloads with fetch (image id -> byte chunks);
        wait_for_ports tells when the network agent wired a new guest's ports."""
        opts = conf.compute
        cache = ImageCache(opts.instances_path, fetch,
                           subdirectory=opts.image_cache_subdirectory_name,
                           download_timeout=opts.image_download_timeout)
        return cls(conf, cache, wait_for_ports=wait_for_ports)

    # ------------------------------------------------------------- lifecycle
    def spawn(self, instance: Instance) -> InstanceInfo:
        return self._create(instance, start=True, keep_console_log=False)

    def _create(self, instance: Instance, *, start: bool, keep_console_log: bool,
                serial_port: int | None = None) -> InstanceInfo:
        """Disks, config drive, definition, start; on failure remove what was made."""
        files = self._paths(instance.uuid)
        timings: dict[str, float] = {}  # logged per stage, for boot latency breakdowns
        try:
            files.ensure_directory()
            if instance.image is not None:  # else the root disk is a volume
                with _timed(timings, "image"):
                    self.image_cache.ensure_base(instance.image)
                with _timed(timings, "disk"):
                    self.image_cache.create_overlay(instance.image, files.disk,
                                                    instance.flavor.root_gb)
            if self._wants_config_drive(instance):
                with _timed(timings, "config_drive"):
                    self._build_config_drive(instance, files.config_drive,
                                             tool=self._opts.mkisofs)
            with _timed(timings, "define_and_start"):
                dom = self._define(instance, files, serial_port)
                if start:
                    with self.host.errors(instance.uuid, "start"):
                        active = dom.isActive()
                    if not active:
                        vifs.start_when_wired(self.host, dom, instance, self._wait_for_ports,
                                              self._opts.vif_plugging_timeout,
                                              self._opts.vif_plugging_is_fatal)
        except Exception as exc:
            if isinstance(exc, ComputeError):
                LOG.warning("creating instance %s failed: %s; removing what was created",
                            instance.uuid, exc)
            else:
                LOG.exception("creating instance %s failed; removing what was created",
                              instance.uuid)
            with contextlib.suppress(ComputeError):
                if keep_console_log:
                    self._remove_domain_and_disks(instance.uuid)
                else:
                    self.destroy(instance.uuid)
            raise
        LOG.info("created instance %s: %s", instance.uuid,
                 ", ".join(f"{stage} {took:.3f} s" for stage, took in timings.items()))
        return self.get_info(instance.uuid)

    def domain_spec(self, instance: Instance, files: paths.InstancePaths,
                    serial_port: int | None = None) -> domain_xml.DomainSpec:
        """The domain XML data for instance (public so tests can inspect it)."""
        disks = [] if instance.image is None else [domain_xml.Disk(
            files.disk, "vda", backing_file=self.image_cache.base_path(instance.image.id),
            backing_format=instance.image.disk_format)]
        if self._wants_config_drive(instance):
            if self._opts.config_drive_bus == "ide":
                disks.append(domain_xml.Disk(files.config_drive, "hdc", bus="ide",
                                             device="cdrom", driver_type="raw", readonly=True))
            else:  # the first virtio name no volume holds
                device = libvirt_disk.free_dev(["vda", *(v.device for v in instance.volumes)],
                                               "vdb")
                disks.append(domain_xml.Disk(files.config_drive, device, driver_type="raw",
                                             readonly=True))
        nics = tuple(vifs.nic(vif, self._opts.nic_offloads) for vif in instance.vifs)
        return domain_xml.DomainSpec(
            uuid=instance.uuid, display_name=instance.name, project_id=instance.project_id,
            user_id=instance.user_id, flavor_name=instance.flavor.name,
            image_id=instance.image.id if instance.image else None,
            memory_mib=instance.flavor.memory_mb,
            vcpus=instance.flavor.vcpus, root_gb=instance.flavor.root_gb,
            console_log=files.console_log, disks=tuple(disks),
            interfaces=nics, virt_type=self._opts.virt_type, machine=self._opts.machine_type,
            cpu_mode=self._opts.cpu_mode,
            vnc_listen=self._opts.vnc_listen if self._opts.vnc_enabled else None,
            owner_host=self.owner, serial_port=serial_port,
            serial_listen=self._opts.serial_listen,
            network_disks=tuple(self.volumes.disks(instance)),
            network_root=instance.image is None)

    def destroy(self, instance_uuid: str, *, keep_files: bool = False) -> None:
        try:
            dom = self.host.lookup(instance_uuid)
        except InstanceNotFound:
            dom = None
        used_volumes: list[str] = []
        if dom is not None:
            used_volumes = self.volumes.volumes_of(instance_uuid, dom)
            with self.host.errors(instance_uuid, "destroy"):
                self._force_off(instance_uuid, dom)
                with contextlib.suppress(InstanceNotFound), \
                        self.host.errors(instance_uuid, "undefine"):
                    dom.undefineFlags(UNDEFINE_MANAGED_SAVE | UNDEFINE_SNAPSHOTS_METADATA
                                      | UNDEFINE_NVRAM)
        self.volumes.release_secrets(used_volumes)  # those no other guest here uses
        if not keep_files:
            shutil.rmtree(self._paths(instance_uuid).directory, ignore_errors=True)
        LOG.info("destroyed instance %s%s", instance_uuid, " (files kept)" if keep_files else "")

    # ----------------------------------------------------------------- power
    def power_off(self, instance_uuid: str, timeout: float | None = None) -> bool:
        dom, state = self._domain(instance_uuid)
        if not ps.check(instance_uuid, "power_off", state):
            return False
        if state == PowerState.SUSPENDED:
            with self.host.errors(instance_uuid, "power off"):
                if not dom.isActive():  # powering off discards the saved memory
                    dom.managedSaveRemove(0)
                    return False
        timeout = self._opts.shutdown_timeout if timeout is None else timeout
        if state == PowerState.RUNNING and timeout > 0 and self._shutdown(
                instance_uuid, dom, timeout):
            return True
        self._force_off(instance_uuid, dom)
        return False

    def power_on(self, instance_uuid: str) -> None:
        dom, state = self._domain(instance_uuid)
        if ps.check(instance_uuid, "power_on", state):
            with self.host.errors(instance_uuid, "power on"):
                dom.createWithFlags(0)

    def reboot(self, instance_uuid: str, hard: bool = False) -> str:
        dom, state = self._domain(instance_uuid)
        if not hard:
            ps.check(instance_uuid, "soft reboot", state)
            timeout = self._opts.shutdown_timeout
            if timeout > 0 and self._shutdown(instance_uuid, dom, timeout):
                with self.host.errors(instance_uuid, "soft reboot"):
                    dom.createWithFlags(0)
                return "soft"
            LOG.warning("instance %s ignored the power button for %s s; rebooting it hard",
                        instance_uuid, timeout)
        ps.check(instance_uuid, "hard reboot", state)
        self._force_off(instance_uuid, dom)
        with self.host.errors(instance_uuid, "hard reboot"):
            if dom.hasManagedSaveImage(0):
                dom.managedSaveRemove(0)
            dom.createWithFlags(0)
        return "hard"

    def pause(self, instance_uuid: str) -> None:
        self._act(instance_uuid, "pause", lambda dom: dom.suspend())  # libvirt's "suspend"

    def unpause(self, instance_uuid: str) -> None:
        self._act(instance_uuid, "unpause", lambda dom: dom.resume())

    def suspend(self, instance_uuid: str) -> None:
        # SAVE_RUNNING: a guest suspended while paused comes back running on resume.
        self._act(instance_uuid, "suspend", lambda dom: dom.managedSave(SAVE_RUNNING))

    def resume(self, instance_uuid: str) -> None:
        # Starting a domain that has a managed save image restores it.
        self._act(instance_uuid, "resume", lambda dom: dom.createWithFlags(0))

    # ----------------------------------------------------------------- ports
    def attach_interface(self, instance_uuid: str, vif: Vif) -> None:
        self.plugger.attach(instance_uuid, vif)

    def detach_interface(self, instance_uuid: str, vif: Vif) -> None:
        self.plugger.detach(instance_uuid, vif)

    # --------------------------------------------------------------- volumes
    def attach_volume(self, instance_uuid: str, volume: VolumeDevice) -> str:
        return self.volumes.attach(instance_uuid, volume)

    def detach_volume(self, instance_uuid: str, volume_id: str) -> None:
        self.volumes.detach(instance_uuid, volume_id)

    # --------------------------------------------------------------- consoles
    def console_port(self, instance_uuid: str, console_type: str) -> int:
        if console_type not in CONSOLE_TYPES:
            raise NotSupported(f"console type {console_type!r} is not one of "
                               f"{', '.join(CONSOLE_TYPES)}")
        dom, state = self._domain(instance_uuid)
        if state not in (PowerState.RUNNING, PowerState.PAUSED):
            raise ConsoleNotAvailable(f"instance {instance_uuid} is {state.name.lower()}; "
                                      "start it to reach its console")
        xml = self.host.xml(instance_uuid, dom)
        port = domain_xml.vnc_port(xml) if console_type == "novnc" \
            else domain_xml.serial_port(xml)
        if port is None:
            raise ConsoleNotAvailable(f"instance {instance_uuid} has no {console_type} "
                                      "console; it was defined without one (rebuild or "
                                      "resize it to get one)")
        return port

    def cleanup_image_cache(self, min_age: float) -> list[str]:
        stale = disks.remove_stale(paths.snapshot_dir(self._opts.instances_path),
                                   STALE_SNAPSHOT_AGE)
        if stale:
            LOG.warning("removed %d interrupted snapshot copies: %s", len(stale), stale)
        return self.image_cache.cleanup(min_age=min_age)

    # ---------------------------------------------------------------- status
    def get_info(self, instance_uuid: str) -> InstanceInfo:
        dom = self.host.lookup(instance_uuid)
        return self._info(instance_uuid, dom)

    def list_instances(self) -> list[InstanceInfo]:
        infos = []
        for uuid, dom in self.host.our_domains(self.owner):
            with contextlib.suppress(InstanceNotFound):  # undefined while we looked
                infos.append(self._info(uuid, dom))
        return infos

    def host_resources(self) -> HostResources:
        with self.host.errors(None, "read host resources"):
            conn = self.host.connection()
            cpu_model, memory_mb, cpus = conn.getInfo()[:3]
            version = conn.getVersion()
        os.makedirs(self._opts.instances_path, mode=0o755, exist_ok=True)
        fs = os.statvfs(self._opts.instances_path)
        return HostResources(vcpus=cpus, memory_mb=memory_mb,
                             disk_gb=fs.f_blocks * fs.f_frsize // GIB,
                             disk_free_gb=fs.f_bavail * fs.f_frsize // GIB,
                             hypervisor_type="QEMU", hypervisor_version=version,
                             cpu_model=cpu_model)

    def list_instance_files(self) -> list[str]:
        return paths.list_instance_dirs(self._opts.instances_path)

    def console_log_path(self, instance_uuid: str) -> str:
        return self._paths(instance_uuid).console_log

    # --------------------------------------------------------------- helpers
    def _wants_config_drive(self, instance: Instance) -> bool:
        return instance.config_drive or self._opts.force_config_drive

    def _define(self, instance: Instance, files: paths.InstancePaths,
                serial_port: int | None = None) -> Any:
        """(Re)define instance's domain with serial_port, else the port its definition
        has, else a free one."""
        with self.serial_ports.reserving():
            port = serial_port or self._serial_port_of(instance.uuid) or \
                self.serial_ports.choose(self._serial_ports_in_use())
            xml = domain_xml.build(self.domain_spec(instance, files, serial_port=port))
            self.volumes.ensure_secrets(instance)  # the disks name them
            with self.host.errors(instance.uuid, "define"):
                return self.host.connection().defineXMLFlags(xml, DEFINE_VALIDATE)

    def _serial_port_of(self, instance_uuid: str) -> int | None:
        try:
            dom = self.host.lookup(instance_uuid)
        except InstanceNotFound:
            return None
        return domain_xml.serial_port(self.host.xml(instance_uuid, dom, inactive=True))

    def _serial_ports_in_use(self) -> set[int]:
        """Serial ports of every domain on this libvirtd, whoever owns it."""
        with self.host.errors(None, "list domains"):
            domains = self.host.connection().listAllDomains(0)
        used = set()
        for dom in domains:
            for inactive in (True, False):
                with contextlib.suppress(ComputeError):  # gone meanwhile, or transient
                    port = domain_xml.serial_port(self.host.xml(None, dom, inactive))
                    if port:
                        used.add(port)
        return used

    def _remove_domain_and_disks(self, instance_uuid: str) -> None:
        """Undefine the domain and delete its disks, keeping the console log."""
        self.destroy(instance_uuid, keep_files=True)
        files = self._paths(instance_uuid)
        for path in (files.disk, files.config_drive, files.resize_copy, files.resize_record):
            disks.unlink_quietly(path)

    def _paths(self, instance_uuid: str) -> paths.InstancePaths:
        return paths.InstancePaths(self._opts.instances_path, canonical_uuid(instance_uuid))

    def _domain(self, instance_uuid: str) -> tuple[Any, PowerState]:
        dom = self.host.lookup(instance_uuid)
        return dom, self.host.power_state(instance_uuid, dom)[0]

    def _act(self, instance_uuid: str, action: str, call: Callable[[Any], Any]) -> None:
        dom, state = self._domain(instance_uuid)
        if ps.check(instance_uuid, action, state):
            with self.host.errors(instance_uuid, action):
                call(dom)

    def _info(self, instance_uuid: str, dom: Any) -> InstanceInfo:
        state, reason = self.host.power_state(instance_uuid, dom)
        with self.host.errors(instance_uuid, "get info"):
            _, _, memory_kib, vcpus, cpu_time = dom.info()
        return InstanceInfo(uuid=instance_uuid, power_state=state, state_reason=reason,
                            memory_kib=memory_kib, vcpus=vcpus, cpu_time_ns=cpu_time)

    def _force_off(self, instance_uuid: str, dom: Any) -> None:
        with self.host.errors(instance_uuid, "force off"):
            if not dom.isActive():
                return
            try:
                dom.destroy()
            except Exception:
                if dom.isActive():  # not a race with the guest powering itself off
                    raise

    def _shutdown(self, instance_uuid: str, dom: Any, timeout: float) -> bool:
        """Press the ACPI power button (again every retry interval) until the guest is off.

        True when it stopped within timeout seconds.
        """
        started = self._clock()
        deadline, next_press = started + timeout, started
        with self.host.errors(instance_uuid, "graceful shutdown"):
            while self._clock() < deadline:
                if not dom.isActive():
                    LOG.info("instance %s shut down by itself in %.1f s", instance_uuid,
                             self._clock() - started)
                    return True
                if self._clock() >= next_press:
                    with contextlib.suppress(InvalidPowerState), \
                            self.host.errors(instance_uuid, "press power button"):
                        dom.shutdownFlags(SHUTDOWN_ACPI_POWER_BTN)
                    next_press = self._clock() + self._opts.shutdown_retry_interval
                self._sleep(POLL_INTERVAL)
            return not dom.isActive()


@contextlib.contextmanager
def _timed(timings: dict[str, float], stage: str):
    started = time.monotonic()
    try:
        yield
    finally:
        timings[stage] = time.monotonic() - started
