"""The file driver on a temporary directory (sparse files, cp, statvfs: all local)."""

from __future__ import annotations

import os

import pytest

from agents.volume.exception import (
    AlreadyExists,
    BackendError,
    InvalidInput,
    SnapshotNotFound,
    VolumeNotFound,
)
from agents.volume.file_driver import FileDriver
from tests.unit.volume_agent.helpers import backend_conf, new_id

GiB = 1024 ** 3


@pytest.fixture
def driver(tmp_path):
    drv = FileDriver(backend_conf(file_path=str(tmp_path / "volumes")))
    drv.check_setup()
    return drv


def _write(path: str, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def _read(path: str, offset: int, length: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(length)


def test_create_is_sparse_private_and_named_after_the_volume(driver):
    volume_id = new_id()
    path = driver.create_volume(volume_id, 2)
    assert os.path.basename(path) == f"volume-{volume_id}"
    st = os.stat(path)
    assert st.st_size == 2 * GiB and st.st_blocks == 0 and st.st_mode & 0o777 == 0o600
    assert driver.list_volumes() == {volume_id} and driver.volume_size(volume_id) == 2 * GiB


def test_repeated_create_leaves_existing_data_alone(driver):
    volume_id, snapshot_id = new_id(), new_id()
    path = driver.create_volume(volume_id, 1)
    _write(path, 0, b"old data")
    with pytest.raises(AlreadyExists):
        driver.create_volume(volume_id, 1)
    with pytest.raises(AlreadyExists):
        driver.clone_volume(volume_id, volume_id, 1)
    driver.create_snapshot(snapshot_id, volume_id)
    with pytest.raises(AlreadyExists):
        driver.create_snapshot(snapshot_id, volume_id)
    assert _read(path, 0, 8) == b"old data"


def test_snapshot_copy_and_clone_keep_data_and_sparseness(driver):
    volume_id, snapshot_id, copy_id, clone_id = new_id(), new_id(), new_id(), new_id()
    path = driver.create_volume(volume_id, 1)
    _write(path, 12345, b"marker")
    driver.create_snapshot(snapshot_id, volume_id)
    _write(path, 12345, b"CHANGE")  # the snapshot keeps the old data
    copy = driver.create_from_snapshot(copy_id, snapshot_id, 2)
    clone = driver.clone_volume(clone_id, volume_id, 1)
    assert _read(copy, 12345, 6) == b"marker" and os.path.getsize(copy) == 2 * GiB
    assert _read(clone, 12345, 6) == b"CHANGE"
    assert os.stat(copy).st_blocks * 512 < 1 << 20  # still sparse
    assert driver.list_snapshots() == {snapshot_id}
    with pytest.raises(InvalidInput):
        driver.create_from_snapshot(new_id(), snapshot_id, 0)
    with pytest.raises(SnapshotNotFound):
        driver.create_from_snapshot(new_id(), new_id(), 1)
    with pytest.raises(VolumeNotFound):
        driver.clone_volume(new_id(), new_id(), 1)


def test_extend_and_delete(driver):
    volume_id = new_id()
    path = driver.create_volume(volume_id, 1)
    driver.extend_volume(volume_id, 3)
    assert os.path.getsize(path) == 3 * GiB
    with pytest.raises(InvalidInput):
        driver.extend_volume(volume_id, 2)
    driver.delete_volume(volume_id)
    driver.delete_volume(volume_id)
    driver.delete_snapshot(new_id())
    assert driver.list_volumes() == set()
    with pytest.raises(VolumeNotFound):
        driver.extend_volume(volume_id, 4)


def test_capacity_and_ownership(driver, tmp_path):
    driver.create_volume(new_id(), 2)
    (tmp_path / "volumes" / "unrelated.txt").write_text("x")
    cap = driver.capacity()
    assert cap.provisioned_gb == 2.0 and 0 < cap.free_gb <= cap.total_gb
    volume_id = new_id()
    assert driver.owns_path(driver.local_path(volume_id))
    assert not driver.owns_path(f"/elsewhere/volume-{volume_id}")
    assert not driver.owns_path(str(tmp_path / "volumes" / "unrelated.txt"))


def test_ids_are_validated(driver):
    with pytest.raises(InvalidInput):
        driver.create_volume("../../etc/passwd", 1)
    with pytest.raises(InvalidInput):
        driver.create_volume(new_id(), -1)


def test_unwritable_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(BackendError, match="cannot create the volume directory"):
        FileDriver(backend_conf(file_path=str(blocker / "sub"))).check_setup()
