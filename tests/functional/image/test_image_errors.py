"""Bad requests get Glance's 4xx (and body), never a 5xx, from the real server."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
import requests

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
OCTETS = {"Content-Type": "application/octet-stream"}


class Api:
    """Raw HTTP to /image/v2 with a user's token."""

    def __init__(self, cloud, user: str):
        self.base = f"{cloud.url}/image/v2"
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = cloud.token(user)

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.session.request(method, self.base + path, timeout=60, **kwargs)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            body = response.json()
            assert body["code"].startswith(str(response.status_code)), body
            assert body["message"] and body["title"], body
        return response


@pytest.fixture(scope="module")
def admin(stratus_cloud):
    return Api(stratus_cloud, "admin")


@pytest.fixture(scope="module")
def demo(stratus_cloud):
    return Api(stratus_cloud, "demo")


@pytest.fixture
def queued(admin):
    image = admin("POST", "/images", json={"name": "errors", "disk_format": "raw",
                                           "container_format": "bare",
                                           "visibility": "public"}).json()
    yield image["id"]
    admin("DELETE", f"/images/{image['id']}")


def test_unknown_disk_format(admin):
    response = admin("POST", "/images", json={"name": "x", "disk_format": "floppy"})
    assert response.status_code == 400
    assert "floppy" in response.json()["message"]


def test_read_only_attribute_at_create(admin):
    assert admin("POST", "/images", json={"status": "active"}).status_code == 403


def test_bad_json_patch_paths(admin, queued):
    for path, code in (("/tags/0", 400), ("name", 400), ("/a~2", 400), ("/status", 403),
                       ("/checksum", 403)):
        response = admin("PATCH", f"/images/{queued}", headers=PATCH,
                         json=[{"op": "replace", "path": path, "value": "x"}])
        assert response.status_code == code, (path, response.text)
    assert admin("PATCH", f"/images/{queued}", json=[]).status_code == 415
    assert "Accept-Patch" in admin("PATCH", f"/images/{queued}", json=[]).headers
    assert admin("PATCH", f"/images/{queued}", headers=PATCH, data="{nope").status_code == 400
    response = admin("PATCH", f"/images/{queued}", headers=PATCH,
                     json=[{"op": "replace", "path": "/missing", "value": "x"}])
    assert response.status_code == 409


def test_checksum_mismatch_kills_the_upload(admin, queued):
    body = os.urandom(100_000)
    response = admin("PUT", f"/images/{queued}/file", data=body,
                     headers={**OCTETS, "Content-MD5": "0" * 32})
    assert response.status_code == 400
    assert "checksum" in response.json()["message"]
    assert admin("GET", f"/images/{queued}").json()["status"] == "killed"
    assert admin("GET", f"/images/{queued}/file").status_code == 204


def test_declared_checksum_that_matches(admin, queued):
    body = os.urandom(100_000)
    response = admin("PUT", f"/images/{queued}/file", data=body,
                     headers={**OCTETS, "Content-MD5": hashlib.md5(body).hexdigest(),
                              "X-Image-Meta-Os-Hash-Value": hashlib.sha512(body).hexdigest()})
    assert response.status_code == 204
    got = admin("GET", f"/images/{queued}/file", headers={"Range": "bytes=10-19"})
    assert (got.status_code, got.content) == (206, body[10:20])
    assert got.headers["Content-Range"] == "bytes 10-19/100000"
    assert admin("GET", f"/images/{queued}/file",
                 headers={"Range": "bytes=200000-"}).status_code == 416


def test_declared_size_must_match(admin, queued):
    response = admin("PUT", f"/images/{queued}/file", data=b"x" * 1000,
                     headers={**OCTETS, "X-OpenStack-Image-Size": "999"})
    assert response.status_code == 400
    assert "X-OpenStack-Image-Size" in response.json()["message"]  # checked upfront
    assert admin("GET", f"/images/{queued}").json()["status"] == "queued"
    blocks = iter([b"x" * 500, b"y" * 500])  # chunked: only the hint declares the size
    response = admin("PUT", f"/images/{queued}/file", data=blocks,
                     headers={**OCTETS, "X-OpenStack-Image-Size": "1001"})
    assert response.status_code == 400
    assert "does not match" in response.json()["message"]
    assert admin("GET", f"/images/{queued}").json()["status"] == "queued"


