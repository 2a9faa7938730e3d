"""common.clients against a small in-process identity + image server on 127.0.0.1:
token caching and refresh, catalog lookup, streamed download, chunked upload, and every
failure as one ServiceError with the status and the service's message."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from common import conf as common_conf
from common.clients import identity
from common.clients.errors import ServiceError
from common.clients.identity import ServiceAuth
from common.clients.image import ImageClient

IMAGE = "3f6f2a2e-1c1b-4d55-9e59-0d8a1a7e6c11"
MISSING = "00000000-0000-4000-8000-000000000404"
EMPTY = "00000000-0000-4000-8000-000000000204"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self):
        if self.headers.get("X-Auth-Token") in self.server.valid_tokens:
            return True
        self._reply(401, json.dumps({"error": {"code": 401, "message": "The request you "
                                                "have made requires authentication."}}).encode())
        return False

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        user = body["auth"]["identity"]["password"]["user"]
        if user["password"] != "secret":
            return self._reply(401, json.dumps({"error": {"message": "Invalid password"}})
                               .encode())
        self.server.auth_count += 1
        token = f"tok-{self.server.auth_count}"
        self.server.valid_tokens.add(token)
        base = f"http://127.0.0.1:{self.server.server_port}"
        expires = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z",
                                time.gmtime(time.time() + self.server.lifetime))
        answer = {"token": {"expires_at": expires, "user": {"id": "u1"},
                            "project": {"id": "p1"}, "catalog": [
            {"type": "image", "name": "glance", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "url": base + "/public"},
                {"interface": "internal", "region_id": "RegionOne", "url": base + "/image/"},
            ]}]}}
        self._reply(201, json.dumps(answer).encode(), {"X-Subject-Token": token})

    def do_GET(self):
        if not self._authorized():
            return
        image_id = self.path.split("/")[-2]
        if self.path != f"/image/v2/images/{image_id}/file":
            return self._reply(404)
        if image_id == MISSING:
            return self._reply(404, json.dumps({"message": f"No image found with ID "
                                                           f"{image_id}", "code": "404"}).encode())
        if image_id == EMPTY:
            return self._reply(204)
        self._reply(200, self.server.images[image_id])

    def do_PUT(self):
        if not self._authorized():
            return
        image_id = self.path.split("/")[-2]
        self.server.upload_headers = dict(self.headers)
        data = b""
        while True:  # chunked transfer encoding
            size = int(self.rfile.readline().strip(), 16)
            chunk = self.rfile.read(size + 2)[:size]
            if not size:
                break
            data += chunk
            self.server.chunks += 1
        if image_id in self.server.images:
            return self._reply(409, json.dumps({"message": "Image status is active, not "
                                                           "queued"}).encode())
        self.server.images[image_id] = data
        self._reply(204)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.valid_tokens, httpd.auth_count, httpd.lifetime, httpd.chunks = set(), 0, 3600, 0
    httpd.images = {IMAGE: b"x" * 300_000}
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _conf(server, **auth):
    conf = common_conf.build([], None, "test", {"service_auth": {
        "auth_url": f"http://127.0.0.1:{server.server_port}/v3", "password": "secret",
        **auth}, "image_client": {"chunk_size": 65536}})
    return conf


def test_token_is_cached_and_refreshed_before_expiry(server):
    now = [time.time()]
    auth = ServiceAuth(_conf(server), clock=lambda: now[0])
    first = auth.token()
    assert auth.token() is first and server.auth_count == 1
    assert (first.user_id, first.project_id) == ("u1", "p1")
    now[0] = first.expires_at - identity.REFRESH_MARGIN + 1
    assert auth.token().id == "tok-2"
    assert auth.endpoint("image") == f"http://127.0.0.1:{server.server_port}/image"
    with pytest.raises(ServiceError, match="no internal compute endpoint"):
        auth.endpoint("compute")


def test_authentication_failures(server):
    with pytest.raises(ServiceError) as error:
        ServiceAuth(_conf(server, password="wrong")).token()
    assert error.value.status == 401 and "Invalid password" in error.value.message
    with pytest.raises(ServiceError, match="password is not set"):
        ServiceAuth(_conf(server, password=None)).token()
    with pytest.raises(ServiceError) as error:
        ServiceAuth(_conf(server, auth_url="http://127.0.0.1:9/v3")).token()
    assert error.value.status is None and "cannot reach" in error.value.message


def test_download_streams_and_retries_a_revoked_token(server):
    conf = _conf(server)
    client = ImageClient(conf, ServiceAuth(conf))
    chunks = list(client.download(IMAGE))
    assert b"".join(chunks) == server.images[IMAGE]
    assert max(len(c) for c in chunks) <= 65536 and len(chunks) >= 5
    server.valid_tokens.clear()  # revoked: one 401, a new token, the same answer
    assert b"".join(client.download(IMAGE)) == server.images[IMAGE]
    assert server.auth_count == 2
    with pytest.raises(ServiceError) as error:
        client.download(MISSING)
    assert error.value.status == 404 and error.value.message.endswith(
        f"No image found with ID {MISSING}")
    with pytest.raises(ServiceError, match="has no data yet") as error:
        client.download(EMPTY)
    assert error.value.status == 204
    with pytest.raises(ServiceError, match="not an image id"):
        client.download("../../etc/passwd")


def test_upload_is_chunked(server):
    conf = _conf(server)
    client = ImageClient(conf, ServiceAuth(conf))
    new = "7d3e4f00-1111-4222-8333-944455556666"
    client.upload(new, (bytes([i]) * 1000 for i in range(5)))
    assert server.images[new] == b"".join(bytes([i]) * 1000 for i in range(5))
    assert server.upload_headers["Transfer-Encoding"] == "chunked"
    assert server.upload_headers["Content-Type"] == "application/octet-stream"
    assert server.chunks == 5
    with pytest.raises(ServiceError) as error:
        client.upload(new, [b"again"])
    assert error.value.status == 409 and "not queued" in error.value.message


def test_endpoint_override(server):
    conf = _conf(server)
    conf.set_override("endpoint_override", f"http://127.0.0.1:{server.server_port}/image/",
                      group="image_client")
    conf.set_override("interface", "admin", group="service_auth")  # not in the catalog
    client = ImageClient(conf, ServiceAuth(conf))
    assert b"".join(client.download(IMAGE)) == server.images[IMAGE]
