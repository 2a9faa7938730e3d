"""The object server's request handling on the in-memory disk-file twin."""

from __future__ import annotations

import hashlib
import io
import time

import pytest

from agents.objectstore.memdiskfile import MemDiskFileManager
from agents.objectstore.objects import ObjectController
from common.objectstore.wsgi import HTTPError, Request


class RecordingUpdater:
    def __init__(self):
        self.calls = []

    def update(self, dev_path, name_hash, op, account, container, obj, headers, targets):
        self.calls.append((op, obj, headers))


def env(method, body=b"", **headers):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/d1/1/a/c/o",
               "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    for key, value in headers.items():
        name = key.upper().replace("-", "_")
        environ[name if name == "CONTENT_TYPE" else "HTTP_" + name] = value
    return Request(environ)


@pytest.fixture
def server():
    updater = RecordingUpdater()
    ctrl = ObjectController(MemDiskFileManager(), updater,
                            lambda *names: hashlib.md5("/".join(names).encode()).hexdigest(),
                            65536)
    ctrl.updater_calls = updater.calls
    return ctrl


def call(ctrl, req):
    try:
        return ctrl.handle(req, "d1", 1, "a", "c", "o")
    except HTTPError as exc:
        return exc.response(req.method)


def body_of(resp):
    return resp.body if isinstance(resp.body, bytes) else b"".join(resp.body)


def stamp(offset=0.0):
    return f"{time.time() + offset:016.5f}"


def test_put_get_head_and_container_update(server):
    resp = call(server, env("PUT", b"data", **{"X-Timestamp": stamp(),
                                               "Content-Type": "text/plain"}))
    assert resp.status == 201
    assert server.updater_calls[0][0] == "PUT"
    assert server.updater_calls[0][2]["X-Size"] == "4"
    resp = call(server, env("GET"))
    assert resp.status == 200 and body_of(resp) == b"data"
    assert resp.headers["Content-Type"] == "text/plain"
    assert call(server, env("HEAD")).headers["Content-Length"] == "4"


def test_etag_mismatch_is_422_and_missing_timestamp_400(server):
    assert call(server, env("PUT", b"x", **{"X-Timestamp": stamp(),
                                            "ETag": "0" * 32})).status == 422
    assert call(server, env("PUT", b"x")).status == 400


def test_older_writes_conflict(server):
    call(server, env("PUT", b"new", **{"X-Timestamp": stamp(10)}))
    assert call(server, env("PUT", b"old", **{"X-Timestamp": stamp()})).status == 409
    assert call(server, env("DELETE", **{"X-Timestamp": stamp()})).status == 409


def test_conditionals_and_ranges(server):
    call(server, env("PUT", b"0123456789", **{"X-Timestamp": stamp()}))
    etag = hashlib.md5(b"0123456789").hexdigest()
    assert call(server, env("GET", **{"If-None-Match": etag})).status == 304
    assert call(server, env("GET", **{"If-Match": "nope"})).status == 412
    resp = call(server, env("GET", **{"Range": "bytes=2-4"}))
    assert resp.status == 206 and body_of(resp) == b"234"
    assert call(server, env("GET", **{"Range": "bytes=20-"})).status == 416


def test_post_delete_and_expiry(server):
    call(server, env("PUT", b"x", **{"X-Timestamp": stamp(), "X-Object-Meta-A": "1"}))
    assert call(server, env("POST", **{"X-Timestamp": stamp(1), "X-Object-Meta-B": "2",
                                       "X-Delete-At": str(int(time.time()) + 99)})).status == 202
    headers = call(server, env("HEAD")).headers
    assert "X-Object-Meta-A" not in headers and headers["X-Object-Meta-B"] == "2"
    assert server.diskfiles.expiring
    assert call(server, env("DELETE", **{"X-Timestamp": stamp(2)})).status == 204
    resp = call(server, env("GET"))
    assert resp.status == 404 and "X-Backend-Timestamp" in resp.headers


def test_corrupt_replica_is_never_served(server):
    call(server, env("PUT", b"good", **{"X-Timestamp": stamp()}))
    files = next(iter(server.diskfiles.files.values()))
    name, (meta, _) = next(iter(files.items()))
    files[name] = (meta, b"evil")
    assert call(server, env("GET")).status == 404
    assert server.diskfiles.quarantined
