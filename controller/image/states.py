"""Image statuses and the moves between them: one line per allowed transition."""

from __future__ import annotations

from controller import exceptions

QUEUED = "queued"
SAVING = "saving"
ACTIVE = "active"
KILLED = "killed"
DEACTIVATED = "deactivated"

# Glance's full status list; importing/uploading/pending_delete are never entered here
# but clients validate against the enum, so it stays whole.
ALL = ("queued", "saving", "active", "killed", "deleted", "uploading", "importing",
       "pending_delete", "deactivated")

TRANSITIONS = {
    (QUEUED, SAVING): "an upload starts",
    (SAVING, ACTIVE): "the uploaded data was stored and verified",
    (SAVING, QUEUED): "the upload failed; the client may upload again",
    (SAVING, KILLED): "the uploaded data failed its integrity check",
    (ACTIVE, DEACTIVATED): "an administrator hides the data",
    (DEACTIVATED, ACTIVE): "an administrator restores the data",
}

# Statuses whose image holds data that can be read back.
WITH_DATA = (ACTIVE, DEACTIVATED)


def allowed(current: str, new: str) -> bool:
    """Whether an image may move from current to new."""
    return (current, new) in TRANSITIONS


def check(current: str, new: str) -> None:
    """:raises Conflict: with Glance's message when the move is not allowed."""
    if not allowed(current, new):
        raise exceptions.Conflict(
            f"Image status transition from {current} to {new} is not allowed")
