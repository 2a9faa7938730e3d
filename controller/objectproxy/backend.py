"""Talking to storage nodes: which nodes, in what order, and what a set of answers means.

* Writes go to one node per replica, concurrently: every request is sent before any
  answer is awaited. A primary that cannot be reached is replaced by the next
  handoff, and skipped for ``error_suppression_interval`` seconds afterwards.
* A write succeeds when a quorum (a majority) of replicas agree; the others get
  ``post_quorum_timeout`` more seconds before they are abandoned.
* Reads try the primaries in random order (spreading load), the handoffs after them
  only if a primary failed, and take the first good answer.
"""

from __future__ import annotations

import logging
import random
import select
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from common.objectstore import httpclient
from common.ring import Ring

LOG = logging.getLogger(__name__)
Node = dict[str, Any]


def quorum_size(replicas: int) -> int:
    return replicas // 2 + 1


def best_status(statuses: list[int], quorum: int) -> int:
    """The answer of a set of replicas: the first status class (2xx, 3xx, 4xx) a quorum
    agrees on (the highest code within it, as Swift does), else 503."""
    for base in (200, 300, 400):
        same = [s for s in statuses if base <= s < base + 100]
        if len(same) >= quorum:
            return max(same)
    return 503


def node_path(node: Node, part: int, *names: str) -> str:
    return httpclient.quote_path(f"/{node['device']}/{part}/" + "/".join(names))


class Reply:
    """A finished small exchange with one node."""

    __slots__ = ("node", "status", "headers", "body")

    def __init__(self, node: Node, status: int, headers: dict[str, str], body: bytes):
        self.node = node
        self.status = status
        self.headers = headers
        self.body = body


