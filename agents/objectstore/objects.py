"""Object server: PUT/GET/HEAD/POST/DELETE of one replica, on the disk-file API.

The proxy validated names, metadata and auth; the node checks what only it can:
timestamps against what it holds, the body against its ETag (422), conditional
headers, ranges, and the data's integrity on the way out.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from agents.objectstore.diskfile import (
    DiskFileExpired,
    DiskFileManager,
    DiskFileNotFound,
    DiskFileQuarantined,
    Reader,
)
from agents.objectstore.updates import ContainerUpdater, parse_targets
from common.objectstore import ranges, timestamp
from common.objectstore.wsgi import HTTPError, Request, Response

LOG = logging.getLogger(__name__)

META_PREFIXES = ("X-Object-Meta-", "X-Object-Sysmeta-", "X-Object-Transient-Sysmeta-")
STORED_HEADERS = ("Content-Type", "Content-Disposition", "Content-Encoding", "X-Delete-At",
                  "X-Object-Manifest", "X-Static-Large-Object")
POST_HEADERS = ("Content-Type", "Content-Disposition", "Content-Encoding", "X-Delete-At")
SMALL_BODY = 65536


def require_timestamp(req: Request) -> str:
    try:
        return timestamp.normalize(req.header("X-Timestamp") or "")
    except timestamp.InvalidTimestamp as exc:
        raise HTTPError(400, "Missing or invalid X-Timestamp") from exc


def _delete_at(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise HTTPError(400, "Non-integer X-Delete-At") from exc


def _request_metadata(req: Request, names: tuple[str, ...]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for prefix in META_PREFIXES:
        meta.update(req.headers_with_prefix(prefix))
    for name in names:
        value = req.header(name)
        if value is not None:
            meta[name] = value
    return meta


def response_headers(metadata: dict[str, Any]) -> dict[str, str]:
    """What a GET/HEAD says about an object."""
    headers = {"Content-Type": metadata.get("Content-Type", "application/octet-stream"),
               "ETag": metadata.get("ETag", ""),
               "X-Timestamp": metadata["X-Timestamp"],
               "X-Backend-Timestamp": metadata["X-Timestamp"],
               "X-Backend-Data-Timestamp": metadata.get("X-Data-Timestamp",
                                                        metadata["X-Timestamp"]),
               "Last-Modified": timestamp.http_date(metadata["X-Timestamp"]),
               "Accept-Ranges": "bytes"}
    for key, value in metadata.items():
        if key.startswith(META_PREFIXES) or key in STORED_HEADERS[1:]:
            headers[key] = str(value)
    return headers


def _etag_matches(header: str, etag: str) -> bool:
    wanted = [t.strip().strip('"') for t in header.split(",")]
    return "*" in wanted or etag in wanted


def check_conditions(req: Request, etag: str, last_modified: float) -> int | None:
    """The status a conditional GET/HEAD ends with (304/412), or None to proceed."""
    if_match = req.header("If-Match")
    if if_match and not _etag_matches(if_match, etag):
        return 412
    if_none_match = req.header("If-None-Match")
    if if_none_match and _etag_matches(if_none_match, etag):
        return 304
    modified = int(-(-last_modified // 1))  # Last-Modified is rounded up to the second
    since = req.header("If-Modified-Since")
    if since and not if_none_match:
        when = timestamp.parse_http_date(since)
        if when is not None and modified <= when:
            return 304
    unmodified = req.header("If-Unmodified-Since")
    if unmodified and not if_match:
        when = timestamp.parse_http_date(unmodified)
        if when is not None and modified > when:
            return 412
    return None


class ObjectController:
    """Handlers for /<device>/<partition>/<account>/<container>/<object>."""

    def __init__(self, diskfiles: DiskFileManager, updater: ContainerUpdater,
                 hash_of, chunk_size: int, verify_reads: bool = True):
        self.diskfiles = diskfiles
        self.updater = updater
        self.hash_of = hash_of
        self.chunk_size = chunk_size
        self.verify_reads = verify_reads

    def handle(self, req: Request, device: str, part: int, account: str, container: str,
               obj: str) -> Response:
        handler = getattr(self, "do_" + req.method, None)
        if handler is None:
            raise HTTPError(405)
        name_hash = self.hash_of(account, container, obj)
        df = self.diskfiles.get(device, part, name_hash, f"/{account}/{container}/{obj}")
        return handler(req, df, account, container, obj)

    # ------------------------------------------------------------------ writes
    def do_PUT(self, req: Request, df, account: str, container: str, obj: str) -> Response:
        ts = require_timestamp(req)
        current = df.current_timestamp()
        if current is not None and current >= ts:
            raise HTTPError(409, headers={"X-Backend-Timestamp": current})
        if req.header("If-None-Match") == "*" and current is not None:
            try:
                df.read_metadata()
                raise HTTPError(412)
            except DiskFileNotFound:
                pass
        length = req.content_length
        if length is None and not req.chunked:
            raise HTTPError(411)
        delete_at = _delete_at(req.header("X-Delete-At"))
        writer = df.writer()
        try:
            for chunk in req.body_chunks(self.chunk_size):
                writer.write(chunk)
            if length is not None and writer.size != length:
                raise HTTPError(499)
            expected = (req.header("ETag") or "").strip('"').lower()
            if expected and expected != writer.etag:
                raise HTTPError(422)
            metadata = _request_metadata(req, STORED_HEADERS)
            metadata.update({"name": df.name, "X-Timestamp": ts, "ETag": writer.etag,
                             "Content-Length": writer.size})
            metadata.setdefault("Content-Type", "application/octet-stream")
            writer.put(metadata)
        except BaseException:
            writer.abort()
            raise
        if delete_at:
            df.schedule_expiry(delete_at)
        size = req.header("X-Backend-Container-Update-Override-Size") or str(writer.size)
        etag = req.header("X-Backend-Container-Update-Override-Etag") or writer.etag
        self._update_container(req, df, "PUT", account, container, obj, {
            "X-Timestamp": ts, "X-Size": size, "X-Etag": etag,
            "X-Content-Type": metadata["Content-Type"]})
        return Response(201, {"ETag": f'"{writer.etag}"', "Content-Length": "0"})

    def do_POST(self, req: Request, df, account: str, container: str, obj: str) -> Response:
        ts = require_timestamp(req)
        try:
            current = df.read_metadata()
        except DiskFileNotFound as exc:
            raise HTTPError(404, headers=_tombstone_headers(exc)) from exc
        if current["X-Timestamp"] >= ts:
            raise HTTPError(409, headers={"X-Backend-Timestamp": current["X-Timestamp"]})
        delete_at = _delete_at(req.header("X-Delete-At"))
        metadata = _request_metadata(req, POST_HEADERS)
        metadata["X-Timestamp"] = ts
        df.write_metadata(metadata)
        if delete_at:
            df.schedule_expiry(delete_at)
        return Response(202, {"Content-Length": "0"})

    def do_DELETE(self, req: Request, df, account: str, container: str, obj: str
                  ) -> Response:
        ts = require_timestamp(req)
        current = df.current_timestamp()
        if current is not None and current >= ts:
            raise HTTPError(409, headers={"X-Backend-Timestamp": current})
        existed = current is not None and df.has_data()
        if_delete_at = req.header("X-If-Delete-At")
        if if_delete_at is not None:  # only then is the object itself worth reading
            try:
                metadata = df.read_metadata()
            except DiskFileExpired as exc:
                metadata = exc.metadata
            except DiskFileNotFound:
                metadata = {}
            if str(metadata.get("X-Delete-At")) != if_delete_at:
                raise HTTPError(412)
        df.delete(ts)
        self._update_container(req, df, "DELETE", account, container, obj,
                               {"X-Timestamp": ts})
        return Response(204 if existed else 404, {"Content-Length": "0"})

    def _update_container(self, req: Request, df, op: str, account: str, container: str,
                          obj: str, row: dict[str, str]) -> None:
        targets = parse_targets(req.header("X-Container-Host"),
                                req.header("X-Container-Device"),
                                req.header("X-Container-Partition"))
        if req.header("X-Backend-No-Container-Update"):
            return
        self.updater.update(df.dev_path, df.name_hash, op, account, container, obj, row,
                            targets)

    # ------------------------------------------------------------------ reads
    def do_HEAD(self, req: Request, df, account: str, container: str, obj: str) -> Response:
        return self.do_GET(req, df, account, container, obj)

    def do_GET(self, req: Request, df, account: str, container: str, obj: str) -> Response:
        try:
            reader = df.open()
        except DiskFileNotFound as exc:
            raise HTTPError(404, headers=_tombstone_headers(exc)) from exc
        try:
            return self._respond(req, reader)
        except BaseException:
            reader.close()
            raise

    def _respond(self, req: Request, reader: Reader) -> Response:
        meta = reader.metadata
        headers = response_headers(meta)
        length = reader.content_length
        etag_key = req.header("X-Backend-Etag-Is-At")
        etag = str(meta.get(etag_key, reader.etag)) if etag_key else reader.etag
        status = check_conditions(req, etag, float(meta["X-Timestamp"]))
        if status is not None:
            reader.close()
            keep = {k: v for k, v in headers.items() if k != "Content-Type"} \
                if status == 304 else {}
            return Response(status, {**keep, "Content-Length": "0"}, b"")
        if req.method == "HEAD":
            reader.close()
            headers["Content-Length"] = str(length)
            return Response(200, headers, b"")
        spans = None
        ignore = req.header("X-Backend-Ignore-Range-If-Metadata-Present")
        if req.header("Range") and not (
                ignore and any(h.strip() in meta for h in ignore.split(","))):
            try:
                spans = ranges.resolve(req.header("Range"), length)
            except ranges.UnsatisfiableRange as exc:
                reader.close()
                raise HTTPError(416, headers={"Content-Range": f"bytes */{length}"}) from exc
        if spans is None:
            headers["Content-Length"] = str(length)
            if not self.verify_reads:
                return Response(200, headers, reader.iter_range(0, length, self.chunk_size))
            if length <= SMALL_BODY:
                try:
                    body = reader.read_all_verified()
                except DiskFileQuarantined as exc:
                    raise HTTPError(404) from exc
                finally:
                    reader.close()
                return Response(200, headers, body)
            return Response(200, headers, reader.iter_verified(self.chunk_size))
        if len(spans) == 1:
            start, stop = spans[0]
            headers["Content-Length"] = str(stop - start)
            headers["Content-Range"] = ranges.content_range(start, stop, length)
            return Response(206, headers, _closing(reader, reader.iter_range(
                start, stop, self.chunk_size)))
        boundary = ranges.new_boundary()
        ctype = headers["Content-Type"]
        headers["Content-Type"] = f"multipart/byteranges;boundary={boundary}"
        headers["Content-Length"] = str(ranges.multipart_length(boundary, ctype, spans, length))
        body = ranges.multipart_body(
            boundary, ctype, spans, length,
            lambda a, b: reader.iter_range(a, b, self.chunk_size))
        return Response(206, headers, _closing(reader, body))


def _closing(reader: Reader, chunks):
    try:
        yield from chunks
    finally:
        reader.close()


def _tombstone_headers(exc: DiskFileNotFound) -> dict[str, str]:
    if exc.timestamp:
        return {"X-Backend-Timestamp": exc.timestamp}
    return {}


def expired_now(metadata: dict[str, Any]) -> bool:
    delete_at = metadata.get("X-Delete-At")
    return bool(delete_at) and int(delete_at) <= time.time()
