"""Volume, snapshot and backup statuses, and which action may start from which, as data.

Each action is one line: the statuses it is allowed from, the status it sets (None: the
status does not change) and Cinder's reason when it is refused (a 400 "Invalid volume:
..."). The service applies a transition with a guarded UPDATE (``WHERE status IN
allowed``), so of two concurrent actions on one volume only one can start.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from controller import exceptions
from controller.volume import errors

# ------------------------------------------------------------------ volume status
CREATING = "creating"
AVAILABLE = "available"
RESERVED = "reserved"
ATTACHING = "attaching"
IN_USE = "in-use"
DETACHING = "detaching"
DELETING = "deleting"
DELETED = "deleted"
ERROR = "error"
ERROR_DELETING = "error_deleting"
EXTENDING = "extending"
ERROR_EXTENDING = "error_extending"
DOWNLOADING = "downloading"
UPLOADING = "uploading"
BACKING_UP = "backing-up"
RESTORING_BACKUP = "restoring-backup"
ERROR_RESTORING = "error_restoring"
RETYPING = "retyping"
MAINTENANCE = "maintenance"
ERROR_MANAGING = "error_managing"

VOLUME_STATUSES = (CREATING, AVAILABLE, RESERVED, ATTACHING, IN_USE, DETACHING, DELETING,
                   ERROR, ERROR_DELETING, EXTENDING, ERROR_EXTENDING, DOWNLOADING, UPLOADING,
                   BACKING_UP, RESTORING_BACKUP, ERROR_RESTORING, RETYPING, MAINTENANCE,
                   ERROR_MANAGING)
# Statuses that only describe how the volume is attached: recomputed from its attachments.
ATTACH_STATUSES = (AVAILABLE, RESERVED, ATTACHING, IN_USE, DETACHING)

# attach_status (volume) and attachment status
DETACHED = "detached"
ATTACHED = "attached"
ERROR_ATTACHING = "error_attaching"
ERROR_DETACHING = "error_detaching"
ATTACHMENT_STATUSES = (RESERVED, ATTACHING, ATTACHED, DETACHING, DETACHED, ERROR_ATTACHING,
                       ERROR_DETACHING)

# --------------------------------------------------------- snapshot/backup status
RESTORING = "restoring"
SNAPSHOT_STATUSES = (CREATING, AVAILABLE, DELETING, ERROR, ERROR_DELETING, BACKING_UP)
BACKUP_STATUSES = (CREATING, AVAILABLE, DELETING, ERROR, ERROR_DELETING, RESTORING)


@dataclasses.dataclass(frozen=True)
class Transition:
    allowed: tuple[str, ...]
    sets: str | None
    reason: str  # formatted with id= and status=
    error: Callable[[str], exceptions.StratusError] = errors.InvalidVolume


_DELETE = ("Volume status must be available or error or error_restoring or error_extending "
           "or error_managing and must not be migrating, attached, belong to a group, have "
           "snapshots or be disassociated from snapshots after volume transfer.")
_ANY_BUT_BUSY = tuple(s for s in VOLUME_STATUSES if s not in (DELETING, MAINTENANCE))

VOLUME = {
    "delete": Transition((AVAILABLE, ERROR, ERROR_RESTORING, ERROR_EXTENDING, ERROR_MANAGING),
                         DELETING, _DELETE),
    "force_delete": Transition(tuple(s for s in VOLUME_STATUSES if s != IN_USE) + (DELETING,),
                               DELETING, _DELETE),
    "extend": Transition((AVAILABLE,), EXTENDING, "Volume {id} status must be available to "
                         "extend, but current status is: {status}."),
    "extend_attached": Transition((AVAILABLE, IN_USE), EXTENDING, "Volume {id} status must "
                                  "be available or in-use to extend, but current status is: "
                                  "{status}."),
    "snapshot": Transition((AVAILABLE,), None, "Volume {id} status must be available, but "
                           "current status is: {status}."),
    "snapshot_force": Transition((AVAILABLE, IN_USE), None, "Volume {id} status must be "
                                 "available or in-use, but current status is: {status}."),
    "clone": Transition((AVAILABLE, IN_USE), None, "Unable to create a volume from an "
                        "originating source volume when its status is not 'available' or "
                        "'in-use' (volume {id} is {status})."),
    "reserve": Transition((AVAILABLE,), ATTACHING, "Volume {id} status must be available to "
                          "reserve, but the current status is {status}."),
    "reserve_multiattach": Transition((AVAILABLE, IN_USE), ATTACHING, "Volume {id} status "
                                      "must be available or in-use to reserve, but the "
                                      "current status is {status}."),
    "unreserve": Transition((ATTACHING, RESERVED), None, "Volume {id} status must be "
                            "attaching to unreserve, but the current status is {status}."),
    "attach": Transition((AVAILABLE, RESERVED, ATTACHING, IN_USE), IN_USE, "Volume {id} "
                         "status must be available or attaching to attach, but the current "
                         "status is {status}."),
    "attachment_create": Transition((AVAILABLE, RESERVED, ATTACHING, IN_USE, DOWNLOADING),
                                    None, "Volume {id} status must be available or "
                                    "downloading to reserve, but the current status is "
                                    "{status}."),
    "begin_detaching": Transition((IN_USE,), DETACHING, "Unable to detach volume. Volume "
                                  "status must be 'in-use' and attach_status must be "
                                  "'attached' to detach."),
    "roll_detaching": Transition((DETACHING, IN_USE), IN_USE, "Volume {id} status must be "
                                 "detaching to roll back, but the current status is "
                                 "{status}."),
    "detach": Transition(ATTACH_STATUSES + (ERROR,), None, "Volume {id} status must be in-use "
                         "or detaching to detach, but the current status is {status}."),
    "upload_image": Transition((AVAILABLE,), UPLOADING, "Volume {id} status must be "
                               "available, but current status is: {status}."),
    "upload_image_force": Transition((AVAILABLE, IN_USE), UPLOADING, "Volume {id} status must "
                                     "be available or in-use, but current status is: "
                                     "{status}."),
    "backup": Transition((AVAILABLE,), BACKING_UP, 'Volume to be backed up must be available '
                         'or in-use, but the current status is "{status}".'),
    "backup_force": Transition((AVAILABLE, IN_USE), BACKING_UP, 'Volume to be backed up must '
                               'be available or in-use, but the current status is '
                               '"{status}".'),
    "restore_backup": Transition((AVAILABLE,), RESTORING_BACKUP, "Volume to be restored to "
                                 "must be available"),
    "retype": Transition((AVAILABLE, IN_USE), None, "Volume {id} status must be available or "
                         "in-use to retype, but current status is: {status}."),
    "update": Transition(_ANY_BUT_BUSY + (DELETING,), None,
                         "The volume cannot be updated during maintenance."),
    "set_flags": Transition(_ANY_BUT_BUSY, None, "The volume {id} cannot be updated while it "
                            "is {status}."),
}

SNAPSHOT = {
    "delete": Transition((AVAILABLE, ERROR), DELETING, "Volume Snapshot status must be "
                         "available or error and must not be part of a group.",
                         errors.InvalidSnapshot),
    "force_delete": Transition(SNAPSHOT_STATUSES, DELETING, "", errors.InvalidSnapshot),
    "source": Transition((AVAILABLE,), None, "Originating snapshot status must be "
                         "'available', but snapshot {id} is {status}.", errors.InvalidSnapshot),
}

BACKUP = {
    "delete": Transition((AVAILABLE, ERROR), DELETING, "Backup status must be available or "
                         "error", errors.InvalidBackup),
    "force_delete": Transition(BACKUP_STATUSES, DELETING, "", errors.InvalidBackup),
    "restore": Transition((AVAILABLE,), RESTORING, "Backup status must be available",
                          errors.InvalidBackup),
    "source": Transition((AVAILABLE,), None, "Backup status must be available",
                         errors.InvalidBackup),
}


def check(table: dict[str, Transition], action: str, ident: str, status: str) -> Transition:
    """The transition for action, if status allows it.

    :raises BadRequest: (InvalidVolume/Snapshot/Backup) status does not allow action.
    """
    transition = table[action]
    if status not in transition.allowed:
        raise refused(transition, ident, status)
    return transition


def refused(transition: Transition, ident: str, status: str) -> exceptions.StratusError:
    """The error telling the caller why the transition cannot start from status."""
    return transition.error(transition.reason.format(id=ident, status=status))


def settled(attachment_statuses: list[str]) -> tuple[str, str]:
    """(volume status, attach_status) a volume's attachments imply."""
    if ATTACHED in attachment_statuses:
        return IN_USE, ATTACHED
    if ATTACHING in attachment_statuses:
        return ATTACHING, ATTACHING
    if RESERVED in attachment_statuses:
        return RESERVED, DETACHED
    return AVAILABLE, DETACHED
