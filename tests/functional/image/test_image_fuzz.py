"""Hypothesis throws arbitrary requests at every image route: never a 5xx.

In-process (Flask test client) over a real SQLite database and filesystem store, so
thousands of requests run in seconds.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.api.app import create_app
from controller.db import base, migration
from controller.identity import bootstrap
from controller.identity.fernet import KeyRepository
from controller.image import store
from controller.runtime import Runtime
from tests.functional import support


@pytest.fixture(scope="module")
def client(database_url, tmp_path_factory):
    """The whole API in-process on each database kind, with one shared image."""
    root = tmp_path_factory.mktemp("image-fuzz")
    conf = support.make_conf(database_url, f"{root}/keys", image={
        "filesystem_store_datadir": f"{root}/images", "image_size_cap": 1 << 20})
    rt = Runtime.from_conf(conf)
    migration.sync(rt.db)
    KeyRepository(f"{root}/keys").setup()
    bootstrap.run(rt, bootstrap.Options(admin_password="pw", public_url="http://localhost",
                                        demo_password="demo"))
    test_client = create_app(conf, rt).test_client()
    test_client.tokens = {user: _token(test_client, user, password, user)
                          for user, password in (("admin", "pw"), ("demo", "demo"))}
    image = test_client.post("/image/v2/images", headers=_auth(test_client, "admin"),
                             json={"name": "fuzz", "disk_format": "raw",
                                   "container_format": "bare", "visibility": "shared"})
    test_client.image_id = image.json["id"]
    yield test_client
    store.reset()
    base.reset()


def _token(client, user: str, password: str, project: str) -> str:
    response = client.post("/identity/v3/auth/tokens",
                           json=support.password_auth(user, password, project))
    return response.headers["X-Subject-Token"]


def _auth(client, user: str) -> dict[str, str]:
    return {"X-Auth-Token": client.tokens[user]}


TEXT = st.text(max_size=40)
HEADER = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)
SEGMENT = TEXT.map(lambda text: urllib.parse.quote(text, safe=""))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12)
KEYS = st.sampled_from(["name", "visibility", "protected", "os_hidden", "disk_format",
                        "container_format", "min_ram", "min_disk", "tags", "owner", "id",
                        "status", "checksum", "locations", "os_glance_x", "custom", ""])
POINTER = st.one_of(KEYS.map(lambda key: "/" + key), TEXT,
                    st.sampled_from(["/tags/0", "/locations/-", "/a~1b", "/a~2", "//", "/"]))
OPERATION = st.fixed_dictionaries({}, optional={
    "op": st.sampled_from(["add", "remove", "replace", "move", "test"]) | TEXT,
    "path": POINTER | JSON, "value": JSON, "add": POINTER, "replace": POINTER})
BODY = st.one_of(JSON, st.lists(OPERATION, max_size=4),
                 st.dictionaries(KEYS | TEXT, JSON, max_size=6),
                 st.fixed_dictionaries({"member": TEXT | JSON}),
                 st.fixed_dictionaries({"status": st.sampled_from(["accepted", "x"]) | JSON}))
CONTENT_TYPES = st.sampled_from([
    "application/json", "application/openstack-images-v2.1-json-patch",
    "application/openstack-images-v2.0-json-patch", "application/octet-stream",
    "text/plain", ""])
QUERY = st.dictionaries(
    st.sampled_from(["limit", "marker", "sort", "sort_key", "sort_dir", "member_status",
                     "visibility", "os_hidden", "protected", "size_min", "size_max", "tag",
                     "name", "id", "status", "created_at", "updated_at", "owner"]) | TEXT,
    TEXT | st.integers().map(str) | st.sampled_from(["in:a,b", "gte:2020-01-01T00:00:00Z"]),
    max_size=4)
ROUTES = [
    ("GET", "/image/v2/images"), ("POST", "/image/v2/images"),
    ("GET", "/image/v2/images/{id}"), ("PATCH", "/image/v2/images/{id}"),
    ("DELETE", "/image/v2/images/{id}"), ("PUT", "/image/v2/images/{id}/file"),
    ("GET", "/image/v2/images/{id}/file"),
    ("POST", "/image/v2/images/{id}/actions/{segment}"),
    ("PUT", "/image/v2/images/{id}/tags/{segment}"),
    ("DELETE", "/image/v2/images/{id}/tags/{segment}"),
    ("GET", "/image/v2/images/{id}/members"), ("POST", "/image/v2/images/{id}/members"),
    ("GET", "/image/v2/images/{id}/members/{segment}"),
    ("PUT", "/image/v2/images/{id}/members/{segment}"),
    ("DELETE", "/image/v2/images/{id}/members/{segment}"),
    ("GET", "/image/v2/schemas/{segment}"), ("GET", "/image/{segment}"),
    ("PUT", "/image/v2/images"), ("GET", "/image/v2/info/import"),
]


@st.composite
def requests(draw):
    method, template = draw(st.sampled_from(ROUTES))
    image_id = draw(st.sampled_from(["{known}", str(uuid.uuid4())]) | SEGMENT)
    path = template.format(id=image_id, segment=draw(SEGMENT))
    query = urllib.parse.urlencode(draw(QUERY))
    raw = draw(st.one_of(BODY.map(lambda body: json.dumps(body).encode()),
                         st.binary(max_size=200), st.just(b"")))
    headers = {"Content-Type": draw(CONTENT_TYPES)}
    if draw(st.booleans()):
        headers["Range"] = draw(st.sampled_from(["bytes=0-10", "bytes=5-", "bytes=-3",
                                                 "bytes=9-1", "items=1-2"]) | HEADER)
    return method, path + (f"?{query}" if query else ""), raw, headers


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests(), user=st.sampled_from(["admin", "demo", None]))
def test_no_request_gets_a_5xx(client, request, user):
    method, path, raw, headers = request
    path = path.replace("%7Bknown%7D", client.image_id).replace("{known}", client.image_id)
    if user:
        headers = {**headers, **_auth(client, user)}
    response = client.open(path, method=method, data=raw, headers=headers)
    assert response.status_code < 500, (method, path, raw[:200], response.data[:500])
    if response.status_code >= 400:
        body = response.get_json()
        assert body["code"].startswith(str(response.status_code)), body
        assert body["message"], body


def test_absurdly_deep_json_is_a_bad_request(client):
    headers = {**_auth(client, "admin"), "Content-Type": "application/json"}
    response = client.post("/image/v2/images", data="[" * 50_000 + "]" * 50_000,
                           headers=headers)
    assert response.status_code in (400, 413)


@pytest.mark.parametrize("text", ["\u0000", "\ud800"])
def test_strings_no_database_can_store(client, text):
    headers = {**_auth(client, "admin"), "Content-Type": "application/json"}
    body = json.dumps({"name": f"a{text}b"})
    assert client.post("/image/v2/images", data=body, headers=headers).status_code == 400
    query = urllib.parse.quote(text.encode("utf-8", "surrogatepass"))
    assert client.get(f"/image/v2/images?name={query}", headers=headers).status_code < 500
