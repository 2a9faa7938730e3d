"""Image cache: download + verify + atomic rename, overlays, locking and cleanup.

The downloader is a fake (a generator over bytes); qemu-img is the real one, because
the overlays' backing links and sizes are what matters.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import subprocess
import threading
import time

import pytest

from agents.compute import imagecache
from agents.compute.exception import (
    DiskTooSmall,
    ImageChecksumMismatch,
    ImageError,
    ImageUnacceptable,
)
from agents.compute.model import ImageRef
from tests.unit.compute_agent import helpers

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None,
                                reason="qemu-img not installed (apt-get install qemu-utils)")
GiB = 1024 ** 3
IMAGE2 = "6b7f8c9d-0000-4000-8000-00000000abcd"


def _qcow2(tmp_path, name="src.qcow2", size="64M", backing=None) -> bytes:
    path = tmp_path / name
    argv = ["qemu-img", "create", "-q", "-f", "qcow2"]
    if backing:
        argv += ["-F", "qcow2", "-b", str(backing)]
    subprocess.run(argv + [str(path), size], check=True)
    return path.read_bytes()


class Source:
    """A fake image service: image id -> bytes, counting downloads."""

    def __init__(self, images: dict[str, bytes], delay: float = 0.0, fail: bool = False):
        self.images = images
        self.delay = delay
        self.fail = fail
        self.fetches: list[str] = []

    def __call__(self, image_id):
        self.fetches.append(image_id)
        data = self.images[image_id]
        for start in range(0, len(data), 65536):
            if self.delay:
                time.sleep(self.delay)
            if self.fail and start:
                raise OSError("connection reset by peer")
            yield data[start:start + 65536]


def _ref(data: bytes, image_id=helpers.IMAGE_ID, **kw) -> ImageRef:
    kw.setdefault("os_hash_algo", "sha512")
    kw.setdefault("os_hash_value", hashlib.sha512(data).hexdigest())
    return ImageRef(image_id, **kw)


@pytest.fixture
def qcow2_bytes(tmp_path):
    return _qcow2(tmp_path)


def _cache(tmp_path, source, **kw):
    return imagecache.ImageCache(str(tmp_path / "instances"), source, **kw)


def test_download_verifies_and_renames_once(tmp_path, qcow2_bytes):
    source = Source({helpers.IMAGE_ID: qcow2_bytes})
    cache = _cache(tmp_path, source)
    image = _ref(qcow2_bytes, checksum=hashlib.md5(qcow2_bytes).hexdigest())
    path = cache.ensure_base(image)
    assert path == str(tmp_path / "instances" / "_base" / helpers.IMAGE_ID)
    with open(path, "rb") as base:
        assert base.read() == qcow2_bytes
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # QEMU's user reads it
    assert cache.ensure_base(image) == path
    assert source.fetches == [helpers.IMAGE_ID]  # cached
    assert sorted(os.listdir(cache.base_dir)) == [helpers.IMAGE_ID, "locks"]


@pytest.mark.parametrize("field", ["os_hash_value", "checksum"])
def test_checksum_mismatch_leaves_nothing(tmp_path, qcow2_bytes, field):
    cache = _cache(tmp_path, Source({helpers.IMAGE_ID: qcow2_bytes}))
    bad = {"os_hash_value": None, "checksum": None, field: "0" * 32}
    if field == "os_hash_value":
        bad[field] = "0" * 128
    with pytest.raises(ImageChecksumMismatch, match="re-upload"):
        cache.ensure_base(ImageRef(helpers.IMAGE_ID, os_hash_algo="sha512", **bad))
    assert os.listdir(cache.base_dir) == ["locks"]


def test_fetch_errors_and_timeouts_become_image_errors(tmp_path):
    data = os.urandom(300_000)
    cache = _cache(tmp_path, Source({helpers.IMAGE_ID: data}, fail=True))
    with pytest.raises(ImageError, match="connection reset"):
        cache.ensure_base(_ref(data, disk_format="raw"))
    slow = _cache(tmp_path, Source({helpers.IMAGE_ID: data}, delay=0.01), download_timeout=0)
    with pytest.raises(ImageError, match="abandoned"):
        slow.ensure_base(_ref(data, disk_format="raw"))
    assert os.listdir(cache.base_dir) == ["locks"]


def test_format_lies_and_backing_files_are_refused(tmp_path, qcow2_bytes):
    # Declared raw, really qcow2: QEMU would follow a backing file the uploader chose.
    cache = _cache(tmp_path, Source({helpers.IMAGE_ID: qcow2_bytes}))
    with pytest.raises(ImageUnacceptable, match="declared raw"):
        cache.ensure_base(_ref(qcow2_bytes, disk_format="raw"))
    sneaky = _qcow2(tmp_path, "sneaky.qcow2", backing=tmp_path / "src.qcow2")
    cache = _cache(tmp_path, Source({IMAGE2: sneaky}))
    with pytest.raises(ImageUnacceptable, match="refers to another file"):
        cache.ensure_base(_ref(sneaky, IMAGE2))
    assert os.listdir(cache.base_dir) == ["locks"]


def test_overlay_is_backed_by_the_base_and_sized_to_the_flavor(tmp_path, qcow2_bytes):
    cache = _cache(tmp_path, Source({helpers.IMAGE_ID: qcow2_bytes}))
    image = _ref(qcow2_bytes)
    disk = str(tmp_path / "instances" / "i1" / "disk")
    os.makedirs(os.path.dirname(disk))
    cache.create_overlay(image, disk, size_gb=1)
    assert imagecache.qcow2_backing_file(disk) == cache.base_path(image.id)
    assert cache.virtual_size(disk, "qcow2") == GiB
    assert cache.create_overlay(image, disk, size_gb=5) == disk  # kept as it is
    assert cache.virtual_size(disk, "qcow2") == GiB
    cache.resize_overlay(disk, 2)
    assert cache.virtual_size(disk, "qcow2") == 2 * GiB
    with pytest.raises(DiskTooSmall, match="never shrunk"):
        cache.resize_overlay(disk, 1)
    same = str(tmp_path / "instances" / "i1" / "disk0")
    cache.create_overlay(image, same, size_gb=0)
    assert cache.virtual_size(same, "qcow2") == 64 * 1024 * 1024  # the image's own size


def test_flavor_smaller_than_the_image_is_refused(tmp_path):
    big = _qcow2(tmp_path, "big.qcow2", size="3G")
    cache = _cache(tmp_path, Source({IMAGE2: big}))
    with pytest.raises(DiskTooSmall, match="larger root disk"):
        cache.create_overlay(_ref(big, IMAGE2), str(tmp_path / "disk"), size_gb=2)
    assert not os.path.exists(tmp_path / "disk")


def test_raw_base_gets_a_raw_backed_overlay(tmp_path):
    data = b"\0" * (1024 * 1024)
    cache = _cache(tmp_path, Source({IMAGE2: data}))
    disk = str(tmp_path / "disk")
    cache.create_overlay(_ref(data, IMAGE2, disk_format="raw"), disk, 1)
    info = subprocess.run(["qemu-img", "info", disk], capture_output=True, text=True,
                          check=True).stdout
    assert "backing file format: raw" in info


def test_concurrent_spawns_download_once(tmp_path, qcow2_bytes):
    source = Source({helpers.IMAGE_ID: qcow2_bytes}, delay=0.002)
    image = _ref(qcow2_bytes)
    errors = []

    def spawn(n):
        # One cache object per "process": only the file lock keeps them apart.
        cache = _cache(tmp_path, source)
        try:
            cache.create_overlay(image, str(tmp_path / f"disk{n}"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=spawn, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert source.fetches == [helpers.IMAGE_ID]
    assert all(imagecache.qcow2_backing_file(str(tmp_path / f"disk{n}")) for n in range(6))


def test_cleanup_removes_only_old_unreferenced_bases(tmp_path, qcow2_bytes):
    ids = [f"{n}0000000-0000-4000-8000-000000000000" for n in range(1, 6)]
    source = Source(dict.fromkeys(ids, qcow2_bytes))
    cache = _cache(tmp_path, source)
    for image_id in ids:
        cache.ensure_base(_ref(qcow2_bytes, image_id))
    used, kept, young, old, locked = ids
    instance_uuid = "aaaaaaaa-0000-4000-8000-000000000000"
    disk_dir = tmp_path / "instances" / instance_uuid
    disk_dir.mkdir()
    cache.create_overlay(_ref(qcow2_bytes, used), str(disk_dir / "disk"))
    long_ago = time.time() - 7200
    for image_id in (used, kept, old, locked):
        os.utime(cache.base_path(image_id), (long_ago, long_ago))
    stale_part = cache.base_path(IMAGE2) + ".part"
    open(stale_part, "wb").close()
    os.utime(stale_part, (0, 0))
    assert cache.bases_in_use() == {os.path.realpath(cache.base_path(used))}

    with open(os.path.join(cache.lock_dir, locked + ".lock"), "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a spawn of this image is under way
        removed = cache.cleanup(keep=[kept], min_age=3600)
    assert removed == [old]
    assert sorted(n for n in os.listdir(cache.base_dir) if n != "locks") == sorted(
        [used, kept, young, locked])
    assert cache.cleanup(keep=[], min_age=3600) == sorted([kept, locked])


def test_backing_file_header_reader(tmp_path):
    assert imagecache.qcow2_backing_file(str(tmp_path / "missing")) is None
    (tmp_path / "raw").write_bytes(b"\0" * 1024)
    assert imagecache.qcow2_backing_file(str(tmp_path / "raw")) is None
    _qcow2(tmp_path, "plain.qcow2")
    assert imagecache.qcow2_backing_file(str(tmp_path / "plain.qcow2")) is None
    _qcow2(tmp_path, "child.qcow2", backing=tmp_path / "plain.qcow2")
    assert imagecache.qcow2_backing_file(str(tmp_path / "child.qcow2")) == str(
        tmp_path / "plain.qcow2")
