"""Large objects, TempURL, bulk delete, ACLs and project isolation, bad input."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import time
import uuid

import pytest

OWNER, OTHER, READER, ADMIN = "owner-token", "other-token", "reader-token", "admin-token"
ACCOUNT = "/v1/AUTH_p1"


@pytest.fixture
def container(cluster):
    name = f"c-{uuid.uuid4().hex[:8]}"
    assert cluster.request("PUT", f"{ACCOUNT}/{name}", OWNER)[0] == 201
    return name


# ------------------------------------------------------------------ large objects
def test_slo_upload_download_range_and_delete(cluster, container):
    segments = [os.urandom(300000), os.urandom(300000), os.urandom(12345)]
    manifest = []
    for i, seg in enumerate(segments):
        path = f"{ACCOUNT}/{container}/seg/{i:02d}"
        status, headers, _ = cluster.request("PUT", path, OWNER, body=seg)
        assert status == 201
        manifest.append({"path": f"/{container}/seg/{i:02d}", "etag": headers["etag"],
                         "size_bytes": len(seg)})
    status, headers, _ = cluster.request("PUT", f"{ACCOUNT}/{container}/big", OWNER,
                                         body=json.dumps(manifest).encode(),
                                         query={"multipart-manifest": "put"})
    assert status == 201
    whole = b"".join(segments)
    expected_etag = hashlib.md5("".join(hashlib.md5(s).hexdigest()
                                        for s in segments).encode()).hexdigest()
    assert headers["etag"] == f'"{expected_etag}"'
    status, headers, data = cluster.request("GET", f"{ACCOUNT}/{container}/big", OWNER)
    assert status == 200 and data == whole
    assert headers["x-static-large-object"] == "True"
    assert headers["etag"] == f'"{expected_etag}"'
    status, _, data = cluster.request("GET", f"{ACCOUNT}/{container}/big", OWNER,
                                      headers={"Range": "bytes=299990-300009"})
    assert status == 206 and data == whole[299990:300010]
    status, headers, _ = cluster.request("HEAD", f"{ACCOUNT}/{container}/big", OWNER)
    assert headers["content-length"] == str(len(whole))
    status, _, raw = cluster.request("GET", f"{ACCOUNT}/{container}/big", OWNER,
                                     query={"multipart-manifest": "get"})
    assert [e["name"] for e in json.loads(raw)] == [m["path"] for m in manifest]
    listing = json.loads(cluster.request("GET", f"{ACCOUNT}/{container}", OWNER,
                                         query={"format": "json", "prefix": "big"})[2])
    assert listing[0]["bytes"] == len(whole)
    status, _, body = cluster.request("DELETE", f"{ACCOUNT}/{container}/big", OWNER,
                                      query={"multipart-manifest": "delete"},
                                      headers={"Accept": "application/json"})
    assert status == 200 and json.loads(body)["Number Deleted"] == 4
    assert cluster.request("GET", f"{ACCOUNT}/{container}/seg/00", OWNER)[0] == 404


def test_slo_rejects_bad_manifests(cluster, container):
    cluster.request("PUT", f"{ACCOUNT}/{container}/s", OWNER, body=b"abc")
    put = lambda body: cluster.request(  # noqa: E731
        "PUT", f"{ACCOUNT}/{container}/m", OWNER, body=body,
        query={"multipart-manifest": "put"})
    assert put(b"not json")[0] == 400
    assert put(json.dumps([{"path": "nocontainer"}]).encode())[0] == 400
    status, _, body = put(json.dumps([{"path": f"/{container}/s", "etag": "0" * 32}]).encode())
    assert status == 400 and b"Etag Mismatch" in body
    status, _, body = put(json.dumps([{"path": f"/{container}/missing"}]).encode())
    assert status == 400 and b"404" in body


def test_dlo_concatenates_prefix(cluster, container):
    parts = [os.urandom(1000) for _ in range(3)]
    for i, part in enumerate(parts):
        cluster.request("PUT", f"{ACCOUNT}/{container}/dlo/{i}", OWNER, body=part)
    cluster.request("PUT", f"{ACCOUNT}/{container}/dlo-manifest", OWNER, body=b"",
                    headers={"X-Object-Manifest": f"{container}/dlo/"})
    status, headers, data = cluster.request("GET", f"{ACCOUNT}/{container}/dlo-manifest",
                                            OWNER)
    assert status == 200 and data == b"".join(parts)
    assert headers["etag"].startswith('"')


# ------------------------------------------------------------------ TempURL
def _tempurl(key: str, method: str, path: str, expires: int, digest=hashlib.sha256):
    sig = hmac.new(key.encode(), f"{method}\n{expires}\n{path}".encode(), digest).hexdigest()
    return {"temp_url_sig": sig, "temp_url_expires": str(expires)}


def test_tempurl_get_put_expiry_and_tampering(cluster, container):
    key = "s3cr3t"
    assert cluster.request("POST", ACCOUNT, OWNER,
                           headers={"X-Account-Meta-Temp-URL-Key": key})[0] == 204
    path = f"{ACCOUNT}/{container}/shared.txt"
    cluster.request("PUT", path, OWNER, body=b"public data")
    expires = int(time.time()) + 60
    status, headers, data = cluster.request("GET", path,
                                            query=_tempurl(key, "GET", path, expires))
    assert status == 200 and data == b"public data"
    assert headers["content-disposition"].startswith("attachment")
    sha1 = _tempurl(key, "GET", path, expires, hashlib.sha1)
    assert cluster.request("GET", path, query=sha1)[0] == 200
    assert cluster.request("HEAD", path, query=_tempurl(key, "GET", path, expires))[0] == 200
    tampered = _tempurl(key, "GET", path, expires)
    tampered["temp_url_sig"] = ("0" if tampered["temp_url_sig"][0] != "0" else "1") + \
        tampered["temp_url_sig"][1:]
    assert cluster.request("GET", path, query=tampered)[0] == 401
    other_obj = f"{ACCOUNT}/{container}/other"
    assert cluster.request("GET", other_obj,
                           query=_tempurl(key, "GET", path, expires))[0] == 401
    expired = _tempurl(key, "GET", path, int(time.time()) - 1)
    assert cluster.request("GET", path, query=expired)[0] == 401
    assert cluster.request("PUT", path, body=b"x",
                           query=_tempurl(key, "GET", path, expires))[0] == 401
    upload = f"{ACCOUNT}/{container}/uploaded"
    assert cluster.request("PUT", upload, body=b"via tempurl",
                           query=_tempurl(key, "PUT", upload, expires))[0] == 201
    assert cluster.request("GET", upload, OWNER)[2] == b"via tempurl"


# ------------------------------------------------------------------ bulk delete
def test_bulk_delete(cluster, container):
    for i in range(5):
        cluster.request("PUT", f"{ACCOUNT}/{container}/b{i}", OWNER, body=b"x")
    body = "\n".join([f"/{container}/b{i}" for i in range(5)] + [f"/{container}/nope",
                                                                  f"/{container}"])
    status, _, result = cluster.request("POST", ACCOUNT, OWNER, body=body.encode(),
                                        query={"bulk-delete": ""},
                                        headers={"Accept": "application/json",
                                                 "Content-Type": "text/plain"})
    doc = json.loads(result)
    assert status == 200
    assert doc["Number Deleted"] == 6 and doc["Number Not Found"] == 1
    assert doc["Errors"] == []
    assert cluster.request("HEAD", f"{ACCOUNT}/{container}", OWNER)[0] == 404


# ------------------------------------------------------------------ isolation and ACLs
def test_project_isolation_and_acls(cluster, container):
    path = f"{ACCOUNT}/{container}/private"
    cluster.request("PUT", path, OWNER, body=b"secret")
    assert cluster.request("GET", path, OTHER)[0] == 403
    assert cluster.request("GET", path)[0] == 401
    assert cluster.request("GET", f"{ACCOUNT}/{container}", OTHER)[0] == 403
    assert cluster.request("GET", ACCOUNT, OTHER)[0] == 403
    assert cluster.request("PUT", f"{ACCOUNT}/{container}/x", OTHER, body=b"x")[0] == 403
    assert cluster.request("GET", path, "invalid-token")[0] == 401
    # the reseller admin sees everything; a reader reads but cannot write
    assert cluster.request("GET", path, ADMIN)[2] == b"secret"
    assert cluster.request("GET", path, READER)[2] == b"secret"
    assert cluster.request("PUT", f"{ACCOUNT}/{container}/y", READER, body=b"y")[0] == 403
    # a read ACL for project p2 lets bob read and list, not write
    assert cluster.request("POST", f"{ACCOUNT}/{container}", OWNER,
                           headers={"X-Container-Read": "p2:*"})[0] == 204
    assert cluster.request("GET", path, OTHER)[2] == b"secret"
    assert cluster.request("GET", f"{ACCOUNT}/{container}", OTHER)[0] == 200
    assert cluster.request("PUT", f"{ACCOUNT}/{container}/z", OTHER, body=b"z")[0] == 403
    assert "x-container-read" not in cluster.request("HEAD", f"{ACCOUNT}/{container}",
                                                     OTHER)[1]
    # a write ACL lets bob upload; only owners change ACLs
    cluster.request("POST", f"{ACCOUNT}/{container}", OWNER,
                    headers={"X-Container-Write": "p2-name:bob"})
    assert cluster.request("PUT", f"{ACCOUNT}/{container}/z", OTHER, body=b"z")[0] == 201
    assert cluster.request("POST", f"{ACCOUNT}/{container}", OTHER,
                           headers={"X-Container-Read": "*:*"})[0] == 403
    # a public container: anonymous reads, listings only with .rlistings
    cluster.request("POST", f"{ACCOUNT}/{container}", OWNER,
                    headers={"X-Container-Read": ".r:*"})
    assert cluster.request("GET", path)[2] == b"secret"
    assert cluster.request("GET", f"{ACCOUNT}/{container}")[0] == 401
    cluster.request("POST", f"{ACCOUNT}/{container}", OWNER,
                    headers={"X-Container-Read": ".r:*,.rlistings"})
    assert cluster.request("GET", f"{ACCOUNT}/{container}")[0] == 200


# ------------------------------------------------------------------ bad input
def _raw(cluster, request: bytes) -> int:
    with socket.create_connection(("127.0.0.1", cluster.proxy_port), timeout=10) as sock:
        sock.sendall(request)
        status_line = sock.makefile("rb").readline()
    return int(status_line.split()[1])


def test_bad_input_gets_swift_4xx(cluster, container):
    obj = f"{ACCOUNT}/{container}/o"
    assert cluster.request("PUT", f"{ACCOUNT}/{'c' * 257}", OWNER)[0] == 400
    status, _, body = cluster.request("PUT", f"{ACCOUNT}/{container}/{'o' * 1025}", OWNER,
                                      body=b"x")
    assert status == 400 and b"longer than 1024" in body
    assert cluster.request("PUT", obj, OWNER, body=b"abc",
                           headers={"ETag": "0" * 32})[0] == 422
    assert cluster.request("PUT", obj, OWNER, body=b"x",
                           headers={"X-Object-Meta-" + "k" * 129: "v"})[0] == 400
    assert cluster.request("PUT", obj, OWNER, body=b"x",
                           headers={"X-Object-Meta-K": "v" * 257})[0] == 400
    too_many = {f"X-Object-Meta-K{i}": "v" for i in range(91)}
    assert cluster.request("PUT", obj, OWNER, body=b"x", headers=too_many)[0] == 400
    assert cluster.request("PUT", obj, OWNER, body=b"x",
                           headers={"X-Delete-At": "12"})[0] == 400
    assert cluster.request("PUT", obj, OWNER, body=b"x",
                           headers={"X-Delete-After": "soon"})[0] == 400
    assert cluster.request("GET", f"{ACCOUNT}/{container}", OWNER,
                           query={"limit": "10001"})[0] == 412
    assert cluster.request("GET", f"{ACCOUNT}/{container}", OWNER,
                           query={"delimiter": "ab"})[0] == 412
    cluster.request("PUT", obj, OWNER, body=b"abc")
    assert cluster.request("GET", obj, OWNER, headers={"Range": "bytes=5-9"})[0] == 416
    assert cluster.request("POST", f"{ACCOUNT}/{container}", OWNER,
                           headers={"X-Container-Write": ".r:*"})[0] == 400
    assert cluster.request("GET", "/v2/AUTH_p1")[0] == 404
    assert cluster.request("DELETE", ACCOUNT, OWNER)[0] == 405
    quoted = f"{ACCOUNT}/{container}/bad%FFname"
    assert _raw(cluster, f"PUT {quoted} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {OWNER}\r\n"
                         "Content-Length: 1\r\nConnection: close\r\n\r\nx".encode()) == 412
    assert _raw(cluster, f"PUT {obj} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {OWNER}\r\n"
                         "Connection: close\r\n\r\n".encode()) == 411
    assert _raw(cluster, f"PUT {obj} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {OWNER}\r\n"
                         "Content-Length: 6000000000\r\nConnection: close\r\n\r\n".encode()
                ) == 413


ODD_REQUESTS = [
    ("GET", "/v1/AUTH_p1/{c}", {"limit": "abc"}, {}, None),
    ("GET", "/v1/AUTH_p1/{c}", {"limit": "-1"}, {}, None),
    ("GET", "/v1/AUTH_p1/{c}", {"format": "yaml"}, {}, None),
    ("GET", "/v1/AUTH_p1/{c}/o", {}, {"Range": "bytes=-"}, None),
    ("GET", "/v1/AUTH_p1/{c}/o", {}, {"If-Modified-Since": "yesterday"}, None),
    ("GET", "/v1/AUTH_p1/{c}/o", {"multipart-manifest": "get", "format": "raw"}, {}, None),
    ("PUT", "/v1/AUTH_p1/{c}/o", {}, {"X-Copy-From": "nocontainer"}, b""),
    ("PUT", "/v1/AUTH_p1/{c}/o", {}, {"X-Copy-From": "/{c}/missing"}, b""),
    ("PUT", "/v1/AUTH_p1/{c}/o", {}, {"X-Object-Manifest": "/bad"}, b""),
    ("PUT", "/v1/AUTH_p1/{c}/o", {}, {"If-None-Match": "abc"}, b"x"),
    ("PUT", "/v1/AUTH_p1/{c}/o", {}, {"X-Static-Large-Object": "true"}, b"x"),
    ("PUT", "/v1/AUTH_p1/{c}/o", {"multipart-manifest": "put"}, {}, b"[" * 5000),
    ("PUT", "/v1/AUTH_p1/{c}/o", {"multipart-manifest": "put"}, {},
     b'[{"path": "/x/y", "range": "9-1"}]'),
    ("COPY", "/v1/AUTH_p1/{c}/o", {}, {}, None),
    ("COPY", "/v1/AUTH_p1/{c}/o", {}, {"Destination": "/"}, None),
    ("POST", "/v1/AUTH_p1", {"bulk-delete": ""}, {}, b"\xff\xfe\n/\n//\n"),
    ("POST", "/v1/AUTH_p1/{c}", {}, {"X-Container-Read": ".r:"}, None),
    ("POST", "/v1/AUTH_p1/{c}/missing", {}, {"X-Object-Meta-A": "1"}, None),
    ("DELETE", "/v1/AUTH_p1/{c}/missing", {"multipart-manifest": "delete"}, {}, None),
    ("GET", "/v1/AUTH_p1/{c}/o", {"temp_url_sig": "x", "temp_url_expires": "1"}, {}, None),
    ("GET", "/v1/other/{c}", {}, {}, None),
    ("PATCH", "/v1/AUTH_p1/{c}/o", {}, {}, None),
    ("GET", "/v1", {}, {}, None),
    ("GET", "/v1/AUTH_p1/{c}/o/../../x", {}, {}, None),
]


@pytest.mark.parametrize("method,path,query,headers,body", ODD_REQUESTS)
def test_odd_requests_never_500(cluster, container, method, path, query, headers, body):
    cluster.request("PUT", f"{ACCOUNT}/{container}/o", OWNER, body=b"data")
    fmt = {"c": container}
    status, _, _ = cluster.request(method, path.format(**fmt), OWNER,
                                   headers={k: v.format(**fmt) for k, v in headers.items()},
                                   body=body, query=query)
    assert 400 <= status < 500 or status in (200, 201, 202, 204), status
