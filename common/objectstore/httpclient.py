"""Keep-alive HTTP/1.1 connections from proxies and daemons to storage nodes.

A deliberately small client for one job: the storage network, where every object
write is four to seven requests. http.client costs more per request than the rest
of the exchange (a new buffered reader per response, header parsing through the
email package); here a connection keeps one reader for its lifetime, a request
head goes out in one ``sendall`` and a response head is parsed into a dict.

A Pool keeps idle connections per (host, port), newest first, drops ones idle
longer than ``idle_ttl`` (below the servers' keep-alive), and checks that a reused
socket has not been closed by the server.
"""

from __future__ import annotations

import select
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator

CHUNK = 65536
MAX_LINE = 65536
MAX_HEADERS = 256


class BackendError(Exception):
    """A storage node could not be reached or broke off the exchange."""


class Connection:
    """One keep-alive connection to host:port."""

    __slots__ = ("host", "port", "key", "sock", "rfile", "last_used", "method")

    def __init__(self, host: str, port: int, conn_timeout: float):
        self.host = host
        self.port = port
        self.key = (host, port)
        self.last_used = 0.0
        self.method = "GET"  # of the request in flight: a HEAD answer has no body
        try:
            self.sock: socket.socket | None = socket.create_connection((host, port),
                                                                       conn_timeout)
        except OSError as exc:
            raise BackendError(f"connect to {host}:{port}: {exc}") from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb", buffering=CHUNK)

    def send_head(self, method: str, path: str, headers: dict[str, str],
                  chunked: bool = False) -> None:
        """Send the request line and headers in one write.

        :raises BackendError: a header would break the framing, or the send failed.
        """
        parts = [f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"]
        for name, value in headers.items():
            value = str(value)
            if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
                raise BackendError(f"invalid header {name!r}")
            parts.append(f"{name}: {value}\r\n")
        if chunked:
            parts.append("Transfer-Encoding: chunked\r\n")
        self.method = method
        parts.append("\r\n")
        try:
            head = "".join(parts).encode("latin-1")
        except UnicodeEncodeError as exc:
            raise BackendError(f"header not latin-1: {exc}") from exc
        self.send(head)

    def send(self, data: bytes | memoryview) -> None:
        """:raises OSError: the connection broke."""
        if self.sock is None:
            raise BrokenPipeError("connection closed")
        self.sock.sendall(data)

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.rfile.close()
                self.sock.close()
            finally:
                self.sock = None


class Response:
    """A node's answer: status, lower-cased headers and the (unread) body."""

    __slots__ = ("pool", "conn", "status", "headers", "node", "_left", "_chunked",
                 "_chunk_left", "_will_close", "_done")

    def __init__(self, pool: Pool, conn: Connection, method: str):
        self.pool = pool
        self.conn: Connection | None = conn
        self.node = None
        rfile = conn.rfile
        while True:
            line = rfile.readline(MAX_LINE + 1)
            if not line:
                raise BackendError(f"{conn.host}:{conn.port} closed the connection")
            parts = line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
                raise BackendError(f"bad status line {line[:80]!r}")
            status = int(parts[1])
            headers = self._read_headers(rfile)
            if status != 100:
                break
        self.status = status
        self.headers = headers
        http10 = parts[0] == b"HTTP/1.0"
        connection = headers.get("connection", "").lower()
        self._will_close = "close" in connection or (http10 and "keep-alive" not in connection)
        self._chunked = False
        self._chunk_left = 0
        self._left: int | None
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self._left = 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._chunked, self._left = True, None
        elif "content-length" in headers:
            self._left = int(headers["content-length"])
        else:
            self._left, self._will_close = None, True  # body ends when the peer closes
        self._done = self._left == 0

    @staticmethod
    def _read_headers(rfile) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = rfile.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                return headers
            name, _, value = line.decode("latin-1").partition(":")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        raise BackendError("too many response headers")

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    # ------------------------------------------------------------ body
    def _read_some(self, amt: int) -> bytes:
        assert self.conn is not None
        rfile = self.conn.rfile
        if self._chunked:
            if self._chunk_left == 0:
                size_line = rfile.readline(MAX_LINE + 1)
                try:
                    self._chunk_left = int(size_line.split(b";", 1)[0], 16)
                except ValueError as exc:
                    raise BackendError("bad chunk size") from exc
                if self._chunk_left == 0:
                    while rfile.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    self._done = True
                    return b""
            data = rfile.read(min(amt, self._chunk_left))
            if not data:
                raise BackendError("connection closed inside a chunk")
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                rfile.readline(MAX_LINE + 1)  # the CRLF after the chunk
            return data
        if self._left is None:
            data = rfile.read(amt)
            if not data:
                self._done = True
            return data
        data = rfile.read(min(amt, self._left))
        if not data:
            raise BackendError(f"body ended {self._left} bytes early")
        self._left -= len(data)
        self._done = self._left == 0
        return data

    def read(self, amt: int | None = None) -> bytes:
        """The rest of the body (or up to amt bytes); releases the connection at the end.

        :raises BackendError: the node stopped sending before the end.
        """
        if self._done or self.conn is None:
            self.release()
            return b""
        try:
            if amt is not None:
                data = self._read_some(amt)
            else:
                parts = []
                while not self._done:
                    part = self._read_some(CHUNK * 16)
                    if not part and self._left is None and not self._chunked:
                        break
                    parts.append(part)
                data = b"".join(parts)
        except (OSError, ValueError) as exc:
            self.close()
            raise BackendError(f"reading body: {exc}") from exc
        except BackendError:
            self.close()
            raise
        if self._done:
            self.release()
        return data

    def stream(self, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """Yield the body in chunks; the connection goes back to the pool at the end.

        :raises BackendError: the node stopped sending before the end.
        """
        try:
            while not self._done and self.conn is not None:
                data = self.read(chunk_size)
                if not data:
                    break
                yield data
        finally:
            if self.conn is not None:
                if self._done:
                    self.release()
                else:
                    self.close()

    def release(self) -> None:
        """Return the connection for reuse once the body has been read."""
        if self.conn is not None:
            conn, self.conn = self.conn, None
            if self._done and not self._will_close:
                self.pool.put(conn)
            else:
                conn.close()

    def close(self) -> None:
        """Drop the connection (the body was not read to the end)."""
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close()


class Pool:
    """Idle keep-alive connections per node address."""

    def __init__(self, conn_timeout: float = 1.0, io_timeout: float = 10.0,
                 max_idle_per_host: int = 32, idle_ttl: float = 50.0):
        self.conn_timeout = conn_timeout
        self.io_timeout = io_timeout
        self.max_idle = max_idle_per_host
        self.idle_ttl = idle_ttl
        self._idle: dict[tuple[str, int], list[Connection]] = {}
        self._lock = threading.Lock()

    def get(self, host: str, port: int, io_timeout: float | None = None) -> Connection:
        """An open connection to host:port.

        :raises BackendError: a new connection could not be made in conn_timeout.
        """
        key = (host, port)
        now = time.monotonic()
        while True:
            with self._lock:
                idle = self._idle.get(key)
                conn = idle.pop() if idle else None
            if conn is None:
                break
            if now - conn.last_used < self.idle_ttl and conn.sock is not None and \
                    not select.select([conn.sock], [], [], 0)[0]:
                conn.sock.settimeout(io_timeout or self.io_timeout)
                return conn
            conn.close()  # expired, or the server closed it (readable = EOF)
        conn = Connection(host, port, self.conn_timeout)
        assert conn.sock is not None
        conn.sock.settimeout(io_timeout or self.io_timeout)
        return conn

    def put(self, conn: Connection) -> None:
        conn.last_used = time.monotonic()
        with self._lock:
            idle = self._idle.setdefault(conn.key, [])
            if len(idle) < self.max_idle:
                idle.append(conn)
                return
        conn.close()

    def close_all(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


def quote_path(path: str) -> str:
    """Percent-encode a UTF-8 path for the request line (slashes kept)."""
    return urllib.parse.quote(path.encode("utf-8"), safe="/")


def begin(pool: Pool, host: str, port: int, method: str, path: str,
          headers: dict[str, str], *, chunked: bool = False,
          io_timeout: float | None = None) -> Connection:
    """Send the request line and headers; the caller sends any body.

    :raises BackendError: connecting or sending failed.
    """
    conn = pool.get(host, port, io_timeout)
    try:
        conn.send_head(method, path, headers, chunked)
    except (OSError, BackendError) as exc:
        conn.close()
        raise BackendError(f"{method} {host}:{port}{path}: {exc}") from exc
    return conn


def finish(pool: Pool, conn: Connection) -> Response:
    """Read the status and headers of the answer to a request sent with begin().

    :raises BackendError: the node closed the connection or timed out.
    """
    try:
        return Response(pool, conn, conn.method)
    except (OSError, ValueError, BackendError) as exc:
        conn.close()
        raise BackendError(f"awaiting response from {conn.host}:{conn.port}: {exc}") from exc


def request(pool: Pool, host: str, port: int, method: str, path: str,
            headers: dict[str, str] | None = None,
            body: bytes | Iterable[bytes] | None = None, *,
            io_timeout: float | None = None) -> Response:
    """One complete request; body is bytes or an iterable (sent chunked).

    :raises BackendError: the node could not be reached or broke off.
    """
    hdrs = dict(headers or {})
    chunked = body is not None and not isinstance(body, bytes | bytearray)
    if isinstance(body, bytes | bytearray):
        hdrs["Content-Length"] = str(len(body))
    elif body is None and method in ("PUT", "POST"):
        hdrs.setdefault("Content-Length", "0")
    conn = begin(pool, host, port, method, path, hdrs, chunked=chunked,
                 io_timeout=io_timeout)
    try:
        if isinstance(body, bytes | bytearray):
            if body:
                conn.send(body)
        elif body is not None:
            for chunk in body:
                if chunk:
                    conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
    except OSError as exc:
        conn.close()
        raise BackendError(f"sending body to {host}:{port}: {exc}") from exc
    return finish(pool, conn)
