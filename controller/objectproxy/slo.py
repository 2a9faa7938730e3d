"""Static large objects: a JSON manifest naming segment objects, checked at upload.

    PUT    ?multipart-manifest=put     body [{"path": "/c/o", "etag": ..., "size_bytes": ...,
                                             "range": "a-b"}, ...]  (etag/size optional)
    GET    (plain)                     the concatenated segments (ranges supported)
    GET    ?multipart-manifest=get     the stored manifest (&format=raw: the PUT form)
    DELETE ?multipart-manifest=delete  segments and manifest (bulk-delete style answer)

The ETag of an SLO is the MD5 of its segments' ETags (with ":<range>;" for ranged
segments) and is served quoted, as Swift does.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from common.objectstore import ranges, timestamp
from common.objectstore.wsgi import HTTPError, Response
from controller.objectproxy import bulk, headers
from controller.objectproxy.request import ProxyRequest
from controller.objectproxy.segments import Segment, SegmentError, load_json, respond, split_path

SYSMETA_ETAG = "X-Object-Sysmeta-Slo-Etag"
SYSMETA_SIZE = "X-Object-Sysmeta-Slo-Size"
ALLOWED_KEYS = {"path", "etag", "size_bytes", "range"}


def parse_manifest(raw: bytes, max_segments: int) -> list[dict[str, Any]]:
    """The segment list of a PUT manifest.

    :raises HTTPError: 400 for invalid JSON or entries, 413 for too many segments.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise HTTPError(400, "Manifest must be valid JSON.\n") from exc
    if not isinstance(data, list) or not data:
        raise HTTPError(400, "Manifest must be a list of segments.\n")
    if len(data) > max_segments:
        raise HTTPError(413, f"Too many segments; max {max_segments}.\n")
    for index, seg in enumerate(data):
        if not isinstance(seg, dict) or not isinstance(seg.get("path"), str) or \
                set(seg) - ALLOWED_KEYS:
            raise HTTPError(400, f"Index {index}: invalid SLO manifest entry\n")
        try:
            split_path(seg["path"])
        except ValueError as exc:
            raise HTTPError(400, f"Index {index}: path does not refer to an object. "
                                 "Path must be of the form /container/object.\n") from exc
        size = seg.get("size_bytes")
        if size is not None and (not isinstance(size, int) or size < 0):
            raise HTTPError(400, f"Index {index}: invalid size_bytes\n")
        if seg.get("etag") is not None and not isinstance(seg["etag"], str):
            raise HTTPError(400, f"Index {index}: invalid etag\n")
    return data


def parse_segment_range(value: str, size: int) -> tuple[int, int] | None:
    """A manifest entry's 'a-b' range within its segment as [start, stop)."""
    try:
        spans = ranges.resolve("bytes=" + value, size)
    except ranges.UnsatisfiableRange:
        return None
    if not spans or len(spans) != 1:
        return None
    return spans[0]


def slo_etag(entries: list[dict[str, Any]]) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    for entry in entries:
        if entry.get("range"):
            md5.update(f"{entry['hash']}:{entry['range']};".encode())
        else:
            md5.update(entry["hash"].encode())
    return md5.hexdigest()


def entry_length(entry: dict[str, Any]) -> int:
    if entry.get("range"):
        start, _, end = entry["range"].partition("-")
        return int(end) - int(start) + 1
    return int(entry["bytes"])