def test_chunked_upload(admin, queued):
    """Transfer-Encoding: chunked (a generator body) streams through gunicorn."""
    blocks = [os.urandom(70_000) for _ in range(5)]
    response = admin("PUT", f"/images/{queued}/file", data=iter(blocks), headers=OCTETS)
    assert response.status_code == 204
    image = admin("GET", f"/images/{queued}").json()
    assert image["size"] == 350_000
    assert image["os_hash_value"] == hashlib.sha512(b"".join(blocks)).hexdigest()
    assert admin("PUT", f"/images/{queued}/file", data=b"again",
                 headers=OCTETS).status_code == 409


def test_wrong_content_type_for_data(admin, queued):
    assert admin("PUT", f"/images/{queued}/file", data=b"x",
                 headers={"Content-Type": "text/plain"}).status_code == 415


def test_non_owner_update_and_delete(demo, queued):
    assert demo("GET", f"/images/{queued}").status_code == 200  # public: visible
    response = demo("PATCH", f"/images/{queued}", headers=PATCH,
                    json=[{"op": "replace", "path": "/name", "value": "mine"}])
    assert response.status_code == 403
    assert demo("DELETE", f"/images/{queued}").status_code == 403
    assert demo("PUT", f"/images/{queued}/file", data=b"x", headers=OCTETS).status_code == 403
    assert demo("PUT", f"/images/{queued}/tags/t").status_code == 403


@pytest.mark.parametrize("path", ["/images/{id}", "/images/{id}/file", "/images/{id}/members",
                                  "/images/not-a-uuid", "/images/{id}/members/x"])
def test_unknown_ids(admin, path):
    response = admin("GET", path.format(id=uuid.uuid4()))
    assert response.status_code == 404


def test_list_parameters(admin):
    for query in ("limit=-1", "limit=x", "sort_key=owner", "sort_dir=up",
                  "sort=name:sideways", "member_status=maybe", "visibility=secret",
                  "os_hidden=perhaps", "changes-since=2020-01-01",
                  "created_at=after:2020", "marker=" + str(uuid.uuid4())):
        assert admin("GET", f"/images?{query}").status_code == 400, query
    assert admin("GET", "/images?size_min=99999999999999999999999").status_code == 200


def test_pagination_links(admin):
    made = [admin("POST", "/images", json={"name": f"page-{i}"}).json()["id"]
            for i in range(3)]
    try:
        seen, url = [], "/images?limit=2&name=in:page-0,page-1,page-2"
        while url:
            page = admin("GET", url).json()
            assert page["schema"] == "/v2/schemas/images"
            assert page["first"].startswith("/v2/images?")
            seen += [image["id"] for image in page["images"]]
            url = page.get("next", "").removeprefix("/v2")
        assert sorted(seen) == sorted(made)
    finally:
        for image_id in made:
            admin("DELETE", f"/images/{image_id}")


def test_schemas_and_versions(stratus_cloud, admin):
    assert admin("GET", "/schemas/image").json()["name"] == "image"
    assert admin("GET", "/schemas/images").json()["name"] == "images"
    assert admin("GET", "/schemas/member").json()["name"] == "member"
    assert admin("GET", "/schemas/members").json()["name"] == "members"
    versions = requests.get(f"{stratus_cloud.url}/image/versions", timeout=10).json()
    assert versions["versions"][0]["status"] == "CURRENT"
    root = requests.get(f"{stratus_cloud.url}/image", timeout=10)
    assert root.status_code == 300
    unauthenticated = requests.get(f"{stratus_cloud.url}/image/v2/images", timeout=10)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "401 Unauthorized"
