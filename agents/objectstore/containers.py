"""Container server: container databases and the object rows inside them."""

from __future__ import annotations

import logging

from agents.objectstore import dbserver
from agents.objectstore.containerdb import ContainerBroker
from agents.objectstore.dbbroker import BrokerCache, DatabaseNotFound, db_path
from agents.objectstore.devices import Devices, DeviceUnavailable
from agents.objectstore.objects import require_timestamp
from agents.objectstore.updates import AccountReporter, parse_targets, report_container
from common.objectstore import httpclient
from common.objectstore.wsgi import HTTPError, Request, Response

LOG = logging.getLogger(__name__)

META_PREFIXES = ("X-Container-Meta-", "X-Container-Sysmeta-")
META_EXACT = ("X-Container-Read", "X-Container-Write", "X-Versions-Location",
              "X-History-Location")


def info_headers(info: dict) -> dict[str, str]:
    headers = {"X-Container-Object-Count": str(info["object_count"]),
               "X-Container-Bytes-Used": str(info["bytes_used"]),
               "X-Timestamp": info["created_at"],
               "X-Put-Timestamp": info["put_timestamp"],
               "X-Backend-Put-Timestamp": info["put_timestamp"],
               "X-Backend-Delete-Timestamp": info["delete_timestamp"]}
    headers.update(dbserver.metadata_headers(info["metadata"]))
    return headers


class ContainerController:
    """Handlers for /<device>/<partition>/<account>/<container>[/<object>]."""

    def __init__(self, devices: Devices, brokers: BrokerCache, rings, pool: httpclient.Pool,
                 reporter: AccountReporter, timeout: float):
        self.devices = devices
        self.brokers = brokers
        self.rings = rings
        self.pool = pool
        self.reporter = reporter
        self.timeout = timeout

    def broker(self, device: str, part: int, account: str, container: str) -> ContainerBroker:
        path = db_path(self.devices.path(device), "containers", part,
                       self.rings.hash_of(account, container))
        return self.brokers.get(path)

    def handle(self, req: Request, device: str, part: int, account: str, container: str,
               obj: str | None) -> Response:
        broker = self.broker(device, part, account, container)
        if obj is not None:
            if req.method not in ("PUT", "DELETE"):
                raise HTTPError(405)
            return self.update_row(req, broker, obj)
        handler = getattr(self, "do_" + req.method, None)
        if handler is None:
            raise HTTPError(405)
        return handler(req, broker, account, container)

    def _live_info(self, broker: ContainerBroker) -> dict:
        try:
            info = broker.get_info()
        except DatabaseNotFound as exc:
            raise HTTPError(404) from exc
        if broker.is_deleted(info):
            raise HTTPError(404, headers={"X-Backend-Delete-Timestamp":
                                          info["delete_timestamp"]})
        return info

    # ------------------------------------------------------------------ rows
    def update_row(self, req: Request, broker: ContainerBroker, obj: str) -> Response:
        ts = require_timestamp(req)
        headers = {"X-Timestamp": ts, "X-Size": req.header("X-Size") or "0",
                   "X-Content-Type": req.header("X-Content-Type") or "",
                   "X-Etag": req.header("X-Etag") or ""}
        if not self.merge_row(broker, req.method, obj, headers):
            raise HTTPError(404)
        return Response(201 if req.method == "PUT" else 204, {"Content-Length": "0"})

    def merge_row(self, broker: ContainerBroker, op: str, obj: str,
                  headers: dict[str, str]) -> bool:
        """Record an object's PUT/DELETE in the container; False if there is none."""
        row = {"name": obj, "created_at": headers["X-Timestamp"], "deleted": op == "DELETE"}
        if op == "PUT":
            row.update(size=int(headers.get("X-Size") or 0),
                       content_type=headers.get("X-Content-Type") or "",
                       etag=headers.get("X-Etag") or "")
        try:
            broker.merge_items([row])
        except DatabaseNotFound:
            return False
        self.reporter.mark(broker.path)
        return True

    def apply_local(self, target: tuple[str, int, str, int], op: str, account: str,
                    container: str, obj: str, headers: dict[str, str]) -> bool:
        """A container update addressed to this very node, applied without HTTP (an
        object PUT waiting on its own node's threads could otherwise starve)."""
        try:
            broker = self.broker(target[2], target[3], account, container)
        except DeviceUnavailable:
            return False
        self.merge_row(broker, op, obj, headers)
        return True  # a missing container needs no row, as over HTTP (404 counts as done)

    # ------------------------------------------------------------------ containers
    def do_PUT(self, req: Request, broker: ContainerBroker, account: str,
               container: str) -> Response:
        ts = require_timestamp(req)
        if broker.exists():
            was_deleted = broker.is_deleted()
            broker.update_put_timestamp(ts)
            created = was_deleted and not broker.is_deleted()
        else:
            created = broker.create(account, container, ts)
        broker.update_metadata(dbserver.metadata_from_headers(req, META_PREFIXES, META_EXACT,
                                                              ts))
        self._report(req, broker)
        return Response(201 if created else 202, {"Content-Length": "0"})

    def do_DELETE(self, req: Request, broker: ContainerBroker, account: str,
                  container: str) -> Response:
        ts = require_timestamp(req)
        info = self._live_info(broker)
        if info["object_count"]:
            raise HTTPError(409, "There was a conflict when trying to complete your request.")
        broker.mark_deleted(ts)
        self._report(req, broker)
        return Response(204, {"Content-Length": "0"})

    def do_POST(self, req: Request, broker: ContainerBroker, account: str,
                container: str) -> Response:
        ts = require_timestamp(req)
        self._live_info(broker)
        broker.update_metadata(dbserver.metadata_from_headers(req, META_PREFIXES, META_EXACT,
                                                              ts))
        return Response(204, {"Content-Length": "0"})

    def do_HEAD(self, req: Request, broker: ContainerBroker, account: str,
                container: str) -> Response:
        return Response(204, {**info_headers(self._live_info(broker)), "Content-Length": "0"})

    def do_GET(self, req: Request, broker: ContainerBroker, account: str,
               container: str) -> Response:
        query = dbserver.listing_query(req)
        headers = info_headers(self._live_info(broker))
        return dbserver.json_listing(broker.list_objects(**query), headers)

    def _report(self, req: Request, broker: ContainerBroker) -> None:
        """Tell the account servers now (the proxy named them); the reporter and the
        updater retry if that fails."""
        targets = parse_targets(req.header("X-Account-Host"), req.header("X-Account-Device"),
                                req.header("X-Account-Partition"))
        try:
            if not report_container(self.pool, self.rings, broker, self.timeout,
                                    targets or None, force=True):
                self.reporter.mark(broker.path)
        except Exception:  # noqa: BLE001 - the write itself succeeded
            LOG.exception("account update for %s failed", broker.path)
            self.reporter.mark(broker.path)
