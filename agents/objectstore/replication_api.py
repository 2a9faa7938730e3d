"""The node side of replication: peers compare hashes and push files and rows.

    GET  /replicate/objects/<dev>/<part>[?recalc=abc,def]   {suffix: hash}
    GET  /replicate/objects/<dev>/<part>/<suffix>            {hash: [file names]}
    PUT  /replicate/objects/<dev>/<part>/<suffix>/<hash>/<file>   store a file if newer
    GET  /replicate/<accounts|containers>/<dev>/<part>/<hash>     database sync info
    POST /replicate/<accounts|containers>/<dev>/<part>/<hash>     merge pushed rows

Plain HTTP on the storage network, so no rsync daemon is needed.
"""

from __future__ import annotations

import json
import os

from agents.objectstore import filenames, hashes
from agents.objectstore.dbbroker import BrokerCache, DatabaseNotFound, db_path
from agents.objectstore.devices import Devices
from agents.objectstore.diskfile import DiskFile, DiskFileManager
from common.objectstore.wsgi import HTTPError, Request, Response

MAX_DB_PUSH = 64 * 1048576


def _json(data) -> Response:
    body = json.dumps(data).encode()
    return Response(200, {"Content-Type": "application/json",
                          "Content-Length": str(len(body))}, body)


def suffix_listing(part_dir: str, suffix: str) -> dict[str, list[str]]:
    """{hash: [kept file names]} of one suffix directory."""
    suffix_dir = os.path.join(part_dir, suffix)
    try:
        hash_names = os.listdir(suffix_dir)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    out = {}
    for name in hash_names:
        if not filenames.is_hash(name):
            continue
        try:
            files = os.listdir(os.path.join(suffix_dir, name))
        except (FileNotFoundError, NotADirectoryError):
            continue
        main, meta, _ = filenames.choose(files)
        kept = [n for n in (main, meta) if n]
        if kept:
            out[name] = kept
    return out


def is_newer(existing: list[str], incoming: str) -> bool:
    """Would incoming (a file name) add something to a hash dir holding existing?"""
    parsed = filenames.parse(incoming)
    if parsed is None:
        return False
    ts, ext = parsed
    main, meta, _ = filenames.choose(existing)
    if ext in (filenames.DATA, filenames.TOMBSTONE):
        return main is None or main[:16] < ts
    # a .meta only matters on top of an older .data
    return (main is not None and main.endswith(filenames.DATA) and main[:16] < ts
            and (meta is None or meta[:16] < ts))


class ReplicationController:
    """Handlers for /replicate/..."""

    def __init__(self, devices: Devices, diskfiles: DiskFileManager,
                 brokers: dict[str, BrokerCache], reporter, reclaim_age: float,
                 chunk_size: int):
        self.devices = devices
        self.diskfiles = diskfiles
        self.brokers = brokers
        self.reporter = reporter
        self.reclaim_age = reclaim_age
        self.chunk_size = chunk_size

    def handle(self, req: Request, parts: list[str]) -> Response:
        if len(parts) < 3 or parts[0] not in ("objects", "accounts", "containers"):
            raise HTTPError(400, "Bad replication path")
        kind, device = parts[0], parts[1]
        try:
            part = int(parts[2])
        except ValueError as exc:
            raise HTTPError(400, "Bad partition") from exc
        dev_path = self.devices.path(device)
        rest = parts[3:]
        if kind == "objects":
            return self._objects(req, dev_path, part, rest)
        if len(rest) != 1 or not filenames.is_hash(rest[0]):
            raise HTTPError(400, "Bad database hash")
        broker = self.brokers[kind].get(db_path(dev_path, kind, part, rest[0]))
        if req.method == "GET":
            try:
                return _json(broker.replication_info())
            except DatabaseNotFound as exc:
                raise HTTPError(404) from exc
        if req.method == "POST":
            return self._merge_db(req, kind, broker)
        raise HTTPError(405)

    # ------------------------------------------------------------------ objects
    def _objects(self, req: Request, dev_path: str, part: int, rest: list[str]) -> Response:
        part_dir = os.path.join(dev_path, "objects", str(part))
        if req.method == "GET" and not rest:
            recalc = [s for s in req.params.get("recalc", "").split(",") if s]
            return _json(hashes.get_hashes(part_dir, recalc, self.reclaim_age))
        if req.method == "GET" and len(rest) == 1 and filenames.is_suffix(rest[0]):
            return _json(suffix_listing(part_dir, rest[0]))
        if req.method == "PUT" and len(rest) == 3 and filenames.is_suffix(rest[0]) and \
                filenames.is_hash(rest[1]) and rest[1].endswith(rest[0]) and \
                filenames.parse(rest[2]):
            df = DiskFile(self.diskfiles, dev_path, part, rest[1], "")
            try:
                existing = os.listdir(df.hash_dir)
            except FileNotFoundError:
                existing = []
            if not is_newer(existing, rest[2]):
                raise HTTPError(409)
            try:
                df.write_raw(rest[2], req.body_chunks(self.chunk_size))
            except ValueError as exc:
                raise HTTPError(422, "Pushed file has no valid metadata") from exc
            return Response(201, {"Content-Length": "0"})
        raise HTTPError(400, "Bad object replication request")

    # ------------------------------------------------------------------ databases
    def _merge_db(self, req: Request, kind: str, broker) -> Response:
        try:
            doc = json.loads(req.read_body(MAX_DB_PUSH))
            info = doc["info"]
        except (ValueError, KeyError, TypeError) as exc:
            raise HTTPError(400, "Bad database push") from exc
        if not broker.exists():
            stat = {k: info[k] for k in ("created_at", "put_timestamp", "delete_timestamp",
                                         "status_changed_at")}
            stat["account"] = info["account"]
            if kind == "containers":
                stat["container"] = info["container"]
            stat["metadata"] = json.dumps(info.get("metadata") or {})
            broker.initialize(stat)
        broker.merge_stat(info)
        broker.merge_items(doc.get("rows") or [], doc.get("source_id"), doc.get("sync_point"))
        if kind == "containers":
            self.reporter.mark(broker.path)
        return Response(204, {"Content-Length": "0"})
