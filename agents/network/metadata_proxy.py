"""The HTTP side of the metadata agent: who is asking, and forwarding with a signature.

A guest asks ``http://169.254.169.254/...``; the listener of its namespace knows the
network (``qdhcp-``) or router (``qrouter-``) it serves, the source address names the
port, and ``get_instance_for_address`` names the instance. The request goes on to the
compute metadata API with ``X-Instance-ID``, ``X-Instance-ID-Signature`` (hex
HMAC-SHA256 of the instance id under the shared secret), ``X-Tenant-ID`` and
``X-Forwarded-For``; whatever the guest sent in those headers is dropped first.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import http.server
import logging
import socket
import socketserver
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
CACHE_SECONDS = 5.0
# Headers a guest may not set, and hop-by-hop headers that are not forwarded.
_DROP = {"x-instance-id", "x-instance-id-signature", "x-tenant-id", "x-forwarded-for",
         "x-stratus-network-id", "x-stratus-router-id", "connection", "keep-alive",
         "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host",
         "content-length", "server", "date"}


def sign(secret: str, instance_id: str) -> str:
    """The X-Instance-ID-Signature of instance_id."""
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


Lookup = Callable[[str, str, str], "dict[str, Any] | None"]  # (kind, owner id, ip)


class InstanceCache:
    """Answers of get_instance_for_address kept a few seconds: a guest's boot asks a
    dozen paths in a row, which should cost one RPC call, not twelve."""

    def __init__(self, lookup: Lookup, ttl: float = CACHE_SECONDS):
        self._lookup = lookup
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str], tuple[float, dict[str, Any]]] = {}

    def get(self, kind: str, owner: str, ip: str) -> dict[str, Any] | None:
        key = (kind, owner, ip)
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit and hit[0] > now:
                return hit[1]
        found = self._lookup(kind, owner, ip)
        if found:  # misses are not cached: a port may be bound a second later
            with self._lock:
                self._entries[key] = (now + self._ttl, found)
                if len(self._entries) > 10000:
                    self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        return found


class Upstream:
    """Where requests go: the compute metadata API."""

    def __init__(self, url: str, secret: str, timeout: float, insecure: bool = False):
        parts = urllib.parse.urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base = parts.path.rstrip("/")
        self.secret = secret
        self.timeout = timeout
        self.insecure = insecure

    def connection(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            context = ssl.create_default_context()
            if self.insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=context)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    """One guest request."""

    server: Listener
    protocol_version = "HTTP/1.1"
    server_version = "stratus-metadata-proxy"
    timeout = 60

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._proxy()

    def do_HEAD(self) -> None:  # noqa: N802
        self._proxy()

    def do_POST(self) -> None:  # noqa: N802 - the password path of the metadata API
        self._proxy()

    def log_message(self, fmt: str, *args: Any) -> None:
        LOG.debug("%s %s: " + fmt, self.server.kind, self.server.owner, *args)

    def _reply(self, status: int, text: str) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _proxy(self) -> None:
        server = self.server
        guest_ip = self.client_address[0]
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._reply(413, "Request body too large")
            return
        body = self.rfile.read(length) if length else None
        if not server.upstream.secret:
            LOG.error("[metadata] shared_secret is empty; the metadata API would refuse "
                      "every request, so the proxy does too")
            self._reply(503, "The metadata proxy is not configured")
            return
        try:
            found = server.cache.get(server.kind, server.owner, guest_ip)
        except Exception:  # noqa: BLE001 - the network service is unreachable
            LOG.exception("cannot ask the network service who %s is", guest_ip)
            self._reply(503, "The network service did not answer; try again")
            return
        if not found or not found.get("instance_id"):
            LOG.info("metadata request from %s on %s %s matches no instance", guest_ip,
                     server.kind, server.owner)
            self._reply(404, "No instance has this address")
            return
        instance_id = str(found["instance_id"])
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _DROP}
        headers.update({
            "X-Forwarded-For": guest_ip,
            "X-Instance-ID": instance_id,
            "X-Instance-ID-Signature": sign(server.upstream.secret, instance_id),
            "X-Tenant-ID": str(found.get("project_id") or ""),
            "Connection": "close",
        })
        if body is not None:
            headers["Content-Length"] = str(len(body))
        upstream = server.upstream
        conn = upstream.connection()
        try:
            conn.request(self.command, upstream.base + self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            LOG.error("the metadata API did not answer (%s); instance %s", exc, instance_id)
            self._reply(502, "The metadata service did not answer")
            return
        finally:
            conn.close()
        self.send_response(resp.status, resp.reason)
        for key, value in resp.getheaders():
            if key.lower() not in _DROP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class Listener(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """An HTTP server on a socket bound elsewhere (inside a namespace)."""

    daemon_threads = True

    def __init__(self, sock: socket.socket, kind: str, owner: str, upstream: Upstream,
                 cache: InstanceCache):
        # Skip TCPServer.__init__: the socket is already bound and listening.
        socketserver.BaseServer.__init__(self, sock.getsockname(), ProxyHandler)
        self.socket = sock
        self.server_name, self.server_port = "169.254.169.254", sock.getsockname()[1]
        self.kind = kind
        self.owner = owner
        self.upstream = upstream
        self.cache = cache
