"""The compute agent's own errors.

Drivers translate libvirt, qemu-img and ISO-tool failures into these at their edge
(raising ``from`` the original), so the RPC manager and the conductor deal with one
vocabulary and never import libvirt. Messages say what happened and what to do next.
"""

from __future__ import annotations


class ComputeError(Exception):
    """Base of every compute agent error."""


class InvalidInput(ComputeError):
    """Data handed to the agent failed validation (uuid, MAC, bridge name...)."""


class NotSupported(ComputeError):
    """The driver does not implement this operation (yet)."""


class HypervisorUnavailable(ComputeError):
    """The hypervisor cannot be reached; retry once libvirtd is running again."""


class HypervisorError(ComputeError):
    """The hypervisor refused or failed an operation for a reason not listed below."""


class InstanceNotFound(ComputeError):
    """No domain for this instance on this host."""

    def __init__(self, instance_uuid: str):
        self.instance_uuid = instance_uuid
        super().__init__(f"instance {instance_uuid} has no domain on this host; "
                         "it was deleted, never spawned here, or lives on another host")


class InvalidPowerState(ComputeError):
    """The operation is not allowed in the domain's current power state."""

    def __init__(self, instance_uuid: str, action: str, state: str, hint: str = ""):
        self.instance_uuid = instance_uuid
        self.action = action
        self.state = state
        super().__init__(f"cannot {action} instance {instance_uuid} while it is {state}"
                         + (f": {hint}" if hint else ""))


class ImageError(ComputeError):
    """A base image could not be fetched or is unacceptable."""


class ImageChecksumMismatch(ImageError):
    """The downloaded bytes do not match the checksum the image service recorded."""


class ImageUnacceptable(ImageError):
    """The image is not something this host will boot (format mismatch, backing file...)."""


class DiskTooSmall(ComputeError):
    """The flavor's root disk is smaller than the image's virtual size."""


class DiskError(ComputeError):
    """qemu-img (or the filesystem) failed on an instance disk."""


class ConfigDriveError(ComputeError):
    """The config drive image could not be built."""


class ConsoleNotAvailable(ComputeError):
    """The guest has no console of that kind right now (not running, or not configured)."""


class ResizeError(ComputeError):
    """A resize, its confirmation or its revert could not be carried out."""