class StaticLargeObjects:
    """SLO handling for the object controller."""

    def __init__(self, ctrl):
        self.ctrl = ctrl

    # ------------------------------------------------------------ upload
    def put_manifest(self, preq: ProxyRequest) -> Response:
        app = self.ctrl.app
        raw = preq.req.read_body(app.conf.object_proxy.slo_max_manifest_size)
        segments = parse_manifest(raw, app.conf.object_proxy.slo_max_manifest_segments)
        entries, problems = [], []
        min_size = app.conf.object_proxy.slo_min_segment_size
        for index, seg in enumerate(segments):
            entry, problem = self._check_segment(preq, seg)
            if problem is None and index < len(segments) - 1 and \
                    entry_length(entry) < min_size:
                problem = f"Too small; each segment must be at least {min_size} bytes."
            if problem:
                problems.append(f"{seg['path']}, {problem}")
            else:
                entries.append(entry)
        if problems:
            raise HTTPError(400, "Errors:\n" + "\n".join(problems))
        etag = slo_etag(entries)
        wanted = (preq.header("ETag") or "").strip('"')
        if wanted and wanted != etag:
            raise HTTPError(422)
        total = sum(entry_length(e) for e in entries)
        body = json.dumps(entries).encode()
        node_headers = self.ctrl.upload_headers(preq)
        node_headers.pop("ETag", None)
        node_headers.update({
            "X-Static-Large-Object": "True", SYSMETA_ETAG: etag, SYSMETA_SIZE: str(total),
            "X-Backend-Container-Update-Override-Size": str(total),
            "X-Backend-Container-Update-Override-Etag": etag})
        status, _, ts = self.ctrl.store(preq, [body], len(body), node_headers)
        return self.ctrl.put_response(status, f'"{etag}"', ts)

    def _check_segment(self, preq: ProxyRequest, seg: dict[str, Any]
                       ) -> tuple[dict[str, Any], str | None]:
        container, obj = split_path(seg["path"])
        try:
            self.ctrl.authorize(preq, "HEAD", container)
        except HTTPError as exc:
            return {}, f"{exc.status} Not allowed"
        resp = self.ctrl.fetch(preq, container, obj, method="HEAD")
        resp.read()
        if resp.status // 100 != 2:
            return {}, "404 Not Found" if resp.status == 404 else f"{resp.status} Error"
        hdrs = resp.headers
        is_slo = hdrs.get("x-static-large-object", "").lower() == "true"
        size = int(hdrs.get(SYSMETA_SIZE.lower()) or 0) if is_slo else \
            int(hdrs.get("content-length", "0"))
        etag = (hdrs.get(SYSMETA_ETAG.lower()) if is_slo else hdrs.get("etag", "")) or ""
        etag = etag.strip('"')
        if seg.get("size_bytes") is not None and seg["size_bytes"] != size:
            return {}, "Size Mismatch"
        if seg.get("etag") and seg["etag"].strip('"') != etag:
            return {}, "Etag Mismatch"
        entry: dict[str, Any] = {
            "name": "/" + container + "/" + obj, "bytes": size, "hash": etag,
            "content_type": hdrs.get("content-type", "application/octet-stream"),
            "last_modified": timestamp.iso8601(hdrs.get("x-timestamp", "0"))}
        if is_slo:
            entry["sub_slo"] = True
        if seg.get("range"):
            span = parse_segment_range(seg["range"], size)
            if span is None:
                return {}, "Unsatisfiable Range"
            entry["range"] = f"{span[0]}-{span[1] - 1}"
        return entry, None

    # ------------------------------------------------------------ download
    def load_segments(self, preq: ProxyRequest, container: str, obj: str) -> list[Segment]:
        """The segments of a (sub-)manifest. :raises SegmentError: unreadable."""
        resp = self.ctrl.fetch(preq, container, obj,
                               {"X-Backend-Etag-Is-At": SYSMETA_ETAG})
        raw = resp.read()
        if resp.status != 200:
            raise SegmentError(f"sub-manifest {container}/{obj}: {resp.status}")
        return self.to_segments(load_json(raw))

    @staticmethod
    def to_segments(entries: list[dict[str, Any]]) -> list[Segment]:
        out = []
        for entry in entries:
            container, obj = split_path(entry["name"])
            offset, length = 0, int(entry["bytes"])
            if entry.get("range"):
                start, _, end = entry["range"].partition("-")
                offset, length = int(start), int(end) - int(start) + 1
            out.append(Segment(container, obj, offset, length, entry.get("hash"),
                               bool(entry.get("sub_slo"))))
        return out

    def respond(self, preq: ProxyRequest, resp) -> Response:
        """Answer a GET/HEAD whose replica returned an SLO manifest."""
        out = headers.to_client(resp.headers)
        etag = resp.headers.get(SYSMETA_ETAG.lower(), "")
        out["Etag"] = f'"{etag}"'
        out["X-Static-Large-Object"] = "True"
        out.pop("Content-Range", None)
        if preq.method == "HEAD":
            resp.read()
            size = int(resp.headers.get(SYSMETA_SIZE.lower()) or 0)
            segs = [Segment("", "", 0, size)]
            return respond(self.ctrl, preq, segs, out)
        raw = resp.read()
        try:
            segs = self.to_segments(load_json(raw))
        except (SegmentError, ValueError, KeyError) as exc:
            raise HTTPError(500) from exc
        return respond(self.ctrl, preq, segs, out)

    def raw_manifest(self, raw: bytes) -> bytes:
        """?multipart-manifest=get&format=raw: the manifest as it would be PUT."""
        entries = load_json(raw)
        out = [{"path": e["name"], "etag": e["hash"], "size_bytes": e["bytes"],
                **({"range": e["range"]} if e.get("range") else {})} for e in entries]
        return json.dumps(out).encode()

    # ------------------------------------------------------------ delete
    def delete(self, preq: ProxyRequest) -> Response:
        """Delete the segments, then the manifest; answered like a bulk delete."""
        resp = self.ctrl.fetch(preq, preq.container, preq.obj)
        raw = resp.read()
        result = bulk.Result()
        if resp.status == 200 and \
                resp.headers.get("x-static-large-object", "").lower() == "true":
            try:
                entries = load_json(raw)
            except SegmentError as exc:
                raise HTTPError(400, "Unable to load SLO manifest") from exc
            for entry in entries:
                container, obj = split_path(entry["name"])
                result.add(entry["name"], self.ctrl.delete_object(preq, container, obj))
        elif resp.status == 404:
            raise HTTPError(404)
        result.add(f"/{preq.container}/{preq.obj}",
                   self.ctrl.delete_object(preq, preq.container, preq.obj))
        return result.response(preq.req)
