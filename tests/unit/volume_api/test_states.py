"""Volume/snapshot/backup transitions as data, and statuses derived from attachments."""

from __future__ import annotations

import pytest

from controller import exceptions
from controller.volume import states


def test_every_transition_names_known_statuses():
    for table, known in ((states.VOLUME, states.VOLUME_STATUSES),
                         (states.SNAPSHOT, states.SNAPSHOT_STATUSES),
                         (states.BACKUP, states.BACKUP_STATUSES)):
        for name, step in table.items():
            assert set(step.allowed) <= set(known), name
            assert step.sets is None or step.sets in known + (states.RESTORING,), name


@pytest.mark.parametrize("status", ["in-use", "attaching", "creating", "deleting",
                                    "backing-up", "uploading", "maintenance"])
def test_delete_refused_with_cinders_message(status):
    with pytest.raises(exceptions.BadRequest) as raised:
        states.check(states.VOLUME, "delete", "v1", status)
    assert raised.value.message.startswith("Invalid volume: Volume status must be available "
                                           "or error or error_restoring")


@pytest.mark.parametrize("status", ["available", "error", "error_restoring",
                                    "error_extending", "error_managing"])
def test_delete_allowed(status):
    assert states.check(states.VOLUME, "delete", "v1", status).sets == states.DELETING


def test_force_delete_never_takes_an_in_use_volume():
    assert "in-use" not in states.VOLUME["force_delete"].allowed
    assert states.check(states.VOLUME, "force_delete", "v", "maintenance").sets == "deleting"


def test_in_use_snapshot_and_backup_need_force():
    with pytest.raises(exceptions.BadRequest, match="must be available, but current status "
                                                    "is: in-use"):
        states.check(states.VOLUME, "snapshot", "v", "in-use")
    states.check(states.VOLUME, "snapshot_force", "v", "in-use")
    with pytest.raises(exceptions.BadRequest, match='current status is "in-use"'):
        states.check(states.VOLUME, "backup", "v", "in-use")
    assert states.check(states.VOLUME, "backup_force", "v", "in-use").sets == "backing-up"


def test_snapshot_and_backup_errors_are_their_own():
    with pytest.raises(exceptions.BadRequest, match="^Invalid snapshot: "):
        states.check(states.SNAPSHOT, "delete", "s", "creating")
    with pytest.raises(exceptions.BadRequest, match="^Invalid backup: "):
        states.check(states.BACKUP, "restore", "b", "creating")


@pytest.mark.parametrize(("attachments", "expected"), [
    ([], ("available", "detached")),
    (["reserved"], ("reserved", "detached")),
    (["reserved", "attaching"], ("attaching", "attaching")),
    (["attaching", "attached"], ("in-use", "attached")),
    (["detaching"], ("available", "detached")),
])
def test_settled_status_follows_attachments(attachments, expected):
    assert states.settled(attachments) == expected
