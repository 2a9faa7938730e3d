"""The storage node's WSGI application: routes to the object, container, account and
replication handlers and renders every failure as a Swift-style error."""

from __future__ import annotations

import logging
import time

from oslo_config import cfg

from agents.objectstore.accountdb import AccountBroker
from agents.objectstore.accounts import AccountController
from agents.objectstore.containerdb import ContainerBroker
from agents.objectstore.containers import ContainerController
from agents.objectstore.dbbroker import BrokerCache
from agents.objectstore.devices import Devices, DeviceUnavailable, my_ips
from agents.objectstore.diskfile import DiskFileManager
from agents.objectstore.objects import ObjectController
from agents.objectstore.replication_api import ReplicationController
from agents.objectstore.rings import NodeRings
from agents.objectstore.updates import AccountReporter, ContainerUpdater
from common.context import current_request_id
from common.objectstore import httpclient
from common.objectstore.wsgi import HTTPError, Request, Response, finish

LOG = logging.getLogger(__name__)


def make_devices(conf: cfg.ConfigOpts) -> Devices:
    opts = conf.object_server
    return Devices(opts.devices, opts.device_names, opts.mount_check)


class NodeApp:
    """One storage node: every device it serves, every kind of request."""

    def __init__(self, conf: cfg.ConfigOpts, diskfiles=None):
        opts = conf.object_server
        self.devices = make_devices(conf)
        self.rings = NodeRings(conf)
        self.pool = httpclient.Pool(opts.conn_timeout, opts.node_timeout)
        self.diskfiles = diskfiles or DiskFileManager(
            self.devices, fsync=opts.fsync, chunk_size=opts.chunk_size,
            reclaim_age=opts.reclaim_age)
        self.brokers = {"accounts": BrokerCache(AccountBroker, opts.db_cache_size),
                        "containers": BrokerCache(ContainerBroker, opts.db_cache_size)}
        self.reporter = AccountReporter(self.pool, self.rings, self.brokers["containers"],
                                        opts.account_update_interval, opts.node_timeout)
        self.containers = ContainerController(self.devices, self.brokers["containers"],
                                              self.rings, self.pool, self.reporter,
                                              opts.node_timeout)
        local = {(ip, opts.bind_port) for ip in my_ips(opts.bind_host, opts.ring_ips)}
        self.objects = ObjectController(
            self.diskfiles, ContainerUpdater(self.pool, self.rings, opts.node_timeout,
                                             opts.fsync, local, self.containers.apply_local),
            self.rings.hash_of, opts.chunk_size, opts.verify_reads)
        self.accounts = AccountController(self.devices, self.brokers["accounts"], self.rings)
        self.replication = ReplicationController(self.devices, self.diskfiles, self.brokers,
                                                 self.reporter, opts.reclaim_age,
                                                 opts.chunk_size)

    def __call__(self, environ, start_response):
        req = Request(environ)
        token = current_request_id.set(environ.get("HTTP_X_TRANS_ID", "-"))
        started = time.monotonic()
        try:
            response = self.route(req)
        except HTTPError as exc:
            response = exc.response(req.method)
        except DeviceUnavailable as exc:
            response = HTTPError(507, f"Device {exc} is not available").response(req.method)
        except Exception:  # noqa: BLE001 - one failing request must not kill the worker
            LOG.exception("%s %s failed", req.method, environ.get("PATH_INFO"))
            response = HTTPError(500).response(req.method)
        finally:
            current_request_id.reset(token)
        if LOG.isEnabledFor(logging.DEBUG):
            LOG.debug("%s %s %s %.1fms", req.method, environ.get("PATH_INFO"),
                      response.status, (time.monotonic() - started) * 1000)
        return finish(start_response, response, req.method)

    def route(self, req: Request) -> Response:
        path = req.path
        if path == "/healthcheck":
            return Response(200, {"Content-Type": "text/plain"}, b"OK")
        parts = path[1:].split("/", 4)
        if parts[0] == "replicate":
            return self.replication.handle(req, path[1:].split("/")[1:])
        if len(parts) < 3 or not all(parts[:3]):
            raise HTTPError(400, "Invalid path")
        device, part_str, account = parts[:3]
        try:
            part = int(part_str)
        except ValueError as exc:
            raise HTTPError(400, "Invalid partition") from exc
        container = parts[3] if len(parts) > 3 else None
        obj = parts[4] if len(parts) > 4 else None
        if container == "" or obj == "":
            raise HTTPError(400, "Invalid path")
        if obj is not None:
            if req.header("X-Backend-Server-Type") == "container":
                return self.containers.handle(req, device, part, account, container, obj)
            return self.objects.handle(req, device, part, account, container, obj)
        if container is not None:
            if req.header("X-Backend-Server-Type") == "account":
                return self.accounts.handle(req, device, part, account, container)
            return self.containers.handle(req, device, part, account, container, None)
        return self.accounts.handle(req, device, part, account, None)
