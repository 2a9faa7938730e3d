"""Cinder's errors, with Cinder's wording: clients and operators grep for these messages."""

from __future__ import annotations

from controller import exceptions


class InvalidInput(exceptions.BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid input received: {reason}")


class InvalidVolume(exceptions.BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid volume: {reason}")


class InvalidSnapshot(exceptions.BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid snapshot: {reason}")


class InvalidBackup(exceptions.BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid backup: {reason}")


class InvalidVolumeType(exceptions.BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid volume type: {reason}")


class QuotaExceeded(exceptions.StratusError):
    """Cinder answers quota errors with 413 (overLimit), unlike Nova's 403."""

    code = 413
    title = "Request Entity Too Large"
    message = "Quota exceeded for resources."


class NoValidBackend(exceptions.StratusError):
    """The scheduler found no pool for a request (the volume goes to status error)."""

    code = 400
    title = "Bad Request"

    def __init__(self, reason: str):
        super().__init__(f"No valid backend was found. {reason}")


def volume_not_found(volume_id: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"Volume {volume_id} could not be found.")


def snapshot_not_found(snapshot_id: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"Snapshot {snapshot_id} could not be found.")


def backup_not_found(backup_id: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"Backup {backup_id} could not be found.")


def type_not_found(type_id: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"Volume type {type_id} could not be found.")


def type_name_not_found(name: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"Volume type with name {name} could not be found.")


def attachment_not_found(attachment_id: str) -> exceptions.NotFound:
    return exceptions.NotFound(
        f"Volume attachment could not be found with filter: attachment_id = {attachment_id}.")


class BackendUnavailable(exceptions.StratusError):
    """A volume agent did not answer a call (it is down, or the bus is)."""

    code = 503
    title = "Service Unavailable"


class BackendFailed(exceptions.StratusError):
    """A volume agent answered a call with an error (the export failed on the host)."""

    code = 500
    title = "Internal Server Error"
