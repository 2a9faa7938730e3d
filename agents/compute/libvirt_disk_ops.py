"""Snapshot, resize (with confirm and revert) and rebuild for :class:`LibvirtDriver`.

A mixin over the driver's own helpers (``_domain``, ``_define``, ``_paths``,
``_force_off``, ``_create``, ``_remove_domain_and_disks``, ``power_off``), kept apart so
each module stays small. A pending resize is two files in the instance directory: the
root disk as it was (``disk.resize-orig``) and a record of the power state and flavor
before (``resize.json``, written once the copy is complete).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
import uuid as uuidlib
from typing import Any

from agents.compute import disks, domain_xml, paths
from agents.compute.driver import Uploader
from agents.compute.exception import ComputeError, DiskTooSmall
from agents.compute.model import Flavor, Instance, InstanceInfo
from agents.compute.power_state import PowerState

LOG = logging.getLogger(__name__)
GIB = 1024 ** 3


class DiskOpsMixin:
    """The operations that replace or copy an instance's root disk."""

    # ------------------------------------------ snapshot, resize, rebuild
    def snapshot(self, instance_uuid: str, upload: Uploader) -> None:
        files = self._paths(instance_uuid)
        dom, state = self._domain(instance_uuid)
        workdir = paths.snapshot_dir(self._opts.instances_path)
        os.makedirs(workdir, mode=0o700, exist_ok=True)
        flat = os.path.join(workdir, f"{files.uuid}.{uuidlib.uuid4().hex[:8]}.qcow2")
        try:
            started = time.monotonic()
            paused_here = state == PowerState.RUNNING
            if paused_here:  # pausing flushes QEMU's caches: the file is consistent
                with self.host.errors(instance_uuid, "pause for the snapshot"):
                    dom.suspend()
            try:
                disks.flatten(self._execute, files.disk, flat)
            finally:
                if paused_here:
                    with self.host.errors(instance_uuid, "unpause after the snapshot"):
                        dom.resume()
            LOG.info("instance %s: root disk copied for the snapshot in %.2f s (%s)",
                     instance_uuid, time.monotonic() - started,
                     "paused meanwhile" if paused_here else state.name.lower())
            upload(disks.read_chunks(flat))
        finally:
            disks.unlink_quietly(flat)

    def resize(self, instance: Instance, old_flavor: Flavor | None = None) -> InstanceInfo:
        files = self._paths(instance.uuid)
        dom, state = self._domain(instance.uuid)
        if instance.image is None:
            return self._resize_volume_backed(instance, old_flavor, dom, state)
        wanted = instance.flavor.root_gb
        current = self.image_cache.virtual_size(files.disk, "qcow2")
        if wanted and wanted * GIB < current:
            raise DiskTooSmall(f"instance {instance.uuid} has a {current / GIB:.2f} GiB root "
                               f"disk; flavor {instance.flavor.name} has {wanted} GiB and a "
                               "disk is never shrunk: choose a flavor at least as large")
        record = disks.ResizeRecord.load(files.resize_record)
        if record is None:
            if old_flavor is None:
                old_flavor = self._recorded_flavor(instance.uuid, dom)
            record = disks.ResizeRecord(
                was_running=state in (PowerState.RUNNING, PowerState.PAUSED),
                old_flavor=dataclasses.asdict(old_flavor) if old_flavor else None)
            self.power_off(instance.uuid)
            disks.copy(self._execute, files.disk, files.resize_copy)
            record.save(files.resize_record)
        else:  # a retried resize: the first copy is the one a revert needs
            LOG.info("instance %s: resize already pending; keeping the first copy",
                     instance.uuid)
            self.power_off(instance.uuid)
        try:
            if wanted:
                self.image_cache.resize_overlay(files.disk, wanted)
            dom = self._define(instance, files)
            if record.was_running:
                with self.host.errors(instance.uuid, "start after the resize"):
                    dom.createWithFlags(0)
        except ComputeError as exc:
            LOG.warning("resize of instance %s failed: %s; restoring it as it was",
                        instance.uuid, exc)
            if record.old_flavor:
                with contextlib.suppress(ComputeError, TypeError):
                    old = dataclasses.replace(instance, flavor=Flavor(**record.old_flavor))
                    self.revert_resize(old)
            raise
        LOG.info("instance %s resized to %s", instance.uuid, instance.flavor.name)
        return self.get_info(instance.uuid)

    def confirm_resize(self, instance_uuid: str) -> None:
        files = self._paths(instance_uuid)
        disks.unlink_quietly(files.resize_copy)
        disks.unlink_quietly(files.resize_record)
        LOG.info("instance %s: resize confirmed, copy dropped", instance_uuid)

    def revert_resize(self, instance: Instance) -> InstanceInfo:
        files = self._paths(instance.uuid)
        dom, state = self._domain(instance.uuid)
        record = disks.ResizeRecord.load(files.resize_record)
        if record is not None and instance.image is None:
            return self._revert_volume_backed(instance, dom, record)
        if record is None or not os.path.exists(files.resize_copy):
            LOG.warning("instance %s: no resize to revert; making its definition match "
                        "flavor %s", instance.uuid, instance.flavor.name)
            self._define(instance, files)
            return self.get_info(instance.uuid)
        self._force_off(instance.uuid, dom)  # the resized disk is discarded anyway
        with self.host.errors(instance.uuid, "discard the saved memory"):
            if dom.hasManagedSaveImage(0):
                dom.managedSaveRemove(0)
        os.replace(files.resize_copy, files.disk)
        dom = self._define(instance, files)
        if record.was_running:
            with self.host.errors(instance.uuid, "start after the revert"):
                dom.createWithFlags(0)
        disks.unlink_quietly(files.resize_record)
        LOG.info("instance %s: resize reverted to %s", instance.uuid, instance.flavor.name)
        return self.get_info(instance.uuid)

    def rebuild(self, instance: Instance, power_on: bool = True) -> InstanceInfo:
        port = self._serial_port_of(instance.uuid)  # the console proxy's address stays
        self._remove_domain_and_disks(instance.uuid)
        info = self._create(instance, start=power_on, keep_console_log=True,
                            serial_port=port)
        LOG.info("instance %s rebuilt from image %s", instance.uuid, instance.image.id)
        return info

    # ---------------------------------------- volume-backed: no local disk to copy
    def _resize_volume_backed(self, instance: Instance, old_flavor: Flavor | None, dom: Any,
                              state: PowerState) -> InstanceInfo:
        """The root disk is a volume, untouched by a resize: only the definition changes
        (memory, vCPUs); the record says how to go back."""
        files = self._paths(instance.uuid)
        record = disks.ResizeRecord.load(files.resize_record)
        if record is None:
            old_flavor = old_flavor or self._recorded_flavor(instance.uuid, dom)
            record = disks.ResizeRecord(
                was_running=state in (PowerState.RUNNING, PowerState.PAUSED),
                old_flavor=dataclasses.asdict(old_flavor) if old_flavor else None)
            record.save(files.resize_record)
        self.power_off(instance.uuid)
        dom = self._define(instance, files)
        if record.was_running:
            with self.host.errors(instance.uuid, "start after the resize"):
                dom.createWithFlags(0)
        LOG.info("volume-backed instance %s resized to %s", instance.uuid,
                 instance.flavor.name)
        return self.get_info(instance.uuid)

    def _revert_volume_backed(self, instance: Instance, dom: Any,
                              record: disks.ResizeRecord) -> InstanceInfo:
        files = self._paths(instance.uuid)
        self._force_off(instance.uuid, dom)
        dom = self._define(instance, files)
        if record.was_running:
            with self.host.errors(instance.uuid, "start after the revert"):
                dom.createWithFlags(0)
        disks.unlink_quietly(files.resize_record)
        LOG.info("volume-backed instance %s: resize reverted to %s", instance.uuid,
                 instance.flavor.name)
        return self.get_info(instance.uuid)

    def _recorded_flavor(self, instance_uuid: str, dom: Any) -> Flavor | None:
        found = domain_xml.flavor_of(self.host.xml(instance_uuid, dom, inactive=True))
        try:
            return Flavor(**found) if found else None
        except (TypeError, ComputeError):
            return None
