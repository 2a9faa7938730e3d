"""The disk-file API: durable writes, metadata trailers, tombstones, quarantine,
suffix hashes, pending updates and the expiry queue."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from agents.objectstore import expiring, filenames, hashes, pending
from agents.objectstore.devices import Devices, DeviceUnavailable
from agents.objectstore.diskfile import (
    DiskFileExpired,
    DiskFileManager,
    DiskFileNotFound,
    DiskFileQuarantined,
)

HASH = hashlib.md5(b"/a/c/o").hexdigest()


@pytest.fixture
def mgr(tmp_path):
    (tmp_path / "d1").mkdir()
    return DiskFileManager(Devices(str(tmp_path)), fsync=False)


def ts(offset: float = 0) -> str:
    return f"{time.time() + offset:016.5f}"


def put(df, data: bytes, stamp: str, **meta):
    writer = df.writer()
    writer.write(data)
    writer.put({"name": df.name, "X-Timestamp": stamp, "ETag": writer.etag,
                "Content-Length": len(data), "Content-Type": "text/plain", **meta})


def test_write_read_and_verify(mgr):
    df = mgr.get("d1", 3, HASH, "/a/c/o")
    put(df, b"hello" * 50000, ts(), **{"X-Object-Meta-K": "v"})
    reader = df.open()
    assert reader.metadata["X-Object-Meta-K"] == "v"
    assert b"".join(reader.iter_verified(65536)) == b"hello" * 50000
    small = mgr.get("d1", 3, HASH[::-1], "/a/c/p")
    put(small, b"tiny", ts())
    assert small.open().read_all_verified() == b"tiny"


def test_newer_versions_replace_older_and_tombstones_win(mgr):
    df = mgr.get("d1", 3, HASH, "/a/c/o")
    first, second = ts(), ts(1)
    put(df, b"one", first)
    put(df, b"two", second)
    assert os.listdir(df.hash_dir) == [second + filenames.DATA]
    df.write_metadata({"X-Timestamp": ts(2), "X-Object-Meta-New": "1"})
    meta = df.read_metadata()
    assert meta["X-Object-Meta-New"] == "1" and meta["X-Data-Timestamp"] == second
    df.delete(ts(3))
    with pytest.raises(DiskFileNotFound) as info:
        df.open()
    assert info.value.timestamp is not None
    assert [n[-3:] for n in os.listdir(df.hash_dir)] == [".ts"]


def test_corrupt_content_is_quarantined_before_the_last_chunk(mgr):
    df = mgr.get("d1", 3, HASH, "/a/c/o")
    data = os.urandom(300000)
    put(df, data, ts())
    path = os.path.join(df.hash_dir, os.listdir(df.hash_dir)[0])
    raw = bytearray(open(path, "rb").read())
    raw[1000] ^= 1
    open(path, "wb").write(raw)
    reader = df.open()
    received = b""
    with pytest.raises(DiskFileQuarantined):
        for chunk in reader.iter_verified(65536):
            received += chunk
    assert len(received) < len(data)  # never the whole (corrupt) object
    assert not os.path.exists(df.hash_dir)
    assert os.listdir(os.path.join(df.dev_path, "quarantined", "objects"))


def test_broken_trailer_is_quarantined_on_open(mgr):
    df = mgr.get("d1", 3, HASH, "/a/c/o")
    put(df, b"abc", ts())
    path = os.path.join(df.hash_dir, os.listdir(df.hash_dir)[0])
    with open(path, "r+b") as handle:
        handle.truncate(5)
    with pytest.raises(DiskFileQuarantined):
        df.open()


def test_expired_objects_are_not_found(mgr):
    df = mgr.get("d1", 3, HASH, "/a/c/o")
    put(df, b"abc", ts(), **{"X-Delete-At": str(int(time.time()) - 1)})
    with pytest.raises(DiskFileExpired):
        df.open()
    assert df.open(allow_expired=True).metadata["X-Delete-At"]


def test_suffix_hashes_track_changes(mgr):
    df = mgr.get("d1", 3, HASH, "/a/c/o")
    put(df, b"abc", ts())
    before = hashes.get_hashes(df.part_dir)
    assert set(before) == {HASH[-3:]}
    assert hashes.get_hashes(df.part_dir) == before  # cached
    df.delete(ts(1))
    after = hashes.get_hashes(df.part_dir)
    assert after[HASH[-3:]] != before[HASH[-3:]]


def test_reclaim_removes_old_tombstones(tmp_path):
    hash_dir = tmp_path / "h"
    hash_dir.mkdir()
    (hash_dir / "0000000001.00000.ts").write_bytes(b"")
    assert filenames.cleanup(str(hash_dir), reclaim_age=60, now=time.time()) == []
    assert not hash_dir.exists()


def test_choose_keeps_newest_data_and_newer_meta():
    names = ["0000000001.00000.data", "0000000002.00000.meta", "0000000003.00000.data",
             "0000000004.00000.meta", "0000000000.50000.meta"]
    main, meta, obsolete = filenames.choose(names)
    assert (main, meta) == ("0000000003.00000.data", "0000000004.00000.meta")
    assert sorted(obsolete) == sorted(set(names) - {main, meta})


def test_pending_records_and_expiry_queue(tmp_path):
    dev = str(tmp_path)
    pending.save(dev, HASH, {"op": "PUT", "headers": {"X-Timestamp": "0000000001.00000"}})
    pending.save(dev, HASH, {"op": "DELETE", "headers": {"X-Timestamp": "0000000002.00000"}})
    records = list(pending.iter_records(dev))
    assert [r["op"] for _, r in records] == ["DELETE"]  # the newer one supersedes
    expiring.add(dev, 100, 3, HASH, "/a/c/o")
    expiring.add(dev, int(time.time()) + 3600, 3, HASH, "/a/c/p")
    due = list(expiring.due(dev, time.time()))
    assert [e["name"] for _, e in due] == ["/a/c/o"]


def test_devices_reject_bad_names_and_unmounted(tmp_path):
    devices = Devices(str(tmp_path), mount_check=True)
    with pytest.raises(DeviceUnavailable):
        devices.path("../etc")
    (tmp_path / "d1").mkdir()
    with pytest.raises(DeviceUnavailable):
        devices.path("d1")  # a plain directory is not a mount point
    assert Devices(str(tmp_path)).path("d1").endswith("d1")
