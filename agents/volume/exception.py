"""The volume agent's own errors.

Drivers, target helpers, the image copy and the backup stores translate qemu-img, LVM,
tgtadm, rtslib and HTTP failures into these at their edge (raising ``from`` the
original), so the manager deals with one vocabulary. Messages say what happened and
what to do next: they end up in the agent log next to the volume's error status.
"""

from __future__ import annotations


class VolumeAgentError(Exception):
    """Base of every volume agent error."""


class InvalidInput(VolumeAgentError):
    """Data handed to the agent failed validation (uuid, size, address, IQN...)."""


class VolumeNotFound(VolumeAgentError):
    """The backend holds no data for this volume."""

    def __init__(self, volume_id: str):
        self.volume_id = volume_id
        super().__init__(f"volume {volume_id} has no data on this backend; it was deleted, "
                         "never created here, or lives on another backend")


class SnapshotNotFound(VolumeAgentError):
    """The backend holds no data for this snapshot."""

    def __init__(self, snapshot_id: str):
        self.snapshot_id = snapshot_id
        super().__init__(f"snapshot {snapshot_id} has no data on this backend")


class BackendError(VolumeAgentError):
    """The storage backend (filesystem, LVM) refused or failed an operation."""


class InsufficientSpace(BackendError):
    """Not enough free space on the backend for the operation."""


class AlreadyExists(BackendError):
    """The backend already holds data under this volume's or snapshot's name (a repeated
    create): the existing data is left alone."""

    def __init__(self, kind: str, resource_id: str):
        super().__init__(f"{kind} {resource_id} already has data on this backend; it was "
                         "not touched")


class TargetError(VolumeAgentError):
    """The iSCSI target (tgtd, LIO) refused or failed an operation."""


class ImageError(VolumeAgentError):
    """An image could not be fetched, verified, converted or uploaded."""


class ImageUnacceptable(ImageError):
    """The image data is not what its record says, or is unsafe to open."""


class Cancelled(VolumeAgentError):
    """The operation was abandoned because its volume is being deleted."""


class BackupError(VolumeAgentError):
    """A backup could not be written, read, verified or deleted."""


class BackupNotFound(BackupError):
    """The backup store holds no (complete) backup of this id."""

    def __init__(self, backup_id: str):
        self.backup_id = backup_id
        super().__init__(f"backup {backup_id} has no manifest in the backup store: it was "
                         "deleted, never completed, or lives in another store")
