"""Backups: chunking, sparse chunks, sha256 checks; the file store and the swift store."""

from __future__ import annotations

import io
import json

import pytest

from agents.volume.backup import BackupService
from agents.volume.backup_stores import FileStore, Store, SwiftStore
from agents.volume.exception import BackupError, BackupNotFound, Cancelled
from tests.unit.volume_agent.helpers import new_id

CHUNK = 1024


class MemoryStore(Store):
    def __init__(self):
        self.objects: dict[str, bytes] = {}

    def put(self, name, data):
        self.objects[name] = data

    def get(self, name):
        return self.objects.get(name)

    def delete(self, name):
        self.objects.pop(name, None)

    def list(self, prefix):
        return sorted(n for n in self.objects if n.startswith(prefix))


def _volume(size: int) -> bytearray:
    data = bytearray(size)
    data[10:20] = b"first-data"
    data[3 * CHUNK + 5:3 * CHUNK + 9] = b"tail"
    return data


@pytest.fixture(params=["none", "zlib"])
def service(request):
    return BackupService(MemoryStore(), CHUNK, request.param)


def test_round_trip_skips_zero_chunks(service):
    data = _volume(3 * CHUNK + 100)
    backup_id = new_id()
    manifest = service.backup(backup_id, "vol", io.BytesIO(data), len(data))
    assert manifest["object_count"] == 2 and len(manifest["chunks"]) == 4
    assert [c.get("zero", False) for c in manifest["chunks"]] == [False, True, True, False]
    assert sorted(service.store.objects) == [f"backup-{backup_id}/chunk-00000",
                                             f"backup-{backup_id}/chunk-00003",
                                             f"backup-{backup_id}/manifest.json"]
    dest = io.BytesIO(b"\xff" * (4 * CHUNK))
    service.restore(backup_id, dest, 4 * CHUNK)
    restored = dest.getvalue()
    assert restored[:len(data)] == data and restored[len(data):] == b"\xff" * (4 * CHUNK -
                                                                                len(data))


def test_damaged_or_missing_chunk_fails_the_restore(service):
    data = _volume(4 * CHUNK)
    backup_id = new_id()
    service.backup(backup_id, "vol", io.BytesIO(data), len(data))
    name = f"backup-{backup_id}/chunk-00000"
    good = service.store.objects[name]
    service.store.objects[name] = good[:-1] + bytes([good[-1] ^ 1])
    with pytest.raises(BackupError):
        service.restore(backup_id, io.BytesIO(bytes(4 * CHUNK)), 4 * CHUNK)
    del service.store.objects[name]
    with pytest.raises(BackupError, match="lost its object"):
        service.restore(backup_id, io.BytesIO(bytes(4 * CHUNK)), 4 * CHUNK)


def test_restore_refuses_a_smaller_volume_and_unknown_backups(service):
    data = _volume(4 * CHUNK)
    backup_id = new_id()
    service.backup(backup_id, "vol", io.BytesIO(data), len(data))
    with pytest.raises(BackupError, match="larger volume"):
        service.restore(backup_id, io.BytesIO(bytes(CHUNK)), CHUNK)
    with pytest.raises(BackupNotFound):
        service.restore(new_id(), io.BytesIO(bytes(CHUNK)), CHUNK)


def test_failed_or_cancelled_backup_leaves_nothing(service):
    backup_id = new_id()
    with pytest.raises(BackupError, match="ended"):
        service.backup(backup_id, "vol", io.BytesIO(_volume(CHUNK * 4)), CHUNK * 8)
    assert service.store.objects == {}
    import threading
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        service.backup(backup_id, "vol", io.BytesIO(_volume(CHUNK * 4)), CHUNK * 4, cancel)
    assert service.store.objects == {}


def test_delete_removes_manifest_first(service):
    data = _volume(4 * CHUNK)
    backup_id = new_id()
    service.backup(backup_id, "vol", io.BytesIO(data), len(data))
    order = []
    real_delete = service.store.delete
    service.store.delete = lambda name: (order.append(name), real_delete(name))
    assert service.delete(backup_id) == 3
    assert order[0].endswith("manifest.json") and service.store.objects == {}


def test_file_store(tmp_path):
    store = FileStore(str(tmp_path))
    store.put("backup-x/chunk-00000", b"abc")
    store.put("backup-x/manifest.json", b"{}")
    assert store.get("backup-x/chunk-00000") == b"abc" and store.get("backup-x/none") is None
    assert store.list("backup-x/") == ["backup-x/chunk-00000", "backup-x/manifest.json"]
    assert store.list("backup-y/") == []
    store.delete("backup-x/chunk-00000")
    store.delete("backup-x/manifest.json")
    store.delete("backup-x/manifest.json")
    assert not (tmp_path / "backup-x").exists()
    with pytest.raises(BackupError):
        store.put("../escape", b"")


class FakeSwift:
    """A requests.Session stand-in serving one account in memory."""

    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.containers: set[str] = set()
        self.tokens_seen: list[str] = []
        self.valid_token = "t2"

    def request(self, method, url, timeout=None, headers=None, data=None, params=None):
        self.tokens_seen.append(headers["X-Auth-Token"])
        assert url.startswith("http://swift/v1/AUTH_p/")
        path = url[len("http://swift/v1/AUTH_p/"):]
        if headers["X-Auth-Token"] != self.valid_token:
            return _Response(401)
        container, _, name = path.partition("/")
        if not name:
            if method == "PUT":
                self.containers.add(container)
                return _Response(201)
            names = sorted(n for n in self.objects if n.startswith(params["prefix"]) and
                           n > params["marker"])[:2]  # small pages: pagination is exercised
            return _Response(200, json.dumps([{"name": n} for n in names]).encode())
        name = name.replace("%2F", "/")
        if method == "PUT":
            assert container in self.containers
            self.objects[name] = data
            return _Response(201)
        if method == "GET":
            return _Response(200, self.objects[name]) if name in self.objects else _Response(404)
        return _Response(204 if self.objects.pop(name, None) is not None else 404)


class _Response:
    def __init__(self, status, content=b""):
        self.status_code, self.content = status, content
        self.text = content.decode(errors="replace")

    def json(self):
        return json.loads(self.content)


def test_swift_store_with_token_refresh_and_pagination():
    swift = FakeSwift()
    tokens = iter(["t1", "t2"])
    current = {"token": next(tokens)}

    def token_provider(force_new):
        if force_new:
            current["token"] = next(tokens)
        return current["token"], "http://swift/v1/AUTH_p"

    store = SwiftStore(token_provider, session=swift)
    service = BackupService(store, CHUNK)
    data = bytearray(b"x" * (5 * CHUNK))
    backup_id = new_id()
    service.backup(backup_id, "vol", io.BytesIO(data), len(data))
    assert swift.tokens_seen[:2] == ["t1", "t2"]  # 401 once, then a new token
    assert len(store.list(f"backup-{backup_id}/")) == 6
    dest = io.BytesIO(bytes(len(data)))
    service.restore(backup_id, dest, len(data))
    assert dest.getvalue() == data
    service.delete(backup_id)
    assert swift.objects == {}


def test_swift_errors_are_backup_errors():
    def no_token(force_new):
        raise RuntimeError("identity is down")

    with pytest.raises(BackupError, match="identity is down"):
        SwiftStore(no_token, session=FakeSwift()).get("x")
