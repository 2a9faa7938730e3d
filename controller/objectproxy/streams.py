"""Moving object bodies: one upload to every replica, one download that survives a
replica failing half way.

Uploads are sent chunk by chunk to each replica's socket in turn (the kernel buffers
smooth out small differences in speed); a replica that fails is dropped, and the
upload fails only when fewer than a quorum remain. Downloads that break off (a node
died, or found its copy corrupt and stopped before the end) continue from another
replica with ``Range: bytes=<sent>-`` and ``If-Match`` on the same version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from common.objectstore import httpclient
from common.objectstore.wsgi import HTTPError
from controller.objectproxy.backend import Backend, Node, Reply, best_status, node_path, quorum_size

LOG = logging.getLogger(__name__)


def put_replicas(backend: Backend, part: int, names: tuple[str, ...],
                 headers_for: Callable[[int, Node], dict[str, str]],
                 body: Iterable[bytes], chunked: bool) -> tuple[int, list[Reply]]:
    """Stream body to every replica of an object; (best status, replies).

    :raises HTTPError: 503 when fewer than a quorum of replicas can take the data,
        or whatever reading the client's body raised (e.g. 499).
    """
    ring = backend.rings["object"]
    quorum = quorum_size(ring.replica_count)
    conns = backend.connect_writes(ring, part, "PUT", lambda n: node_path(n, part, *names),
                                   headers_for, chunked=chunked)
    if len(conns) < quorum:
        for _, conn in conns:
            conn.close()
        raise HTTPError(503)
    live = list(conns)
    try:
        for chunk in body:
            if not chunk:
                continue
            data = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
            live = _send_all(backend, live, data)
            if len(live) < quorum:
                raise HTTPError(503)
        if chunked:
            live = _send_all(backend, live, b"0\r\n\r\n")
    except BaseException:
        for _, conn in live:
            conn.close()  # the nodes see a short body and discard their copies
        raise
    replies = backend.collect(live, quorum)
    statuses = [r.status for r in replies]
    statuses += [503] * (ring.replica_count - len(statuses))
    return best_status(statuses, quorum), replies


def _send_all(backend: Backend, live: list, data: bytes) -> list:
    alive = []
    for node, conn in live:
        try:
            conn.send(data)
            alive.append((node, conn))
        except OSError as exc:
            conn.close()
            backend.suppress(node, exc)
    return alive


class ResumingBody:
    """Iterates a node's GET body; on a break, continues from another replica."""

    def __init__(self, backend: Backend, resp: httpclient.Response, part: int,
                 names: tuple[str, ...], headers: dict[str, str], nodes: Iterator[Node],
                 start: int, length: int, etag: str, chunk_size: int):
        self.backend = backend
        self.resp = resp
        self.part = part
        self.names = names
        self.headers = {k: v for k, v in headers.items()
                        if not k.lower().startswith(("if-", "range"))}
        self.nodes = nodes
        self.start = start
        self.length = length
        self.etag = etag
        self.chunk_size = chunk_size

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        while True:
            try:
                for chunk in self.resp.stream(self.chunk_size):
                    sent += len(chunk)
                    yield chunk
                if sent >= self.length:
                    return
                raise httpclient.BackendError(f"body ended after {sent} of {self.length}")
            except httpclient.BackendError as exc:
                LOG.warning("GET %s broke off after %d bytes (%s); resuming elsewhere",
                            "/".join(self.names), sent, exc)
                self.resp = self._resume(sent)

    def _resume(self, sent: int) -> httpclient.Response:
        headers = dict(self.headers)
        headers["Range"] = f"bytes={self.start + sent}-{self.start + self.length - 1}"
        headers["If-Match"] = self.etag
        resp = self.backend.get("object", self.part, "GET", self.names, headers,
                                accept=lambda status: status == 206, nodes=self.nodes)
        if resp.status != 206:
            raise httpclient.BackendError("no replica could resume the download")
        return resp  # type: ignore[return-value]

    def close(self) -> None:
        self.resp.close()
