"""The proxy's WSGI application: parse the path, authenticate, route, render faults.

Plain WSGI (no framework in the data path): each request costs a path split, a
cached token lookup and the node requests themselves.
"""

from __future__ import annotations

import logging
import time
import uuid

from oslo_config import cfg

from common.context import current_request_id
from common.objectstore import httpclient
from common.objectstore.wsgi import HTTPError, Request, Response, finish
from common.ring import Ring
from common.ring import conf as ring_conf
from controller.objectproxy import capabilities, constraints
from controller.objectproxy.accounts import AccountController
from controller.objectproxy.auth import TokenValidator
from controller.objectproxy.authz import Authorizer
from controller.objectproxy.backend import Backend
from controller.objectproxy.bulk import BulkDeleter
from controller.objectproxy.containers import ContainerController
from controller.objectproxy.copy import Copier
from controller.objectproxy.info import InfoCache
from controller.objectproxy.objects import ObjectController
from controller.objectproxy.request import ProxyRequest
from controller.objectproxy.tempurl import TempUrls, is_tempurl

LOG = logging.getLogger(__name__)
ACCESS = logging.getLogger("stratus.objectproxy.access")
VERSIONS = ("v1", "v1.0")


def new_trans_id() -> str:
    """Swift's transaction id shape: tx<21 hex>-<hex time>."""
    return f"tx{uuid.uuid4().hex[:21]}-{int(time.time()):010x}"


class ProxyApp:
    """The Object Storage v1 API."""

    def __init__(self, conf: cfg.ConfigOpts, rings: dict[str, Ring] | None = None,
                 validator: TokenValidator | None = None):
        opts = conf.object_proxy
        self.conf = conf
        self.rings = rings or {k: ring_conf.load_ring(conf, k)
                               for k in ("account", "container", "object")}
        self.pool = httpclient.Pool(opts.conn_timeout, opts.node_timeout, opts.pool_max_idle,
                                    opts.pool_idle_ttl)
        self.backend = Backend(self.rings, self.pool, node_timeout=opts.node_timeout,
                               post_quorum_timeout=opts.post_quorum_timeout,
                               error_suppression_interval=opts.error_suppression_interval)
        self.infos = InfoCache(self.backend, opts.info_cache_time)
        self.validator = validator or TokenValidator(
            opts.identity_url, opts.token_cache_time, opts.token_cache_size,
            opts.identity_timeout)
        self.authz = Authorizer(opts.reseller_prefix, opts.operator_roles, opts.reader_roles,
                                opts.reseller_admin_role)
        self.reseller_prefix = opts.reseller_prefix
        self.account_autocreate = opts.account_autocreate
        self.max_file_size = opts.max_file_size
        self.listing_limit = opts.container_listing_limit
        self.chunk_size = opts.chunk_size
        self.client_timeout = opts.client_timeout
        self.log_requests = opts.log_requests
        self.info_body = capabilities.info(conf)
        self.accounts = AccountController(self)
        self.containers = ContainerController(self)
        self.objects = ObjectController(self)
        self.bulk = BulkDeleter(self)
        self.copier = Copier(self)
        self.tempurls = TempUrls(self, opts.tempurl_methods, opts.tempurl_digests)

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ, start_response):
        trans_id = new_trans_id()
        token = current_request_id.set(trans_id)
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            sock.settimeout(self.client_timeout)  # a stalled upload must not pin a thread
        environ["stratus.client_timeout"] = self.client_timeout
        req = Request(environ)
        started = time.monotonic()
        try:
            response = self.handle(req, trans_id)
        except HTTPError as exc:
            response = exc.response(req.method)
        except Exception:  # noqa: BLE001 - the catch-all: log it, answer 500
            LOG.exception("%s %s failed", req.method, environ.get("PATH_INFO"))
            response = HTTPError(500).response(req.method)
        finally:
            current_request_id.reset(token)
        response.headers["X-Trans-Id"] = trans_id
        response.headers["X-Openstack-Request-Id"] = trans_id
        if self.log_requests:
            ACCESS.info("%s %s %s %s %.1fms", environ.get("REMOTE_ADDR", "-"), req.method,
                        environ.get("RAW_URI") or environ.get("PATH_INFO"), response.status,
                        (time.monotonic() - started) * 1000)
        return finish(start_response, response, req.method)

    # ------------------------------------------------------------------ routing
    def handle(self, req: Request, trans_id: str) -> Response:
        path = req.path
        if path.rstrip("/") == "/info":
            if req.method not in ("GET", "HEAD"):
                raise HTTPError(405)
            return Response(200, {"Content-Type": "application/json; charset=UTF-8"},
                            self.info_body)
        if path == "/healthcheck":
            return Response(200, {"Content-Type": "text/plain"}, b"OK")
        segments = path.split("/", 4)
        if len(segments) < 2 or segments[0] != "" or segments[1] not in VERSIONS:
            raise HTTPError(404)
        if len(segments) < 3 or not segments[2]:
            raise HTTPError(412, "Invalid path")
        account = segments[2]
        container = segments[3] or None if len(segments) > 3 else None
        obj = segments[4] or None if len(segments) > 4 else None
        if obj is not None and container is None:
            raise HTTPError(412, "Invalid path")
        constraints.check_names(account, container, obj)
        preq = ProxyRequest(req, trans_id, account, container, obj)
        self.authenticate(preq)
        if obj is not None:
            return self.objects.handle(preq)
        if container is not None:
            return self.containers.handle(preq)
        return self.accounts.handle(preq)

    def authenticate(self, preq: ProxyRequest) -> None:
        """Set the caller from a TempURL signature or an identity token.

        An invalid token makes the caller anonymous (so public containers still
        work); anonymous callers are refused with 401 wherever access is needed.
        """
        if is_tempurl(preq.params):
            self.tempurls.validate(preq)
            return
        token = preq.header("X-Auth-Token") or preq.header("X-Storage-Token")
        if token:
            preq.identity = self.validator.validate(token)
            if preq.identity is None and preq.method not in ("GET", "HEAD"):
                raise HTTPError(401)
            self.authz.classify(preq)

    # ------------------------------------------------------------------ shared
    def ensure_account(self, preq: ProxyRequest) -> None:
        """Create the account on first use (account_autocreate).

        :raises HTTPError: 404 when it does not exist and autocreate is off.
        """
        if self.infos.account(preq.account) is not None:
            return
        if not self.account_autocreate:
            raise HTTPError(404)
        ts = time.time()
        part = self.rings["account"].get_part(preq.account)
        status, _ = self.backend.fanout(
            "account", part, "PUT", (preq.account,),
            lambda i, n: {**preq.backend_headers(), "X-Timestamp": f"{ts:016.5f}"})
        self.infos.forget(preq.account)
        if status // 100 != 2:
            raise HTTPError(503)
