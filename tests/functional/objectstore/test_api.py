"""The Swift v1 API through a real proxy and four storage nodes."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import time
import uuid

import pytest

OWNER = "owner-token"
ACCOUNT = "/v1/AUTH_p1"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def container(cluster):
    name = unique("c")
    status, _, _ = cluster.request("PUT", f"{ACCOUNT}/{name}", OWNER)
    assert status == 201
    return name


def test_info_advertises_swift_slo_tempurl_bulk(cluster):
    status, headers, body = cluster.request("GET", "/info")
    assert status == 200
    info = json.loads(body)
    assert info["swift"]["max_object_name_length"] == 1024
    assert {"slo", "tempurl", "bulk_delete", "dlo"} <= set(info)


def test_upload_download_many_objects_with_integrity(cluster, container):
    rnd = __import__("random").Random(7)
    bodies = {f"obj/{i:04d}": rnd.randbytes(rnd.choice([0, 1, 4096, 70000, 1 << 20]))
              for i in range(120)}

    def put(name):
        body = bodies[name]
        return cluster.request("PUT", f"{ACCOUNT}/{container}/{name}", OWNER, body=body,
                               headers={"ETag": hashlib.md5(body).hexdigest()})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(put, bodies))
    assert all(status == 201 for status, _, _ in results)
    for name, body in bodies.items():
        status, headers, data = cluster.request("GET", f"{ACCOUNT}/{container}/{name}", OWNER)
        assert status == 200 and data == body
        assert headers["etag"] == hashlib.md5(body).hexdigest()
    status, headers, listing = cluster.request("GET", f"{ACCOUNT}/{container}", OWNER,
                                               query={"format": "json"})
    entries = json.loads(listing)
    assert [e["name"] for e in entries] == sorted(bodies)
    assert {e["name"]: e["bytes"] for e in entries} == {n: len(b) for n, b in bodies.items()}
    assert headers["x-container-object-count"] == str(len(bodies))
    assert headers["x-container-bytes-used"] == str(sum(map(len, bodies.values())))


def test_chunked_upload_and_content_type_guess(cluster, container):
    body = os.urandom(200000)
    chunks = iter([body[:70000], body[70000:150000], body[150000:]])
    status, headers, _ = cluster.request("PUT", f"{ACCOUNT}/{container}/pic.png", OWNER,
                                         body=chunks)  # an iterable goes chunked
    assert status == 201
    assert headers["etag"] == hashlib.md5(body).hexdigest()
    status, headers, data = cluster.request("GET", f"{ACCOUNT}/{container}/pic.png", OWNER)
    assert data == body and headers["content-type"] == "image/png"


def test_ranges_and_conditional_requests(cluster, container):
    body = bytes(range(256)) * 400
    path = f"{ACCOUNT}/{container}/r"
    cluster.request("PUT", path, OWNER, body=body)
    status, headers, data = cluster.request("GET", path, OWNER, headers={"Range": "bytes=10-19"})
    assert status == 206 and data == body[10:20]
    assert headers["content-range"] == f"bytes 10-19/{len(body)}"
    status, _, data = cluster.request("GET", path, OWNER, headers={"Range": "bytes=-5"})
    assert status == 206 and data == body[-5:]
    status, headers, data = cluster.request("GET", path, OWNER,
                                            headers={"Range": "bytes=0-1,100-101"})
    assert status == 206 and headers["content-type"].startswith("multipart/byteranges")
    assert body[100:102] in data
    status, _, _ = cluster.request("GET", path, OWNER,
                                   headers={"Range": f"bytes={len(body) + 5}-"})
    assert status == 416
    status, _, data = cluster.request("GET", path, OWNER, headers={"Range": "bytes=junk"})
    assert status == 200 and data == body  # an invalid header is ignored, as in Swift
    etag = hashlib.md5(body).hexdigest()
    assert cluster.request("GET", path, OWNER, headers={"If-Match": '"nope"'})[0] == 412
    assert cluster.request("GET", path, OWNER, headers={"If-None-Match": etag})[0] == 304
    assert cluster.request("GET", path, OWNER, headers={"If-Match": etag})[0] == 200
    future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 3600))
    assert cluster.request("GET", path, OWNER,
                           headers={"If-Modified-Since": future})[0] == 304


def test_metadata_post_head_and_delete(cluster, container):
    path = f"{ACCOUNT}/{container}/m"
    cluster.request("PUT", path, OWNER, body=b"x", headers={"X-Object-Meta-Color": "blue"})
    assert cluster.request("HEAD", path, OWNER)[1]["x-object-meta-color"] == "blue"
    assert cluster.request("POST", path, OWNER, headers={"X-Object-Meta-Size": "L"})[0] == 202
    headers = cluster.request("HEAD", path, OWNER)[1]
    assert headers["x-object-meta-size"] == "L" and "x-object-meta-color" not in headers
    assert cluster.request("DELETE", path, OWNER)[0] == 204
    assert cluster.request("GET", path, OWNER)[0] == 404
    assert cluster.request("DELETE", path, OWNER)[0] == 404


def test_copy_and_x_copy_from(cluster, container):
    src = f"{ACCOUNT}/{container}/src"
    cluster.request("PUT", src, OWNER, body=b"copy me",
                    headers={"X-Object-Meta-A": "1", "Content-Type": "text/plain"})
    status, headers, _ = cluster.request("PUT", f"{ACCOUNT}/{container}/dst1", OWNER,
                                         headers={"X-Copy-From": f"/{container}/src",
                                                  "Content-Length": "0"})
    assert status == 201 and headers["x-copied-from"] == f"{container}/src"
    status, headers, data = cluster.request("GET", f"{ACCOUNT}/{container}/dst1", OWNER)
    assert data == b"copy me" and headers["x-object-meta-a"] == "1"
    assert cluster.request("COPY", src, OWNER,
                           headers={"Destination": f"{container}/dst2"})[0] == 201
    assert cluster.request("GET", f"{ACCOUNT}/{container}/dst2", OWNER)[2] == b"copy me"


def test_container_lifecycle_counts_and_metadata(cluster):
    name = unique("life")
    path = f"{ACCOUNT}/{name}"
    assert cluster.request("PUT", path, OWNER, headers={"X-Container-Meta-Tag": "t"})[0] == 201
    assert cluster.request("PUT", path, OWNER)[0] == 202
    cluster.request("PUT", f"{path}/o", OWNER, body=b"12345")
    status, headers, _ = cluster.request("HEAD", path, OWNER)
    assert status == 204 and headers["x-container-meta-tag"] == "t"
    assert headers["x-container-object-count"] == "1"
    assert cluster.request("DELETE", path, OWNER)[0] == 409
    cluster.request("DELETE", f"{path}/o", OWNER)
    assert cluster.request("DELETE", path, OWNER)[0] == 204
    assert cluster.request("HEAD", path, OWNER)[0] == 404


def test_account_listing_formats_and_counts(cluster, container):
    cluster.request("PUT", f"{ACCOUNT}/{container}/a", OWNER, body=b"abc")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # container counts reach accounts asynchronously
        status, headers, body = cluster.request("GET", ACCOUNT, OWNER,
                                                query={"format": "json"})
        entry = [e for e in json.loads(body) if e["name"] == container]
        if entry and entry[0]["count"] == 1:
            break
        time.sleep(0.2)
    assert entry[0]["bytes"] == 3
    assert int(headers["x-account-object-count"]) >= 1
    status, _, plain = cluster.request("GET", ACCOUNT, OWNER)
    assert status == 200 and container in plain.decode().splitlines()
    status, headers, xml = cluster.request("GET", ACCOUNT, OWNER, query={"format": "xml"})
    assert xml.startswith(b"<?xml") and f"<name>{container}</name>".encode() in xml


def test_account_metadata_post(cluster):
    assert cluster.request("POST", ACCOUNT, OWNER,
                           headers={"X-Account-Meta-Owner": "alice"})[0] == 204
    assert cluster.request("HEAD", ACCOUNT, OWNER)[1]["x-account-meta-owner"] == "alice"


def test_listing_prefix_delimiter_markers_reverse(cluster, container):
    names = ["a/1", "a/2", "b/1", "b/2/x", "c", "d"]
    for name in names:
        cluster.request("PUT", f"{ACCOUNT}/{container}/{name}", OWNER, body=b"")

    def listing(**query):
        status, _, body = cluster.request("GET", f"{ACCOUNT}/{container}", OWNER,
                                          query={"format": "json", **query})
        return [e.get("name") or e.get("subdir") for e in json.loads(body)]

    assert listing() == names
    assert listing(prefix="b/") == ["b/1", "b/2/x"]
    assert listing(delimiter="/") == ["a/", "b/", "c", "d"]
    assert listing(prefix="b/", delimiter="/") == ["b/1", "b/2/"]
    assert listing(marker="b/1") == ["b/2/x", "c", "d"]
    assert listing(end_marker="b") == ["a/1", "a/2"]
    assert listing(limit="2") == ["a/1", "a/2"]
    assert listing(reverse="true") == list(reversed(names))
    assert listing(reverse="true", delimiter="/") == ["d", "c", "b/", "a/"]
    status, _, plain = cluster.request("GET", f"{ACCOUNT}/{container}", OWNER,
                                       query={"prefix": "a/"})
    assert plain == b"a/1\na/2\n"
    status, _, _ = cluster.request("GET", f"{ACCOUNT}/{container}", OWNER,
                                   query={"prefix": "zzz"})
    assert status == 204


def test_expiry_with_delete_after(cluster, container):
    path = f"{ACCOUNT}/{container}/ephemeral"
    assert cluster.request("PUT", path, OWNER, body=b"bye",
                           headers={"X-Delete-After": "1"})[0] == 201
    assert cluster.request("GET", path, OWNER)[0] == 200
    time.sleep(2.1)
    assert cluster.request("GET", path, OWNER)[0] == 404
    cluster.run_all("expirer")
    status, _, body = cluster.request("GET", f"{ACCOUNT}/{container}", OWNER)
    assert b"ephemeral" not in body
