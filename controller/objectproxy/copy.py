"""Server-side copies: ``PUT`` with ``X-Copy-From: /<container>/<object>`` (optionally
``X-Copy-From-Account``) and ``COPY`` with ``Destination`` (and
``Destination-Account``). The source streams from its replicas into the new object;
large objects are copied as their assembled content unless
``?multipart-manifest=get`` asks for the manifest itself."""

from __future__ import annotations

import urllib.parse

from common.objectstore import timestamp
from common.objectstore.wsgi import HTTPError, Response
from controller.objectproxy import constraints
from controller.objectproxy.request import ProxyRequest
from controller.objectproxy.slo import SYSMETA_ETAG, SYSMETA_SIZE

TRUE = {"true", "1", "yes", "on", "t", "y"}


def split_source(value: str) -> tuple[str, str]:
    """'/container/object' (URL-encoded) -> (container, object). :raises HTTPError: 412."""
    path = urllib.parse.unquote(value).lstrip("/")
    container, _, obj = path.partition("/")
    if not container or not obj:
        raise HTTPError(412, "X-Copy-From header must be of the form <container name>/"
                             "<object name>")
    return container, obj


class Copier:
    """COPY and X-Copy-From for the object controller."""

    def __init__(self, app):
        self.app = app

    def copy_method(self, preq: ProxyRequest) -> Response:
        """COPY /a/c/o with Destination: c2/o2 -> PUT /a/c2/o2 with X-Copy-From: c/o."""
        dest = preq.header("Destination")
        if not dest:
            raise HTTPError(412, "Destination header required")
        container, obj = split_source(dest)
        constraints.check_names(preq.account, container, obj)
        dest_account = preq.header("Destination-Account") or preq.account
        target = ProxyRequest(preq.req, preq.trans_id, dest_account, container, obj,
                              preq.identity)
        self.app.authz.classify(target)
        return self.put_copy(target, f"/{preq.container}/{preq.obj}",
                             source_account=preq.account)

    def put_copy(self, preq: ProxyRequest, source: str,
                 source_account: str | None = None) -> Response:
        objects = self.app.objects
        src_container, src_obj = split_source(source)
        src_account = source_account or preq.header("X-Copy-From-Account") or preq.account
        objects.container_info(preq)
        objects.authorize(preq, "PUT")
        objects.authorize(preq, "GET", src_container, src_account)
        manifest_get = preq.params.get("multipart-manifest") == "get"
        src = ProxyRequest(preq.req, preq.trans_id, src_account, src_container, src_obj,
                           preq.identity, is_owner=True)
        src.req = _GetView(preq.req, manifest_get)
        resp = objects.do_GET(src)
        if resp.status != 200:
            raise HTTPError(resp.status)
        length = int(resp.headers.get("Content-Length", "0"))
        if length > self.app.max_file_size:
            raise HTTPError(413, "Your request is too large.")
        fresh = (preq.header("X-Fresh-Metadata") or "").lower() in TRUE
        source_headers = {k: v for k, v in resp.headers.items()
                          if (k.startswith("X-Object-Meta-") and not fresh)
                          or k in ("Content-Type", "Content-Disposition", "Content-Encoding")}
        node_headers = objects.upload_headers(preq, source_headers)
        is_manifest = manifest_get and resp.headers.get("X-Static-Large-Object") == "True"
        if is_manifest:
            node_headers["X-Static-Large-Object"] = "True"
            raw_meta = self._manifest_sysmeta(preq, src_account, src_container, src_obj)
            node_headers.update(raw_meta)
            node_headers["Content-Type"] = source_headers.get("Content-Type",
                                                              node_headers["Content-Type"])
        node_headers.pop("ETag", None)
        body = resp.body if not isinstance(resp.body, bytes | bytearray) else [resp.body]
        try:
            status, etag, ts = objects.store(preq, body, length, node_headers)
        finally:
            close = getattr(resp.body, "close", None)
            if close:
                close()
        return objects.put_response(status, etag, ts, {
            "X-Copied-From": urllib.parse.quote(f"{src_container}/{src_obj}"),
            "X-Copied-From-Account": urllib.parse.quote(src_account),
            "X-Copied-From-Last-Modified": resp.headers.get(
                "Last-Modified", timestamp.http_date(ts))})

    def _manifest_sysmeta(self, preq: ProxyRequest, account: str, container: str,
                          obj: str) -> dict[str, str]:
        resp = self.app.objects.fetch(preq, container, obj, method="HEAD", account=account)
        resp.read()
        out = {}
        for name in (SYSMETA_ETAG, SYSMETA_SIZE):
            if name.lower() in resp.headers:
                out[name] = resp.headers[name.lower()]
        if SYSMETA_SIZE in out:
            out["X-Backend-Container-Update-Override-Size"] = out[SYSMETA_SIZE]
            out["X-Backend-Container-Update-Override-Etag"] = out.get(SYSMETA_ETAG, "")
        return out


class _GetView:
    """The copy request seen as a plain GET of the source (no range, no conditions)."""

    def __init__(self, req, manifest_get: bool):
        self._req = req
        self.method = "GET"
        self.params = {"multipart-manifest": "get"} if manifest_get else {}

    def header(self, name: str, default: str | None = None) -> str | None:
        return default if name in ("Range", "If-Match", "If-None-Match",
                                   "If-Modified-Since", "If-Unmodified-Since") \
            else self._req.header(name, default)
