"""Object requests: PUT (streamed to every replica), GET/HEAD (from any replica, with
ranges and conditions), POST (metadata), DELETE, COPY; large objects, copies and
expiry hook in here."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable

from common.objectstore import timestamp
from common.objectstore.wsgi import HTTPError, Response
from controller.objectproxy import constraints, dlo, headers, slo
from controller.objectproxy.backend import Node, best_status, quorum_size
from controller.objectproxy.request import ProxyRequest
from controller.objectproxy.streams import ResumingBody, put_replicas

CONDITIONAL = ("Range", "If-Match", "If-None-Match", "If-Modified-Since",
               "If-Unmodified-Since")
SMALL_BODY = 65536
TRUE = {"true", "1", "yes", "on", "t", "y"}


def guess_type(obj: str) -> str:
    return mimetypes.guess_type(obj, strict=False)[0] or "application/octet-stream"


class ObjectController:
    """/v1/<account>/<container>/<object>"""

    def __init__(self, app):
        self.app = app
        self.slo = slo.StaticLargeObjects(self)
        self.dlo = dlo.DynamicLargeObjects(self)

    def handle(self, preq: ProxyRequest) -> Response:
        handler = getattr(self, "do_" + preq.method, None)
        if handler is None:
            raise HTTPError(405)
        return handler(preq)

    # ------------------------------------------------------------ shared helpers
    def container_info(self, preq: ProxyRequest, container: str | None = None,
                       account: str | None = None) -> dict[str, str]:
        """The container's info. :raises HTTPError: 404 when it does not exist."""
        info = self.app.infos.container(account or preq.account, container or preq.container)
        if info is None:
            raise HTTPError(404)
        return info

    def authorize(self, preq: ProxyRequest, method: str | None = None,
                  container: str | None = None, account: str | None = None) -> None:
        """Owner fast path; otherwise the container's ACLs decide."""
        if (account or preq.account) != preq.account:
            # cross-account access (copies): only ACLs or reseller admins
            other = ProxyRequest(preq.req, preq.trans_id, account or preq.account,
                                 container, None, preq.identity)
            self.app.authz.classify(other)
            preq = other
        if preq.is_owner or preq.tempurl or (preq.is_reader and
                                             (method or preq.method) in ("GET", "HEAD")):
            return
        info = self.app.infos.container(preq.account, container or preq.container)
        self.app.authz.require_object_access(preq, info, method)

    def fetch(self, preq: ProxyRequest, container: str, obj: str,
              node_headers: dict[str, str] | None = None, method: str = "GET",
              account: str | None = None):
        """A replica's raw answer for an object (no large-object handling)."""
        account = account or preq.account
        part = self.app.rings["object"].get_part(account, container, obj)
        hdrs = {**preq.backend_headers(), **(node_headers or {})}
        return self.app.backend.get("object", part, method, (account, container, obj), hdrs)

    def store(self, preq: ProxyRequest, body: Iterable[bytes], length: int | None,
              node_headers: dict[str, str], account: str | None = None,
              container: str | None = None, obj: str | None = None) -> tuple[int, str, str]:
        """Write an object to its replicas; (status, etag, timestamp).

        node_headers carry Content-Type, metadata and any ETag to verify.
        """
        account = account or preq.account
        container = container or preq.container
        obj = obj or preq.obj
        ts = timestamp.now()
        cring = self.app.rings["container"]
        cpart, cnodes = cring.get_nodes(account, container)
        base = {**preq.backend_headers(), **node_headers, "X-Timestamp": ts}
        if length is not None:
            base["Content-Length"] = str(length)

        def headers_for(index: int, node: Node) -> dict[str, str]:
            hdrs = dict(base)
            if index < len(cnodes):
                cnode = cnodes[index]
                hdrs.update({"X-Container-Host": f"{cnode['ip']}:{cnode['port']}",
                             "X-Container-Device": cnode["device"],
                             "X-Container-Partition": str(cpart)})
            return hdrs

        part = self.app.rings["object"].get_part(account, container, obj)
        status, replies = put_replicas(self.app.backend, part, (account, container, obj),
                                       headers_for, body, chunked=length is None)
        if status == 409:
            status = 202  # a newer version already exists on a quorum: Swift's answer
        etags = {r.headers.get("etag", "").strip('"') for r in replies if r.status == 201}
        return status, (etags.pop() if len(etags) == 1 else ""), ts

    # ------------------------------------------------------------ PUT
    def do_PUT(self, preq: ProxyRequest) -> Response:
        req = preq.req
        if req.header("X-Copy-From"):
            return self.app.copier.put_copy(preq, req.header("X-Copy-From") or "")
        self.container_info(preq)
        self.authorize(preq)
        if preq.params.get("multipart-manifest") == "put":
            return self.slo.put_manifest(preq)
        length = constraints.check_object_length(req, self.app.max_file_size)
        node_headers = self.upload_headers(preq)
        status, etag, ts = self.store(preq, req.body_chunks(self.app.chunk_size), length,
                                      node_headers)
        return self.put_response(status, etag, ts)

    def upload_headers(self, preq: ProxyRequest, source: dict[str, str] | None = None
                       ) -> dict[str, str]:
        """Node headers of an upload: type, metadata, expiry, ETag to verify.

        :raises HTTPError: 400 for invalid metadata, expiry or manifest headers.
        """
        req = preq.req
        constraints.check_metadata(req, "object")
        if req.header("X-Static-Large-Object"):
            raise HTTPError(400, "X-Static-Large-Object is a reserved header. To create a "
                                 "static large object add query param "
                                 "multipart-manifest=put.")
        if_none_match = req.header("If-None-Match")
        if if_none_match is not None and if_none_match != "*":
            raise HTTPError(400, "If-None-Match only supports *")
        out: dict[str, str] = dict(source or {})
        out.update(headers.client_metadata(req, "object"))
        manifest = out.get("X-Object-Manifest")
        if manifest is not None and ("/" not in manifest.lstrip("/") or
                                     manifest.startswith("/")):
            raise HTTPError(400, "X-Object-Manifest must be in the format container/prefix")
        ctype = req.header("Content-Type") or (out.get("Content-Type") if source else None)
        if not ctype or (req.header("X-Detect-Content-Type") or "").lower() in TRUE:
            ctype = guess_type(preq.obj or "")
        out["Content-Type"] = ctype.split(";swift_bytes=")[0]
        delete_at = constraints.check_delete_headers(req)
        if delete_at is not None:
            out["X-Delete-At"] = str(delete_at)
        etag = req.header("ETag")
        if etag:
            out["ETag"] = etag.strip('"')
        if if_none_match:
            out["If-None-Match"] = "*"
        return {k: v for k, v in out.items() if v != "" or k.startswith("X-Object-Meta-")}

    @staticmethod
    def put_response(status: int, etag: str, ts: str,
                     extra: dict[str, str] | None = None) -> Response:
        if status // 100 != 2:
            raise HTTPError(status)
        hdrs = {"Etag": etag, "Last-Modified": timestamp.http_date(ts),
                "Content-Type": "text/html; charset=UTF-8"}
        hdrs.update(extra or {})
        return Response(201, hdrs, b"")

    # ------------------------------------------------------------ GET / HEAD
    def do_HEAD(self, preq: ProxyRequest) -> Response:
        return self.do_GET(preq)

    def do_GET(self, preq: ProxyRequest) -> Response:
        self.authorize(preq)
        req = preq.req
        manifest_get = preq.params.get("multipart-manifest") == "get"
        node_headers: dict[str, str] = {}
        for name in CONDITIONAL:
            value = req.header(name)
            if value is not None:
                node_headers[name] = value
        if not manifest_get:
            node_headers["X-Backend-Etag-Is-At"] = slo.SYSMETA_ETAG
            if "Range" in node_headers:
                node_headers["X-Backend-Ignore-Range-If-Metadata-Present"] = \
                    "X-Static-Large-Object, X-Object-Manifest"
        app = self.app
        names = (preq.account, preq.container, preq.obj)
        part = app.rings["object"].get_part(*names)
        nodes = app.backend.read_nodes(app.rings["object"], part)
        hdrs_to_node = {**preq.backend_headers(), **node_headers}
        resp = app.backend.get("object", part, preq.method, names, hdrs_to_node, nodes=nodes)
        if resp.status in (304, 412):
            resp.read()
            out = headers.to_client(resp.headers)
            return Response(resp.status, out, b"")
        if resp.status == 416:
            resp.read()
            raise HTTPError(416, headers={"Content-Range": resp.headers.get("content-range",
                                                                            "")})
        if resp.status // 100 != 2:
            resp.read()
            raise HTTPError(resp.status if resp.status in (404, 400) else 503)
        if not manifest_get:
            if resp.headers.get("x-static-large-object", "").lower() in TRUE:
                return self.slo.respond(preq, resp)
            if "x-object-manifest" in resp.headers:
                return self.dlo.respond(preq, resp)
        out = headers.to_client(resp.headers)
        if manifest_get and resp.headers.get("x-static-large-object", "").lower() in TRUE:
            out["Content-Type"] = "application/json; charset=utf-8"
        length = int(resp.headers.get("content-length", "0"))
        out["Content-Length"] = str(length)
        self.app.tempurls.decorate(preq, out)
        if preq.method == "HEAD":
            resp.read()
            return Response(resp.status, out, b"")
        if length <= SMALL_BODY:
            return Response(resp.status, out, self._small_body(resp, preq, names, part,
                                                               hdrs_to_node, nodes))
        start = 0
        content_range = resp.headers.get("content-range")
        if content_range and "multipart" not in resp.headers.get("content-type", ""):
            start = int(content_range.split()[1].split("-")[0])
        if resp.status == 206 and "multipart" in resp.headers.get("content-type", ""):
            return Response(resp.status, out, resp.stream(self.app.chunk_size))
        body = ResumingBody(app.backend, resp, part, names, hdrs_to_node, nodes, start,
                            length, resp.headers.get("etag", "").strip('"'),
                            self.app.chunk_size)
        return Response(resp.status, out, body)

    def _small_body(self, resp, preq: ProxyRequest, names, part, hdrs_to_node, nodes
                    ) -> bytes:
        """Read a small body whole; if the replica breaks off, read it from another."""
        from common.objectstore.httpclient import BackendError

        try:
            return resp.read()
        except BackendError:
            again = self.app.backend.get("object", part, "GET", names, hdrs_to_node,
                                         accept=lambda s: s == resp.status, nodes=nodes)
            if again.status != resp.status:
                raise HTTPError(503) from None
            return again.read()

    # ------------------------------------------------------------ POST / DELETE
    def do_POST(self, preq: ProxyRequest) -> Response:
        self.authorize(preq)
        req = preq.req
        constraints.check_metadata(req, "object")
        node_headers = headers.client_metadata(req, "object")
        node_headers.pop("X-Object-Manifest", None)
        delete_at = constraints.check_delete_headers(req)
        if delete_at is not None:
            node_headers["X-Delete-At"] = str(delete_at)
        if req.header("Content-Type"):
            node_headers["Content-Type"] = req.header("Content-Type") or ""
        node_headers = {k: v for k, v in node_headers.items() if v != ""}
        status = self._fanout(preq, "POST", node_headers)
        if status // 100 != 2:
            raise HTTPError(status)
        return Response(202, {"Content-Type": "text/html; charset=UTF-8"}, b"")

    def do_DELETE(self, preq: ProxyRequest) -> Response:
        self.authorize(preq)
        if preq.params.get("multipart-manifest") == "delete":
            return self.slo.delete(preq)
        status = self._fanout(preq, "DELETE", {}, container_update=True)
        if status // 100 != 2:
            raise HTTPError(status)
        return Response(204, {"Content-Type": "text/html; charset=UTF-8"}, b"")

    def delete_object(self, preq: ProxyRequest, container: str, obj: str) -> int:
        """Delete one object as preq's caller (bulk and SLO deletes); its status."""
        sub = ProxyRequest(preq.req, preq.trans_id, preq.account, container, obj,
                           preq.identity, is_owner=preq.is_owner, is_reader=preq.is_reader)
        try:
            self.authorize(sub, "DELETE")
            return self._fanout(sub, "DELETE", {}, container_update=True)
        except HTTPError as exc:
            return exc.status

    def _fanout(self, preq: ProxyRequest, method: str, extra: dict[str, str],
                container_update: bool = False) -> int:
        ts = timestamp.now()
        names = (preq.account, preq.container, preq.obj)
        cpart, cnodes = self.app.rings["container"].get_nodes(preq.account, preq.container)
        part = self.app.rings["object"].get_part(*names)

        def headers_for(index: int, node: Node) -> dict[str, str]:
            hdrs = {**preq.backend_headers(), **extra, "X-Timestamp": ts}
            if container_update and index < len(cnodes):
                cnode = cnodes[index]
                hdrs.update({"X-Container-Host": f"{cnode['ip']}:{cnode['port']}",
                             "X-Container-Device": cnode["device"],
                             "X-Container-Partition": str(cpart)})
            return hdrs

        status, replies = self.app.backend.fanout("object", part, method, names, headers_for)
        if status == 409:
            statuses = [r.status for r in replies]
            status = best_status([202 if s == 409 else s for s in statuses],
                                 quorum_size(self.app.rings["object"].replica_count))
        return status

    # ------------------------------------------------------------ COPY
    def do_COPY(self, preq: ProxyRequest) -> Response:
        return self.app.copier.copy_method(preq)

