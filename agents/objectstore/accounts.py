"""Account server: account databases and the container rows inside them."""

from __future__ import annotations

from agents.objectstore import dbserver
from agents.objectstore.accountdb import AccountBroker
from agents.objectstore.dbbroker import BrokerCache, DatabaseNotFound, db_path
from agents.objectstore.devices import Devices
from agents.objectstore.objects import require_timestamp
from common.objectstore import timestamp
from common.objectstore.wsgi import HTTPError, Request, Response

META_PREFIXES = ("X-Account-Meta-", "X-Account-Sysmeta-")
META_EXACT = ("X-Account-Access-Control",)


def info_headers(info: dict) -> dict[str, str]:
    headers = {"X-Account-Container-Count": str(info["container_count"]),
               "X-Account-Object-Count": str(info["object_count"]),
               "X-Account-Bytes-Used": str(info["bytes_used"]),
               "X-Timestamp": info["created_at"],
               "X-Put-Timestamp": info["put_timestamp"]}
    headers.update(dbserver.metadata_headers(info["metadata"]))
    return headers


class AccountController:
    """Handlers for /<device>/<partition>/<account>[/<container>]."""

    def __init__(self, devices: Devices, brokers: BrokerCache, rings):
        self.devices = devices
        self.brokers = brokers
        self.rings = rings

    def broker(self, device: str, part: int, account: str) -> AccountBroker:
        path = db_path(self.devices.path(device), "accounts", part, self.rings.hash_of(account))
        return self.brokers.get(path)

    def handle(self, req: Request, device: str, part: int, account: str,
               container: str | None) -> Response:
        broker = self.broker(device, part, account)
        if container is not None:
            if req.method != "PUT":
                raise HTTPError(405)
            return self.update_row(req, broker, account, container)
        handler = getattr(self, "do_" + req.method, None)
        if handler is None:
            raise HTTPError(405)
        return handler(req, broker, account)

    def _live_info(self, broker: AccountBroker) -> dict:
        try:
            info = broker.get_info()
        except DatabaseNotFound as exc:
            raise HTTPError(404) from exc
        if broker.is_deleted(info):
            raise HTTPError(404, headers={"X-Account-Status": "Deleted"})
        return info

    def update_row(self, req: Request, broker: AccountBroker, account: str,
                   container: str) -> Response:
        """A container server reporting a container's timestamps and counts."""
        put_ts = req.header("X-Put-Timestamp") or "0"
        if not broker.exists():
            broker.create(account, put_ts if put_ts != "0" else timestamp.now())
        broker.merge_items([{
            "name": container, "put_timestamp": put_ts,
            "delete_timestamp": req.header("X-Delete-Timestamp") or "0",
            "stats_timestamp": req.header("X-Stats-Timestamp") or timestamp.now(),
            "object_count": req.header("X-Object-Count") or 0,
            "bytes_used": req.header("X-Bytes-Used") or 0}])
        return Response(201, {"Content-Length": "0"})

    def do_PUT(self, req: Request, broker: AccountBroker, account: str) -> Response:
        ts = require_timestamp(req)
        if broker.exists():
            was_deleted = broker.is_deleted()
            broker.update_put_timestamp(ts)
            created = was_deleted and not broker.is_deleted()
        else:
            created = broker.create(account, ts)
        broker.update_metadata(dbserver.metadata_from_headers(req, META_PREFIXES, META_EXACT,
                                                              ts))
        return Response(201 if created else 202, {"Content-Length": "0"})

    def do_POST(self, req: Request, broker: AccountBroker, account: str) -> Response:
        ts = require_timestamp(req)
        self._live_info(broker)
        broker.update_metadata(dbserver.metadata_from_headers(req, META_PREFIXES, META_EXACT,
                                                              ts))
        return Response(204, {"Content-Length": "0"})

    def do_DELETE(self, req: Request, broker: AccountBroker, account: str) -> Response:
        ts = require_timestamp(req)
        self._live_info(broker)
        broker.mark_deleted(ts)
        return Response(204, {"Content-Length": "0"})

    def do_HEAD(self, req: Request, broker: AccountBroker, account: str) -> Response:
        return Response(204, {**info_headers(self._live_info(broker)), "Content-Length": "0"})

    def do_GET(self, req: Request, broker: AccountBroker, account: str) -> Response:
        query = dbserver.listing_query(req)
        headers = info_headers(self._live_info(broker))
        return dbserver.json_listing(broker.list_containers(**query), headers)
