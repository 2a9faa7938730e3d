"""The storage network's HTTP client: framing, keep-alive reuse, failures."""

from __future__ import annotations

import http.server
import threading

import pytest

from common.objectstore import httpclient


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding") == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline(), 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_PUT(self):  # noqa: N802
        body = self._body()
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Got", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until close")
            self.close_connection = True
        elif self.path == "/short":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"only ten!!")
            self.close_connection = True
        else:
            body = b"x" * 200000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_HEAD(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "12345")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_bodies_and_keepalive_reuse(server):
    pool = httpclient.Pool()
    resp = httpclient.request(pool, "127.0.0.1", server, "PUT", "/a", {}, b"payload")
    assert resp.status == 201 and resp.read() == b"payload"
    first = pool._idle[("127.0.0.1", server)][-1]
    resp = httpclient.request(pool, "127.0.0.1", server, "PUT", "/b", {},
                              iter([b"chunk", b"ed"]))
    assert resp.headers["x-got"] == "7" and resp.read() == b"chunked"
    assert pool._idle[("127.0.0.1", server)][-1] is first  # the same socket again


def test_streaming_chunked_head_and_close_delimited(server):
    pool = httpclient.Pool()
    resp = httpclient.request(pool, "127.0.0.1", server, "GET", "/big")
    assert sum(len(c) for c in resp.stream(65536)) == 200000
    resp = httpclient.request(pool, "127.0.0.1", server, "GET", "/chunked")
    assert resp.read() == b"hello chunked world"
    resp = httpclient.request(pool, "127.0.0.1", server, "HEAD", "/x")
    assert resp.headers["content-length"] == "12345" and resp.read() == b""
    resp = httpclient.request(pool, "127.0.0.1", server, "GET", "/close")
    assert resp.read() == b"until close"


def test_short_body_and_refused_connection(server):
    pool = httpclient.Pool(conn_timeout=0.5)
    resp = httpclient.request(pool, "127.0.0.1", server, "GET", "/short")
    with pytest.raises(httpclient.BackendError):
        resp.read()
    with pytest.raises(httpclient.BackendError):
        httpclient.request(pool, "127.0.0.1", 1, "GET", "/")


def test_header_injection_is_refused(server):
    pool = httpclient.Pool()
    with pytest.raises(httpclient.BackendError):
        httpclient.request(pool, "127.0.0.1", server, "GET", "/", {"X-A": "1\r\nX-B: 2"})


def test_quote_path():
    assert httpclient.quote_path("/d/1/a/c/o b?é") == "/d/1/a/c/o%20b%3F%C3%A9"
