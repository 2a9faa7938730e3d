"""The hypervisor driver interface: what the compute RPC manager calls on a host.

Implementations: :mod:`agents.compute.libvirt_driver` (libvirt/QEMU, real hosts and
functional tests) and :mod:`agents.compute.fake` (in memory, for unit tests of
callers). Every method takes the instance uuid, is idempotent where the operation
allows it (calling ``power_off`` on a stopped guest is not an error), and raises only
:mod:`agents.compute.exception` errors; libvirt's own are translated at the driver's
edge.

Power state rules are data (:data:`agents.compute.power_state.TRANSITIONS`) that every
driver checks, so the fake and libvirt agree: an action that is already done is a no-op
(``pause`` on a paused guest), one not allowed raises ``InvalidPowerState`` saying what
to do first. The conductor's state machine should already have refused those, so they
signal a race or a bug upstream.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable, Iterator

from agents.compute.block_device import VolumeDevice
from agents.compute.exception import NotSupported
from agents.compute.model import Flavor, HostResources, Instance, InstanceInfo, Vif

Uploader = Callable[[Iterator[bytes]], None]
"""Consumes a snapshot's bytes (the image client's upload, bound to the image id)."""

CONSOLE_TYPES = ("novnc", "serial")


class ComputeDriver(abc.ABC):
    """A hypervisor on this host."""

    # ------------------------------------------------------------- lifecycle
    @abc.abstractmethod
    def spawn(self, instance: Instance) -> InstanceInfo:
        """Create the instance's disks (and config drive), define and start its domain.

        Resumable: disks that already exist are kept, the definition is replaced, and a
        running domain is left running. On failure everything spawn created is removed.

        :raises InvalidInput: the instance cannot be expressed on this host.
        :raises ImageError: the base image could not be fetched or is unacceptable.
        :raises DiskTooSmall: the flavor's root disk is smaller than the image.
        :raises DiskError: qemu-img failed.
        :raises ConfigDriveError: the config drive could not be built.
        :raises HypervisorUnavailable: the hypervisor cannot be reached.
        :raises HypervisorError: the hypervisor refused the domain or failed to start it.
        """

    @abc.abstractmethod
    def destroy(self, instance_uuid: str, *, keep_files: bool = False) -> None:
        """Stop the domain at once, undefine it and (unless keep_files) delete its files.

        Idempotent: an instance with no domain only has its files removed.

        :raises HypervisorUnavailable: the hypervisor cannot be reached.
        :raises HypervisorError: the domain could not be stopped or undefined.
        """

    # ----------------------------------------------------------------- power
    @abc.abstractmethod
    def power_off(self, instance_uuid: str, timeout: float | None = None) -> bool:
        """Stop the guest: ACPI power button, then forced off after timeout seconds.

        timeout None uses ``[compute] shutdown_timeout``; 0 forces at once. Returns True
        when the guest shut down by itself, False when it had to be forced (or was off).

        :raises InstanceNotFound: no domain for this instance.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    @abc.abstractmethod
    def power_on(self, instance_uuid: str) -> None:
        """Start a stopped guest (cold boot).

        :raises InstanceNotFound: no domain for this instance.
        :raises InvalidPowerState: the guest is paused or suspended.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    @abc.abstractmethod
    def reboot(self, instance_uuid: str, hard: bool = False) -> str:
        """Restart the guest; return "soft" or "hard": how it was actually done.

        Soft: a graceful power off within ``shutdown_timeout`` then a cold start; a
        guest that ignores the power button gets a hard reboot instead. Hard: the
        domain is destroyed and started again (discarding any suspended image).

        :raises InstanceNotFound: no domain for this instance.
        :raises InvalidPowerState: soft reboot of a guest that is not running.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    @abc.abstractmethod
    def pause(self, instance_uuid: str) -> None:
        """Freeze the guest's vCPUs; memory stays allocated.

        :raises InstanceNotFound: no domain for this instance.
        :raises InvalidPowerState: the guest is not running.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    @abc.abstractmethod
    def unpause(self, instance_uuid: str) -> None:
        """Let a paused guest run again.

        :raises InstanceNotFound: no domain for this instance.
        :raises InvalidPowerState: the guest is not paused.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    @abc.abstractmethod
    def suspend(self, instance_uuid: str) -> None:
        """Save the guest's memory to disk and stop it (frees the host's RAM).

        :raises InstanceNotFound: no domain for this instance.
        :raises InvalidPowerState: the guest is not running or paused.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    @abc.abstractmethod
    def resume(self, instance_uuid: str) -> None:
        """Restore a suspended guest from its saved memory; it continues running.

        :raises InstanceNotFound: no domain for this instance.
        :raises InvalidPowerState: the guest is not suspended.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    # ------------------------------------------ snapshot, resize, rebuild
    @abc.abstractmethod
    def snapshot(self, instance_uuid: str, upload: Uploader) -> None:
        """Hand upload a flattened qcow2 copy of the root disk, as a stream of chunks.

        The copy is taken while the guest is paused or stopped (a running guest is
        paused for the copy only and runs again before the upload starts), so it is
        consistent as of that moment (crash-consistent: like a power cut).

        :raises InstanceNotFound: no domain for this instance.
        :raises DiskError: the copy could not be made.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        Errors raised by upload propagate unchanged.
        """

    @abc.abstractmethod
    def resize(self, instance: Instance, old_flavor: Flavor | None = None) -> InstanceInfo:
        """Move the instance to instance.flavor on this host, keeping what a revert needs.

        Powers the guest off, keeps a copy of the root disk, grows the disk to the new
        root_gb, redefines the domain with the new memory and vCPUs, and starts it again
        when it ran before. A failure restores the instance as it was. old_flavor (the
        flavor before; None: the one recorded in the domain) is kept for the revert.
        Retrying a resize that is waiting for confirmation keeps the first copy.

        :raises InstanceNotFound: no domain for this instance.
        :raises DiskTooSmall: the new root disk is smaller than the current one.
        :raises ResizeError, DiskError: the disk could not be copied or grown.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    @abc.abstractmethod
    def confirm_resize(self, instance_uuid: str) -> None:
        """Drop the copy a revert would need. Idempotent.

        :raises InvalidInput: instance_uuid is not a uuid.
        """

    @abc.abstractmethod
    def revert_resize(self, instance: Instance) -> InstanceInfo:
        """Go back to the root disk kept by :meth:`resize` and to instance.flavor (the
        old one), in the power state the guest had before the resize. Without a kept
        copy (already reverted or confirmed) only the definition is made to match.

        :raises InstanceNotFound: no domain for this instance.
        :raises ResizeError: the kept disk could not be restored.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    @abc.abstractmethod
    def rebuild(self, instance: Instance, power_on: bool = True) -> InstanceInfo:
        """Replace the root disk with a fresh one from instance.image and boot it.

        The domain and root disk (and config drive) are destroyed; the console log and
        serial port are kept. power_on False leaves the rebuilt guest stopped. On a
        failure the domain and new disks are removed (the console log stays), so the
        instance can be rebuilt again.

        :raises ImageError, DiskTooSmall, DiskError, ConfigDriveError: see :meth:`spawn`.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    # --------------------------------------------------------------- consoles
    @abc.abstractmethod
    def console_port(self, instance_uuid: str, console_type: str) -> int:
        """The local TCP port of the guest's console_type (``novnc`` or ``serial``).

        :raises InstanceNotFound: no domain for this instance.
        :raises ConsoleNotAvailable: the guest is not running, or has no such console.
        :raises NotSupported: console_type is not one of CONSOLE_TYPES.
        """

    def cleanup_image_cache(self, min_age: float) -> list[str]:
        """Delete cached base images unused for min_age seconds; return their ids."""
        return []

    # ---------------------------------------------------------------- status
    @abc.abstractmethod
    def get_info(self, instance_uuid: str) -> InstanceInfo:
        """The domain's power state and size, as the hypervisor sees it now.

        :raises InstanceNotFound: no domain for this instance.
        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    @abc.abstractmethod
    def list_instances(self) -> list[InstanceInfo]:
        """Every domain named ``instance-<uuid>`` that this agent owns (tagged with its
        ``conf.host``); other domains, other agents' included, are ignored.

        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    @abc.abstractmethod
    def host_resources(self) -> HostResources:
        """CPU, memory and instance disk capacity of this host (for resource reporting).

        :raises HypervisorUnavailable, HypervisorError: see :meth:`spawn`.
        """

    def list_instance_files(self) -> list[str]:
        """uuids of the instances that have files on this host (for orphan sweeps)."""
        return []

    @abc.abstractmethod
    def console_log_path(self, instance_uuid: str) -> str:
        """Path of the file holding the guest's serial console output (may not exist yet).

        :raises InvalidInput: instance_uuid is not a uuid.
        """

    def get_console_output(self, instance_uuid: str, max_bytes: int = 64 * 1024) -> str:
        """The last max_bytes of the guest's console log ("" before the first boot)."""
        path = self.console_log_path(instance_uuid)
        try:
            with open(path, "rb") as log:
                log.seek(max(0, os.fstat(log.fileno()).st_size - max_bytes))
                data = log.read(max_bytes)
        except FileNotFoundError:
            return ""
        return data.decode("utf-8", "replace")

    # ------------------------------------------- hooks for the network/volume issues
    def attach_interface(self, instance_uuid: str, vif: Vif) -> None:
        """Plug vif into the instance, running or not; a no-op if it is already there.

        :raises InstanceNotFound: no domain for this instance.
        :raises HypervisorError: the hypervisor refused the device.
        :raises NotSupported: this driver cannot hot-plug.
        """
        raise NotSupported("this hypervisor driver cannot attach interfaces")

    def detach_interface(self, instance_uuid: str, vif: Vif) -> None:
        """Unplug vif from the instance; a no-op if it is not there.

        :raises InstanceNotFound: no domain for this instance.
        :raises HypervisorError: the hypervisor refused, or the guest kept the device.
        :raises NotSupported: this driver cannot hot-unplug.
        """
        raise NotSupported("this hypervisor driver cannot detach interfaces")

    def attach_volume(self, instance_uuid: str, volume: VolumeDevice) -> str:
        """Plug volume (an iSCSI network disk, its CHAP secret stored first) into the
        instance, running or not; return the device it got (volume.device if free).
        A no-op answering its device if it is already there.

        :raises InstanceNotFound: no domain for this instance.
        :raises InvalidInput: the volume's connection_info cannot be expressed.
        :raises HypervisorError: the hypervisor refused the disk.
        :raises NotSupported: this driver cannot attach volumes.
        """
        raise NotSupported("this hypervisor driver cannot attach volumes")

    def detach_volume(self, instance_uuid: str, volume_id: str) -> None:
        """Unplug the volume (a running guest must release it); a no-op if the instance
        does not have it. Its CHAP secret goes unless another guest here uses it.

        :raises InstanceNotFound: no domain for this instance.
        :raises HypervisorError: the hypervisor refused, or the guest kept the disk.
        :raises NotSupported: this driver cannot detach volumes.
        """
        raise NotSupported("this hypervisor driver cannot detach volumes")
