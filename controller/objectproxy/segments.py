"""Serving a large object: the bytes of many segment objects as one body."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator

from common.objectstore import httpclient, ranges
from common.objectstore.wsgi import HTTPError, Response
from controller.objectproxy.request import ProxyRequest

LOG = logging.getLogger(__name__)
MAX_DEPTH = 10


class SegmentError(Exception):
    """A segment is gone or changed; the download is cut short."""


@dataclasses.dataclass
class Segment:
    """Bytes [offset, offset + length) of one segment object."""

    container: str
    obj: str
    offset: int
    length: int
    etag: str | None = None     # expected ETag of the whole segment object
    sub_slo: bool = False       # the segment is itself an SLO manifest


def split_path(path: str) -> tuple[str, str]:
    """'/container/object' -> (container, object). :raises ValueError: malformed."""
    container, sep, obj = path.lstrip("/").partition("/")
    if not container or not sep or not obj:
        raise ValueError(f"bad segment path {path!r}")
    return container, obj


def pick(segments: list[Segment], start: int, stop: int) -> Iterator[tuple[Segment, int, int]]:
    """(segment, first byte, stop byte) within each segment for the range [start, stop)."""
    pos = 0
    for seg in segments:
        end = pos + seg.length
        if end > start and pos < stop:
            yield seg, seg.offset + max(0, start - pos), seg.offset + min(seg.length,
                                                                           stop - pos)
        pos = end
        if pos >= stop:
            return


def body(ctrl, preq: ProxyRequest, segments: list[Segment], start: int, stop: int,
         depth: int = 1) -> Iterator[bytes]:
    """The bytes [start, stop) of the concatenation, fetching segments one by one."""
    for seg, first, last in pick(segments, start, stop):
        if seg.sub_slo:
            if depth >= MAX_DEPTH:
                raise SegmentError("Max recursion depth exceeded")
            inner = ctrl.slo.load_segments(preq, seg.container, seg.obj)
            yield from body(ctrl, preq, inner, first, last, depth + 1)
            continue
        yield from _fetch(ctrl, preq, seg, first, last)


def _fetch(ctrl, preq: ProxyRequest, seg: Segment, first: int, last: int) -> Iterator[bytes]:
    try:
        ctrl.authorize(preq, "GET", seg.container)
    except HTTPError as exc:
        raise SegmentError(f"not allowed to read segment {seg.container}/{seg.obj}") from exc
    resp = ctrl.fetch(preq, seg.container, seg.obj, {"Range": f"bytes={first}-{last - 1}"})
    if resp.status not in (200, 206):
        resp.read()
        raise SegmentError(f"segment {seg.container}/{seg.obj}: {resp.status}")
    if seg.etag and resp.headers.get("etag", "").strip('"') != seg.etag:
        resp.close()
        raise SegmentError(f"segment {seg.container}/{seg.obj} changed (etag mismatch)")
    try:
        if resp.status == 200 and (first, last) != (0, int(resp.headers["content-length"])):
            yield from ranges.iter_slice(resp.stream(), first, last)
        else:
            yield from resp.stream()
    except httpclient.BackendError as exc:
        raise SegmentError(str(exc)) from exc


def respond(ctrl, preq: ProxyRequest, segments: list[Segment], out: dict[str, str]
            ) -> Response:
    """A 200 or single-range 206 over the concatenation (multiple ranges: whole body)."""
    total = sum(s.length for s in segments)
    start, stop, status = 0, total, 200
    header = preq.header("Range")
    if header:
        try:
            spans = ranges.resolve(header, total)
        except ranges.UnsatisfiableRange as exc:
            raise HTTPError(416, headers={"Content-Range": f"bytes */{total}"}) from exc
        if spans and len(spans) == 1:
            start, stop = spans[0]
            status = 206
            out["Content-Range"] = ranges.content_range(start, stop, total)
    out["Content-Length"] = str(stop - start)
    out["Accept-Ranges"] = "bytes"
    if preq.method == "HEAD":
        return Response(status, out, b"")
    return Response(status, out, _logged(body(ctrl, preq, segments, start, stop), preq))


def _logged(chunks: Iterator[bytes], preq: ProxyRequest) -> Iterator[bytes]:
    try:
        yield from chunks
    except SegmentError as exc:
        LOG.error("large object %s/%s/%s cut short: %s", preq.account, preq.container,
                  preq.obj, exc)
        raise


def load_json(raw: bytes) -> list:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise SegmentError("manifest is not JSON") from exc
    if not isinstance(data, list):
        raise SegmentError("manifest is not a list")
    return data
