"""The filesystem store: atomic writes, ranged reads, cleanup, and error translation."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from controller.image.store import DataNotFound, StorageFull, StorageWriteDenied, StoreError
from controller.image.store.filesystem import FilesystemStore
from controller.image.store.memory import MemoryStore

IMAGE = "0b2d8f5e-8c1f-4f7e-9a57-1d2b3c4d5e6f"
BODY = os.urandom(10000)


@pytest.fixture(params=["filesystem", "memory"])
def backend(request, tmp_path):
    if request.param == "memory":
        return MemoryStore(chunk_size=1024)
    return FilesystemStore(str(tmp_path / "images"), chunk_size=1024)


def test_add_reports_size_and_hashes(backend):
    stored = backend.add(IMAGE, [BODY[:3000], b"", BODY[3000:]])
    assert stored == (len(BODY), hashlib.md5(BODY).hexdigest(),
                      hashlib.sha512(BODY).hexdigest())
    assert backend.exists(IMAGE)
    assert b"".join(backend.get(IMAGE)) == BODY
    assert b"".join(backend.get(IMAGE, 5000, 1500)) == BODY[5000:6500]
    assert max(len(chunk) for chunk in backend.get(IMAGE)) <= 1024


def test_delete_is_idempotent(backend):
    backend.add(IMAGE, [BODY])
    backend.delete(IMAGE)
    backend.delete(IMAGE)
    assert not backend.exists(IMAGE)
    with pytest.raises(DataNotFound):
        backend.get(IMAGE)


def test_failed_add_leaves_nothing(tmp_path):
    backend = FilesystemStore(str(tmp_path), chunk_size=1024)

    def failing():
        yield BODY
        raise ConnectionResetError("client gone")

    with pytest.raises(ConnectionResetError):
        backend.add(IMAGE, failing())
    assert os.listdir(tmp_path) == []


def test_ids_cannot_escape_the_data_directory(tmp_path):
    backend = FilesystemStore(str(tmp_path / "images"))
    for bad in ("../etc/passwd", "a/b", "", "x" * 40):
        with pytest.raises(DataNotFound):
            backend.get(bad)
        assert not backend.exists(bad)


@pytest.mark.parametrize("code,error", [(errno.ENOSPC, StorageFull),
                                        (errno.EACCES, StorageWriteDenied),
                                        (errno.EIO, StoreError)])
def test_os_errors_become_store_errors(tmp_path, monkeypatch, code, error):
    backend = FilesystemStore(str(tmp_path))

    def fail(*_args):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(error):
        backend.add(IMAGE, [BODY])
    assert os.listdir(tmp_path) == []