class Backend:
    """Node selection and request fan-out for the proxy."""

    def __init__(self, rings: dict[str, Ring], pool: httpclient.Pool, *,
                 node_timeout: float = 10.0, post_quorum_timeout: float = 0.5,
                 error_suppression_interval: float = 30.0):
        self.rings = rings
        self.pool = pool
        self.node_timeout = node_timeout
        self.post_quorum_timeout = post_quorum_timeout
        self.suppression = error_suppression_interval
        self._suppressed: dict[tuple[str, int], float] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ node health
    def suppressed(self, node: Node) -> bool:
        until = self._suppressed.get((node["ip"], node["port"]))
        return until is not None and until > time.monotonic()

    def suppress(self, node: Node, why: Exception | str) -> None:
        LOG.warning("node %s:%s/%s failed (%s); using others for %ss", node["ip"],
                    node["port"], node["device"], why, self.suppression)
        if self.suppression > 0:
            with self._lock:
                self._suppressed[(node["ip"], node["port"])] = \
                    time.monotonic() + self.suppression

    # ------------------------------------------------------------ node order
    def read_nodes(self, ring: Ring, part: int) -> Iterator[Node]:
        """Primaries (healthy first, random order), then as many handoffs."""
        primaries = list(ring.get_part_nodes(part))
        random.shuffle(primaries)
        primaries.sort(key=self.suppressed)
        yield from primaries
        for count, node in enumerate(ring.get_more_nodes(part)):
            if count >= len(primaries):
                return
            yield node

    def connect_writes(self, ring: Ring, part: int, method: str,
                       path_for: Callable[[Node], str],
                       headers_for: Callable[[int, Node], dict[str, str]],
                       chunked: bool = False) -> list[tuple[Node, httpclient.Connection]]:
        """Open one request per replica, substituting handoffs for unreachable nodes.

        headers_for gets the replica index, so the node standing in for primary i
        still carries replica i's container-update instructions.
        """
        handoffs = ring.get_more_nodes(part)
        conns = []
        for index, primary in enumerate(ring.get_part_nodes(part)):
            node: Node | None = primary
            while node is not None:
                if not self.suppressed(node):
                    try:
                        conn = httpclient.begin(self.pool, node["ip"], node["port"], method,
                                                path_for(node), headers_for(index, node),
                                                chunked=chunked,
                                                io_timeout=self.node_timeout)
                        conns.append((node, conn))
                        break
                    except httpclient.BackendError as exc:
                        self.suppress(node, exc)
                node = next(handoffs, None)
        return conns

    # ------------------------------------------------------------ collecting answers
    def collect(self, conns: list[tuple[Node, httpclient.Connection]], quorum: int
                ) -> list[Reply]:
        """Await the answers, as they come; stop waiting post_quorum_timeout after a
        quorum of successes."""
        replies: list[Reply] = []
        pending = {conn.sock: (node, conn) for node, conn in conns if conn.sock is not None}
        deadline = time.monotonic() + self.node_timeout
        quorum_at: float | None = None
        while pending:
            now = time.monotonic()
            limit = deadline if quorum_at is None else min(deadline, quorum_at)
            ready = select.select(list(pending), [], [], max(0.0, limit - now))[0]
            if not ready:
                break
            for sock in ready:
                node, conn = pending.pop(sock)
                try:
                    resp = httpclient.finish(self.pool, conn)
                    replies.append(Reply(node, resp.status, resp.headers, resp.read()))
                except httpclient.BackendError as exc:
                    LOG.warning("node %s:%s/%s: %s", node["ip"], node["port"],
                                node["device"], exc)
                    replies.append(Reply(node, 503, {}, b""))
            if quorum_at is None and sum(1 for r in replies if r.status // 100 == 2) >= quorum:
                quorum_at = time.monotonic() + self.post_quorum_timeout
        for node, conn in pending.values():
            LOG.warning("node %s:%s/%s too slow; answered without it", node["ip"],
                        node["port"], node["device"])
            conn.close()
            replies.append(Reply(node, 503, {}, b""))
        return replies

    def fanout(self, kind: str, part: int, method: str, names: tuple[str, ...],
               headers_for: Callable[[int, Node], dict[str, str]], body: bytes = b""
               ) -> tuple[int, list[Reply]]:
        """Send a small request to every replica; (best status, replies)."""
        ring = self.rings[kind]

        def with_length(index: int, node: Node) -> dict[str, str]:
            headers = headers_for(index, node)
            headers["Content-Length"] = str(len(body))
            return headers

        conns = self.connect_writes(ring, part, method, lambda n: node_path(n, part, *names),
                                    with_length)
        live, replies = [], []
        for node, conn in conns:
            try:
                if body:
                    conn.send(body)
                live.append((node, conn))
            except OSError as exc:
                conn.close()
                self.suppress(node, exc)
                replies.append(Reply(node, 503, {}, b""))
        quorum = quorum_size(ring.replica_count)
        replies += self.collect(live, quorum)
        statuses = [r.status for r in replies]
        statuses += [503] * max(0, ring.replica_count - len(statuses))
        return best_status(statuses, quorum), replies

    # ------------------------------------------------------------ reads
    def get(self, kind: str, part: int, method: str, names: tuple[str, ...],
            headers: dict[str, str], accept: Callable[[int], bool] | None = None,
            nodes: Iterator[Node] | None = None, query: str = "") -> httpclient.Response:
        """The first acceptable answer from a replica (body unread: the caller streams
        or reads it); otherwise a Response-like failure with the best error status."""
        ring = self.rings[kind]
        accept = accept or (lambda status: status // 100 == 2 or status in (304, 412, 416))
        node_iter = nodes if nodes is not None else self.read_nodes(ring, part)
        primaries = len(ring.get_part_nodes(part))
        statuses: list[int] = []
        last: httpclient.Response | None = None
        errors = 0
        for count, node in enumerate(node_iter):
            if count >= primaries and not errors:
                break  # every primary answered for sure: no need to ask handoffs
            try:
                resp = httpclient.request(self.pool, node["ip"], node["port"], method,
                                          node_path(node, part, *names) + query, headers,
                                          io_timeout=self.node_timeout)
            except httpclient.BackendError as exc:
                self.suppress(node, exc)
                errors += 1
                continue
            if accept(resp.status):
                resp.node = node  # type: ignore[attr-defined]
                return resp
            resp.read()
            statuses.append(resp.status)
            if resp.status != 404:
                errors += 1
            last = resp
        return Failed(404 if 404 in statuses else (last.status if last and
                                                  last.status // 100 == 4 else 503), last)


class Failed:
    """No replica gave an acceptable answer."""

    def __init__(self, status: int, last: httpclient.Response | None):
        self.status = status
        self.headers = last.headers if last is not None else {}
        self.node = None

    def read(self) -> bytes:
        return b""

    def close(self) -> None:
        pass

    def release(self) -> None:
        pass
