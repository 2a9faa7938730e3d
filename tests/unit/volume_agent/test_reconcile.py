"""Start-up reconciliation over the fake backend and target."""

from __future__ import annotations

import pytest

from agents.volume import reconcile
from agents.volume.chap import ChapKeys
from agents.volume.exception import BackendError
from agents.volume.fake import FakeDriver, FakeTarget
from agents.volume.targets import Connector
from common.context import RequestContext
from tests.unit.volume_agent.helpers import RecordingServer, backend_conf, new_id

CTX = RequestContext.admin()
HOST_A = {"host": "a", "ip": "192.0.2.10", "initiator": None}
HOST_B = {"host": "b", "ip": "192.0.2.11", "initiator": None}


@pytest.fixture
def env(tmp_path):
    backend = backend_conf()
    return (FakeDriver(backend), FakeTarget(backend), RecordingServer(),
            ChapKeys(str(tmp_path / "key")))


def _converge(env, remove_orphans=True):
    driver, target, server, chap = env
    expected = server.volumes_on_backend(CTX, "host@file")
    return reconcile.converge(CTX, expected, driver, target, chap, server, remove_orphans)


def _kinds(actions):
    return {(a.kind, a.resource) for a in actions}


def test_orphans_and_deleted_volumes_are_removed(env):
    driver, target, server, chap = env
    unknown, deleted, kept = new_id(), new_id(), new_id()
    for volume_id in (unknown, deleted, kept):
        driver.create_volume(volume_id, 1)
    target.ensure_export(unknown, driver.local_path(unknown), chap.credentials(unknown),
                         Connector.from_dict(HOST_A))
    server.add_volume(deleted, "available")
    server.volumes[deleted]["deleted"] = True
    server.add_volume(kept, "available")
    orphan_snapshot = new_id()
    driver.create_snapshot(orphan_snapshot, kept)
    actions = _converge(env)
    assert _kinds(actions) == {("remove-orphan", unknown), ("remove-orphan", deleted),
                               ("remove-orphan", orphan_snapshot)}
    assert driver.list_volumes() == {kept} and not target.exports and not driver.snapshots


def test_remove_orphans_off_keeps_them(env):
    driver, target, server, chap = env
    driver.create_volume(new_id(), 1)
    assert _converge(env, remove_orphans=False) == []
    assert len(driver.volumes) == 1


def test_interrupted_create_goes_to_error_without_data(env):
    driver, target, server, chap = env
    creating, downloading = new_id(), new_id()
    driver.create_volume(creating, 1)  # partial data from the interrupted create
    server.add_volume(creating, "creating")
    server.add_volume(downloading, "downloading")
    actions = _converge(env)
    assert _kinds(actions) == {("fail-create", creating), ("fail-create", downloading)}
    assert server.status(creating) == "error" and server.status(downloading) == "error"
    assert driver.volumes == {}


def test_interrupted_deletes_are_finished(env):
    driver, target, server, chap = env
    volume_id, snapshot_id = new_id(), new_id()
    driver.create_volume(volume_id, 1)
    driver.create_snapshot(snapshot_id, volume_id)
    server.add_volume(volume_id, "deleting")
    server.snapshots[snapshot_id] = {"status": "deleting"}
    _converge(env)
    assert driver.volumes == {} and driver.snapshots == {}
    assert server.named("volume_deleted") == [{"volume_id": volume_id}]
    assert server.named("snapshot_deleted") == [{"snapshot_id": snapshot_id}]


def test_creating_snapshot_goes_to_error(env):
    driver, target, server, chap = env
    volume_id, snapshot_id = new_id(), new_id()
    driver.create_volume(volume_id, 1)
    server.add_volume(volume_id, "available")
    driver.create_snapshot(snapshot_id, volume_id)
    server.snapshots[snapshot_id] = {"status": "creating"}
    _converge(env)
    assert server.snapshots[snapshot_id]["status"] == "error" and not driver.snapshots


def test_exports_of_attached_volumes_are_reensured_and_stale_ones_revoked(env):
    driver, target, server, chap = env
    attached, detached, moved = new_id(), new_id(), new_id()
    for volume_id in (attached, detached, moved):
        driver.create_volume(volume_id, 1)
    server.add_volume(attached, "in-use", exports=[HOST_A])  # tgtd restarted: no target
    server.add_volume(detached, "available")
    target.ensure_export(detached, driver.local_path(detached), chap.credentials(detached),
                         Connector.from_dict(HOST_A))
    server.add_volume(moved, "in-use", exports=[HOST_B])
    target.ensure_export(moved, driver.local_path(moved), chap.credentials(moved),
                         Connector.from_dict(HOST_A))
    actions = _converge(env)
    assert _kinds(actions) == {("export", attached), ("unexport", detached),
                               ("export", moved), ("revoke", moved)}
    assert target.exports[attached]["acl"] == {"192.0.2.10"}
    assert target.exports[attached]["credentials"] == chap.credentials(attached)
    assert target.exports[moved]["acl"] == {"192.0.2.11"}
    assert detached not in target.exports
    assert _converge(env) == []  # converged: a second pass does nothing


def test_interrupted_copies_and_restores_settle(env):
    driver, target, server, chap = env
    backing, uploading, restoring = new_id(), new_id(), new_id()
    for volume_id in (backing, uploading, restoring):
        driver.create_volume(volume_id, 1)
    server.add_volume(backing, "backing-up")
    server.add_volume(uploading, "uploading", exports=[HOST_A])
    server.add_volume(restoring, "restoring-backup")
    _converge(env)
    assert server.status(backing) == "available"
    assert server.status(uploading) == "in-use"
    assert server.status(restoring) == "error_restoring"


def test_exports_of_other_backends_are_left_alone(env):
    driver, target, server, chap = env
    foreign = new_id()
    target.ensure_export(foreign, "/elsewhere/volume-" + foreign, chap.credentials(foreign),
                         Connector.from_dict(HOST_A))
    assert _converge(env) == []
    assert foreign in target.exports


def test_one_failure_does_not_stop_the_others(env):
    driver, target, server, chap = env
    first, second = new_id(), new_id()
    driver.create_volume(first, 1)
    driver.create_volume(second, 1)
    driver.fail_next["delete_volume"] = BackendError("busy")
    _converge(env)
    assert len(driver.volumes) == 1
