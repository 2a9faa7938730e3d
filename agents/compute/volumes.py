"""Volumes on libvirt domains: network disks over iSCSI with CHAP, hot-plugged and
unplugged, and the CHAP secrets they need.

A volume is a ``<disk type='network'>`` (:mod:`agents.compute.libvirt_disk`) whose
password lives in a libvirt secret named after the volume. At boot the instance's
volumes are part of the domain definition (the root one as ``vda``: no local overlay);
a hot-plug applies the same element to the persistent definition and, while the guest
runs, to the live domain, so a power cycle keeps it. Both directions are idempotent, so
the conductor may ask again. The device the guest gets is the one asked for when it is
free in the domain, else the next free virtio name (a virtio config drive may hold one);
the answer says which.

A secret is removed when no domain on this libvirtd uses its volume any more (a
multiattach volume in two guests here shares one), after a detach or a destroy, and by
:meth:`VolumePlugger.sweep_secrets` for a crash in between.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from agents.compute import libvirt_disk
from agents.compute.block_device import VolumeDevice
from agents.compute.exception import ComputeError, HypervisorError
from agents.compute.libvirt_host import Host
from agents.compute.model import Instance

LOG = logging.getLogger(__name__)

# libvirt flag values (stable ABI), spelled out so this module imports without libvirt.
AFFECT_LIVE, AFFECT_CONFIG = 1, 2
POLL_INTERVAL = 0.1


class VolumePlugger:
    """Volumes of this host's domains, and their CHAP secrets."""

    def __init__(self, host: Host, detach_timeout: float,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.host = host
        self.detach_timeout = detach_timeout
        self._sleep = sleep
        self._clock = clock

    # ------------------------------------------------------------- at definition
    def disks(self, instance: Instance) -> list[str]:
        """The disk elements of instance's volumes for its definition (root first).

        :raises InvalidInput: a volume's connection_info cannot be expressed.
        """
        ordered = sorted(instance.volumes, key=lambda v: (v.boot_index is None,
                                                          v.boot_index or 0))
        return [libvirt_disk.disk_xml(dict(v.connection_info), v.device,
                                      initiator=v.initiator) for v in ordered]

    def ensure_secrets(self, instance: Instance) -> None:
        """Store the CHAP passwords of instance's volumes (before it is defined).

        :raises HypervisorUnavailable, HypervisorError: libvirt refused.
        """
        if not instance.volumes:
            return
        with self.host.errors(instance.uuid, "store the volumes' CHAP secrets"):
            conn = self.host.connection()
            for volume in instance.volumes:
                libvirt_disk.ensure_secret(conn, dict(volume.connection_info))

    # ------------------------------------------------------------------ hot-plug
    def _disks(self, instance_uuid: str, dom: Any, inactive: bool) -> dict[str, tuple]:
        return libvirt_disk.volume_disks(self.host.xml(instance_uuid, dom, inactive))

    def attach(self, instance_uuid: str, volume: VolumeDevice) -> str:
        """Plug volume into the domain (persistently, and live when it runs); return the
        target device it has there.

        :raises InstanceNotFound: no domain for this instance.
        :raises InvalidInput: the connection_info cannot be expressed.
        :raises HypervisorError: libvirt (or QEMU, logging in to the target) refused.
        """
        dom = self.host.lookup(instance_uuid)
        with self.host.errors(instance_uuid, "attach volume"):
            live = bool(dom.isActive())
        config_xml = self.host.xml(instance_uuid, dom, inactive=True)
        live_xml = self.host.xml(instance_uuid, dom) if live else config_xml
        in_config = libvirt_disk.volume_disks(config_xml).get(volume.volume_id)
        in_live = libvirt_disk.volume_disks(live_xml).get(volume.volume_id)
        flags = (0 if in_config else AFFECT_CONFIG) | (AFFECT_LIVE if live and not in_live
                                                       else 0)
        present = in_live or in_config
        if not flags:
            LOG.info("instance %s already has volume %s", instance_uuid, volume.volume_id)
            return present[0]
        device = present[0] if present else libvirt_disk.free_dev(
            libvirt_disk.target_devs(config_xml) | libvirt_disk.target_devs(live_xml),
            volume.device)
        xml = libvirt_disk.disk_xml(dict(volume.connection_info), device,
                                    initiator=volume.initiator)
        with self.host.errors(instance_uuid, "attach volume"):
            libvirt_disk.ensure_secret(self.host.connection(), dict(volume.connection_info))
            dom.attachDeviceFlags(xml, flags)
        LOG.info("attached volume %s to instance %s as %s%s", volume.volume_id,
                 instance_uuid, device, " (live)" if flags & AFFECT_LIVE else "")
        return device

    def detach(self, instance_uuid: str, volume_id: str) -> None:
        """Unplug the volume; a running guest must release it within detach_timeout
        seconds. Its secret goes when no other domain here uses the volume.

        :raises InstanceNotFound: no domain for this instance.
        :raises HypervisorError: libvirt refused, or the guest kept the disk.
        """
        dom = self.host.lookup(instance_uuid)
        with self.host.errors(instance_uuid, "detach volume"):
            live = bool(dom.isActive())
        in_config = self._disks(instance_uuid, dom, inactive=True).get(volume_id)
        in_live = self._disks(instance_uuid, dom, inactive=False).get(volume_id) \
            if live else None
        for found, flag in ((in_live, AFFECT_LIVE), (in_config, AFFECT_CONFIG)):
            if found is None:
                continue
            with self.host.errors(instance_uuid, "detach volume"):
                dom.detachDeviceFlags(found[1], flag)
            if flag == AFFECT_LIVE:
                self._wait_released(instance_uuid, dom, volume_id)
        if in_live or in_config:
            LOG.info("detached volume %s from instance %s", volume_id, instance_uuid)
        else:
            LOG.info("instance %s has no volume %s any more", instance_uuid, volume_id)
        self.release_secrets([volume_id])

    def _wait_released(self, instance_uuid: str, dom: Any, volume_id: str) -> None:
        """libvirt returns before the guest lets go of the disk: poll the live XML."""
        deadline = self._clock() + self.detach_timeout
        while volume_id in self._disks(instance_uuid, dom, inactive=False):
            if self._clock() >= deadline:
                raise HypervisorError(
                    f"instance {instance_uuid}: the guest did not release volume "
                    f"{volume_id} within {self.detach_timeout:g} s (it may still be "
                    "using it, or its kernel lacks PCI hot-unplug); it stays attached, "
                    "try again later")
            self._sleep(POLL_INTERVAL)

    # ------------------------------------------------------------------- secrets
    def volumes_of(self, instance_uuid: str, dom: Any) -> list[str]:
        """The volume ids a domain's definition (and live state) use."""
        found: set[str] = set()
        for inactive in (True, False):
            try:
                found |= set(self._disks(instance_uuid, dom, inactive=inactive))
            except ComputeError:  # not running, or gone meanwhile
                continue
        return sorted(found)

    def _in_use(self) -> set[str]:
        """Volume ids any domain on this libvirtd uses (whoever owns it)."""
        with self.host.errors(None, "list domains"):
            domains = self.host.connection().listAllDomains(0)
        used: set[str] = set()
        for dom in domains:
            for inactive in (True, False):
                try:
                    used |= set(libvirt_disk.volume_disks(self.host.xml(None, dom, inactive)))
                except ComputeError:  # gone meanwhile
                    continue
        return used

    def release_secrets(self, volume_ids: Iterable[str]) -> None:
        """Remove the secrets of volume_ids that no domain here uses any more (a failure
        is logged: a stale secret only holds a password the volume no longer needs)."""
        wanted = set(volume_ids)
        if not wanted:
            return
        try:
            unused = wanted - self._in_use()
            conn = self.host.connection()
            for volume_id in sorted(unused):
                libvirt_disk.remove_secret(conn, volume_id)
        except ComputeError as exc:
            LOG.warning("could not remove the CHAP secrets of %s: %s", sorted(wanted), exc)

    def sweep_secrets(self) -> list[str]:
        """Remove every secret of ours no domain uses (start-up reconciliation); return
        the volume ids whose secret went."""
        try:
            with self.host.errors(None, "list secrets"):
                ours = libvirt_disk.our_secrets(self.host.connection())
        except ComputeError as exc:
            LOG.warning("could not list the CHAP secrets: %s", exc)
            return []
        unused = sorted(set(ours) - self._in_use())
        self.release_secrets(unused)
        if unused:
            LOG.info("removed the CHAP secrets of volumes no guest uses: %s", unused)
        return unused
