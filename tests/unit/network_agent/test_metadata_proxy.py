"""The metadata proxy's HTTP side on a plain local socket (no namespace needed)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import http.server
import json
import socket
import threading

import pytest

from agents.network import metadata_proxy


class Upstream(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"path": self.path, "method": self.command,
                           "body": self.rfile.read(length).decode(),
                           "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Upstream", "yes")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


def _serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def upstream():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    _serve(server)
    yield f"http://127.0.0.1:{server.server_address[1]}/metadata"
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream):
    lookups = []

    def lookup(kind, owner, ip):
        lookups.append((kind, owner, ip))
        if lookups and owner == "broken":
            raise RuntimeError("no bus")
        return {"instance_id": "inst-1", "project_id": "proj-1"} if owner == "net-1" else None

    def make(owner="net-1", secret="s3cret", url=upstream):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        listener = metadata_proxy.Listener(
            sock, "network", owner, metadata_proxy.Upstream(url, secret, 5),
            metadata_proxy.InstanceCache(lookup))
        _serve(listener)
        made.append(listener)
        return listener.socket.getsockname()[1]

    made = []
    make.lookups = lookups
    yield make
    for listener in made:
        listener.shutdown()
        listener.server_close()


def request(port, method="GET", path="/latest/meta-data/instance-id", body=None,
            headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def test_forwards_with_a_signature_and_drops_forged_headers(proxy):
    port = proxy()
    resp, data = request(port, headers={"X-Instance-ID": "someone-else",
                                        "X-Forwarded-For": "1.2.3.4"})
    assert resp.status == 200 and resp.getheader("X-Upstream") == "yes"
    seen = json.loads(data)
    assert seen["path"] == "/metadata/latest/meta-data/instance-id"
    assert seen["headers"]["x-instance-id"] == "inst-1"
    assert seen["headers"]["x-instance-id-signature"] == hmac.new(
        b"s3cret", b"inst-1", hashlib.sha256).hexdigest()
    assert seen["headers"]["x-tenant-id"] == "proj-1"
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert metadata_proxy.sign("s3cret", "inst-1") == seen["headers"]["x-instance-id-signature"]


def test_post_bodies_pass_and_lookups_are_cached(proxy):
    port = proxy()
    request(port)
    resp, data = request(port, "POST", "/openstack/latest/password", body=b"secret-pw")
    assert json.loads(data)["body"] == "secret-pw"
    assert len(proxy.lookups) == 1


@pytest.mark.parametrize("owner,secret,status", [("net-2", "s3cret", 404),
                                                 ("net-1", "", 503),
                                                 ("broken", "s3cret", 503)])
def test_refusals(proxy, owner, secret, status):
    resp, _ = request(proxy(owner=owner, secret=secret))
    assert resp.status == status


def test_upstream_down_is_a_502(proxy):
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{free.getsockname()[1]}/metadata"
    free.close()
    resp, _ = request(proxy(url=dead))
    assert resp.status == 502


def test_too_large_bodies_are_refused(proxy):
    resp, _ = request(proxy(), "POST", body=b"x" * (metadata_proxy.MAX_BODY + 1))
    assert resp.status == 413
