"""VolumeManager over the fake backend and target, reporting to a recording service."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
from oslo_messaging.rpc.dispatcher import ExpectedException

from agents.volume.backup import BackupService
from agents.volume.backup_stores import FileStore
from agents.volume.chap import ChapKeys
from agents.volume.exception import BackendError, InvalidInput, VolumeNotFound
from agents.volume.fake import FakeDriver, FakeTarget
from agents.volume.manager import VolumeManager
from common.context import RequestContext
from tests.unit.volume_agent.helpers import RecordingServer, backend_conf, new_id

CTX = RequestContext.admin()
CONNECTOR = {"host": "compute-1", "ip": "192.0.2.10", "initiator": "iqn.1993-08.org.debian:01:x"}


@pytest.fixture
def env(tmp_path):
    backend = backend_conf()
    driver, target, server = FakeDriver(backend), FakeTarget(backend), RecordingServer()
    manager = VolumeManager("host@file", driver, target, server,
                            ChapKeys(str(tmp_path / "chap.key")),
                            backups=BackupService(FileStore(str(tmp_path / "backups")), 512),
                            conversion_dir=str(tmp_path / "conv"), retry_delay=0)
    return manager, driver, target, server


def _create(manager, server, size=1, source=None, status="creating") -> str:
    volume_id = new_id()
    server.add_volume(volume_id, status)
    manager.create_volume(CTX, {"id": volume_id, "size": size,
                                "source": source or {"type": "blank"}})
    return volume_id


def test_create_blank_reports_available(env):
    manager, driver, _, server = env
    volume_id = _create(manager, server, size=2)
    assert server.status(volume_id) == "available"
    assert len(driver.volumes[volume_id]) == 2 * driver.bytes_per_gb
    update = server.named("volume_update")[-1]
    assert update["expected_status"] == ["creating", "downloading"]
    assert update["updates"]["provider_location"] == driver.local_path(volume_id)


def test_create_failure_reports_error_and_removes_data(env):
    manager, driver, _, server = env
    driver.fail_next["create_volume"] = BackendError("disk on fire")
    volume_id = _create(manager, server)
    assert server.status(volume_id) == "error"
    assert volume_id not in driver.volumes


def test_bad_payload_reports_error(env):
    manager, _, _, server = env
    volume_id = _create(manager, server, size=0)
    assert server.status(volume_id) == "error"


def test_volume_deleted_during_create_is_undone(env):
    manager, driver, target, server = env
    volume_id = new_id()
    server.add_volume(volume_id)
    server.volumes[volume_id]["deleted"] = True  # the delete won the race
    manager.create_volume(CTX, {"id": volume_id, "size": 1, "source": {"type": "blank"}})
    assert volume_id not in driver.volumes and volume_id not in target.exports


def test_from_snapshot_and_clone_copy_the_data(env):
    manager, driver, _, server = env
    source = _create(manager, server)
    driver.volumes[source][:5] = b"hello"
    snapshot_id = new_id()
    manager.create_snapshot(CTX, snapshot_id, source)
    assert server.snapshots[snapshot_id]["status"] == "available"
    from_snap = _create(manager, server, size=2, source={"type": "snapshot", "id": snapshot_id})
    clone = _create(manager, server, source={"type": "volume", "id": source})
    assert driver.volumes[from_snap][:5] == b"hello"
    assert len(driver.volumes[from_snap]) == 2 * driver.bytes_per_gb
    assert driver.volumes[clone][:5] == b"hello"
    missing = _create(manager, server, source={"type": "snapshot", "id": new_id()})
    assert server.status(missing) == "error"


def test_from_image_downloads_verifies_and_converts(env, tmp_path):
    manager, driver, _, server = env
    data = b"\x01" * 700
    image = {"id": new_id(), "disk_format": "raw", "os_hash_algo": "sha512",
             "os_hash_value": hashlib.sha512(data).hexdigest(), "size": len(data)}
    manager.fetch = lambda image_id: iter([data[:300], data[300:]])
    manager.driver._execute = lambda argv, **kw: '{"format": "raw", "virtual-size": 700}'
    volume_id = _create(manager, server, source={"type": "image", "id": image["id"],
                                                 "image": image})
    assert server.status(volume_id) == "available"
    assert server.volumes[volume_id]["bootable"] is True
    assert bytes(driver.volumes[volume_id][:700]) == data
    assert list((tmp_path / "conv").iterdir()) == []  # the scratch copy is gone

    image["os_hash_value"] = "0" * 128
    bad = _create(manager, server, source={"type": "image", "id": image["id"], "image": image})
    assert server.status(bad) == "error" and bad not in driver.volumes


def test_delete_unexports_and_reports(env):
    manager, driver, target, server = env
    volume_id = _create(manager, server)
    manager.initialize_connection(CTX, volume_id, CONNECTOR)
    manager.delete_volume(CTX, volume_id)
    assert volume_id not in driver.volumes and volume_id not in target.exports
    assert server.named("volume_deleted") == [{"volume_id": volume_id}]
    manager.delete_volume(CTX, volume_id)  # idempotent
    assert len(server.named("volume_deleted")) == 2


def test_delete_failure_reports_error_deleting(env):
    manager, driver, _, server = env
    volume_id = _create(manager, server)
    driver.fail_next["delete_volume"] = BackendError("busy")
    manager.delete_volume(CTX, volume_id)
    assert server.status(volume_id) == "error_deleting"
    assert not server.named("volume_deleted")


def test_delete_cancels_a_running_image_copy(env):
    manager, driver, _, server = env
    started, release = threading.Event(), threading.Event()

    def slow_fetch(image_id):
        for _ in range(1000):
            started.set()
            release.wait(0.01)
            yield b"\0" * 10

    manager.fetch = slow_fetch
    volume_id = new_id()
    server.add_volume(volume_id)
    creator = threading.Thread(target=manager.create_volume, args=(CTX, {
        "id": volume_id, "size": 1, "source": {"type": "image", "image": {
            "id": new_id(), "disk_format": "raw"}}}))
    creator.start()
    assert started.wait(5)
    began = time.monotonic()
    server.volumes[volume_id]["status"] = "deleting"
    manager.delete_volume(CTX, volume_id)
    creator.join(5)
    assert time.monotonic() - began < 5, "the delete waited for the whole download"
    assert server.named("volume_deleted") and volume_id not in driver.volumes


def test_extend_refreshes_the_export(env):
    manager, driver, target, server = env
    volume_id = _create(manager, server)
    server.volumes[volume_id]["status"] = "extending"
    manager.extend_volume(CTX, volume_id, 3)
    assert server.status(volume_id) == "available" and server.volumes[volume_id]["size"] == 3
    manager.initialize_connection(CTX, volume_id, CONNECTOR)
    server.volumes[volume_id]["status"] = "extending"
    manager.extend_volume(CTX, volume_id, 4)
    assert server.status(volume_id) == "in-use" and target.refreshed == [volume_id]
    server.volumes[volume_id]["status"] = "extending"
    manager.extend_volume(CTX, volume_id, 1)  # shrink refused
    assert server.status(volume_id) == "error_extending"


def test_connections_use_stable_per_volume_chap(env):
    manager, _, target, server = env
    first, second = _create(manager, server), _create(manager, server)
    info = manager.initialize_connection(CTX, first, CONNECTOR)
    data = info["data"]
    assert info["driver_volume_type"] == "iscsi"
    assert data["target_iqn"] == f"iqn.2026-12.org.stratus:volume-{first}"
    assert data["target_portal"] == "127.0.0.1:3260" and data["target_lun"] == 1
    assert data["auth_method"] == "CHAP" and len(data["auth_password"]) == 24
    again = manager.initialize_connection(CTX, first, dict(CONNECTOR, ip="192.0.2.11"))
    assert again["data"]["auth_password"] == data["auth_password"]
    other = manager.initialize_connection(CTX, second, CONNECTOR)
    assert other["data"]["auth_password"] != data["auth_password"]
    assert target.exports[first]["acl"] == {"192.0.2.10", "192.0.2.11"}
    manager.terminate_connection(CTX, first, CONNECTOR)
    assert target.exports[first]["acl"] == {"192.0.2.11"}
    manager.terminate_connection(CTX, first, dict(CONNECTOR, ip="192.0.2.11"))
    assert first not in target.exports
    manager.terminate_connection(CTX, first, CONNECTOR)  # idempotent


def _raised(call, *args) -> Exception:
    """The error a call raised (expected errors travel wrapped, so the RPC server logs
    them without a traceback and the caller still gets the original)."""
    with pytest.raises(ExpectedException) as caught:
        call(*args)
    return caught.value.exc_info[1]


def test_connection_errors_are_raised_to_the_caller(env):
    manager, _, _, server = env
    assert isinstance(_raised(manager.initialize_connection, CTX, new_id(), CONNECTOR),
                      VolumeNotFound)
    volume_id = _create(manager, server)
    assert isinstance(_raised(manager.initialize_connection, CTX, volume_id,
                              {"host": "h", "ip": "not-an-ip"}), InvalidInput)
    assert isinstance(_raised(manager.initialize_connection, CTX, volume_id,
                              dict(CONNECTOR, initiator="bad iqn")), InvalidInput)


def test_backup_and_restore_round_trip(env):
    manager, driver, _, server = env
    volume_id = _create(manager, server, size=2)
    driver.volumes[volume_id][100:110] = b"0123456789"
    backup_id = new_id()
    server.volumes[volume_id]["status"] = "backing-up"
    manager.backup_volume(CTX, backup_id, volume_id)
    assert server.backups[backup_id]["status"] == "available"
    assert server.backups[backup_id]["object_count"] == 1  # the other chunks are zeros
    assert server.status(volume_id) == "available"

    target_id = _create(manager, server, size=3)
    driver.volumes[target_id][:] = b"\xff" * len(driver.volumes[target_id])
    server.volumes[target_id]["status"] = "restoring-backup"
    manager.restore_backup(CTX, backup_id, target_id)
    assert server.status(target_id) == "available"
    restored = driver.volumes[target_id]
    assert restored[:2048] == driver.volumes[volume_id]

    small = _create(manager, server, size=1)
    server.volumes[small]["status"] = "restoring-backup"
    manager.restore_backup(CTX, backup_id, small)
    assert server.status(small) == "error_restoring"
    assert server.backups[backup_id]["status"] == "available"

    manager.delete_backup(CTX, backup_id)
    assert server.named("backup_deleted") == [{"backup_id": backup_id}]


def test_backup_of_an_attached_volume_reads_a_temporary_snapshot(env):
    manager, driver, _, server = env
    volume_id = _create(manager, server)
    manager.initialize_connection(CTX, volume_id, CONNECTOR)
    server.volumes[volume_id]["status"] = "backing-up"
    manager.backup_volume(CTX, new_id(), volume_id)
    names = [call[0] for call in driver.calls]
    assert "create_snapshot" in names and "delete_snapshot" in names
    assert driver.snapshots == {} and server.status(volume_id) == "in-use"


def test_backup_failure_is_reported(env):
    manager, _, _, server = env
    backup_id = new_id()
    manager.backup_volume(CTX, backup_id, new_id())
    assert server.backups[backup_id]["status"] == "error"
    assert "no data" in server.backups[backup_id]["fail_reason"]


def test_copy_volume_to_image_streams_raw_data(env):
    manager, driver, _, server = env
    volume_id = _create(manager, server)
    driver.volumes[volume_id][:3] = b"abc"
    received = []
    manager.upload = lambda image_id, chunks: received.append((image_id, b"".join(chunks)))
    image_id = new_id()
    manager.copy_volume_to_image(CTX, volume_id, {"id": image_id, "disk_format": "raw"})
    assert received == [(image_id, bytes(driver.volumes[volume_id]))]
    assert server.named("image_uploaded") == [{"volume_id": volume_id, "image_id": image_id,
                                               "error": None}]
    manager.copy_volume_to_image(CTX, volume_id, {"id": image_id, "disk_format": "iso"})
    assert "raw or qcow2" in server.named("image_uploaded")[-1]["error"]


def test_snapshot_failure_and_delete(env):
    manager, driver, _, server = env
    volume_id = _create(manager, server)
    snapshot_id = new_id()
    driver.fail_next["create_snapshot"] = BackendError("full")
    manager.create_snapshot(CTX, snapshot_id, volume_id)
    assert server.snapshots[snapshot_id]["status"] == "error"
    manager.create_snapshot(CTX, snapshot_id, volume_id)
    manager.delete_snapshot(CTX, snapshot_id)
    assert snapshot_id not in driver.snapshots
    assert server.named("snapshot_deleted") == [{"snapshot_id": snapshot_id}]


def test_a_repeated_create_cast_keeps_the_existing_volume(env):
    manager, driver, _, server = env
    volume_id = _create(manager, server)
    driver.volumes[volume_id][:4] = b"data"
    manager.create_volume(CTX, {"id": volume_id, "size": 1, "source": {"type": "blank"}})
    assert server.status(volume_id) == "available"  # the guard kept the status
    assert driver.volumes[volume_id][:4] == b"data"
