"""Container requests: create, delete when empty, metadata and ACLs, listings."""

from __future__ import annotations

from common.objectstore import timestamp
from common.objectstore.wsgi import HTTPError, Response
from controller.objectproxy import acl, constraints, headers, listing
from controller.objectproxy.accounts import listing_query
from controller.objectproxy.request import ProxyRequest


class ContainerController:
    """/v1/<account>/<container>"""

    def __init__(self, app):
        self.app = app

    def handle(self, preq: ProxyRequest) -> Response:
        handler = getattr(self, "do_" + preq.method, None)
        if handler is None:
            raise HTTPError(405)
        return handler(preq)

    def _account_headers(self, preq: ProxyRequest):
        """For container writes: replica i tells account replica i about the change."""
        ring = self.app.rings["account"]
        part, nodes = ring.get_nodes(preq.account)

        def for_replica(index: int) -> dict[str, str]:
            if index >= len(nodes):
                return {}
            node = nodes[index]
            return {"X-Account-Host": f"{node['ip']}:{node['port']}",
                    "X-Account-Device": node["device"], "X-Account-Partition": str(part)}
        return for_replica

    def write(self, preq: ProxyRequest, method: str, extra: dict[str, str]) -> int:
        """Send a container PUT/POST/DELETE to every replica; the quorum status."""
        ts = timestamp.now()
        account_headers = self._account_headers(preq)
        part = self.app.rings["container"].get_part(preq.account, preq.container)
        status, _ = self.app.backend.fanout(
            "container", part, method, (preq.account, preq.container),
            lambda i, n: {**preq.backend_headers(), "X-Timestamp": ts, **extra,
                          **account_headers(i)})
        self.app.infos.forget(preq.account, preq.container)
        return status

    def _checked_metadata(self, preq: ProxyRequest) -> dict[str, str]:
        constraints.check_metadata(preq.req, "container")
        meta = headers.client_metadata(preq.req, "container")
        if "X-Container-Read" in meta:
            acl.parse(meta["X-Container-Read"])
        if "X-Container-Write" in meta:
            acl.validate_write_acl(meta["X-Container-Write"])
        return meta

    def do_PUT(self, preq: ProxyRequest) -> Response:
        self.app.authz.require_owner(preq)
        meta = self._checked_metadata(preq)
        self.app.ensure_account(preq)
        status = self.write(preq, "PUT", meta)
        if status // 100 != 2:
            raise HTTPError(status)
        return Response(status, {"Content-Type": "text/html; charset=UTF-8"}, b"")

    def do_POST(self, preq: ProxyRequest) -> Response:
        self.app.authz.require_owner(preq)
        meta = self._checked_metadata(preq)
        status = self.write(preq, "POST", meta)
        if status // 100 != 2:
            raise HTTPError(status)
        return Response(204, {"Content-Type": "text/html; charset=UTF-8"}, b"")

    def do_DELETE(self, preq: ProxyRequest) -> Response:
        self.app.authz.require_owner(preq)
        status = self.write(preq, "DELETE", {})
        if status == 409:
            raise HTTPError(409, "There was a conflict when trying to complete your "
                                 "request.")
        if status // 100 != 2:
            raise HTTPError(status)
        return Response(204, {"Content-Type": "text/html; charset=UTF-8"}, b"")

    def do_HEAD(self, preq: ProxyRequest) -> Response:
        return self.do_GET(preq)

    def do_GET(self, preq: ProxyRequest) -> Response:
        app = self.app
        if not preq.is_reader:
            info = app.infos.container(preq.account, preq.container)
            if info is None or not app.authz.may_list(preq, info.get("x-container-read")):
                raise app.authz.deny(preq)
        query = listing_query(preq, app.listing_limit) if preq.method == "GET" else ""
        fmt = listing.choose_format(preq.req)
        part = app.rings["container"].get_part(preq.account, preq.container)
        resp = app.backend.get("container", part, preq.method,
                               (preq.account, preq.container), preq.backend_headers(),
                               query=query)
        body = resp.read()
        if resp.status // 100 != 2:
            raise HTTPError(resp.status if resp.status in (404, 412) else 503)
        hdrs = headers.to_client(resp.headers, preq.is_owner)
        hdrs.pop("Content-Type", None)
        hdrs.pop("X-Put-Timestamp", None)
        hdrs["X-Storage-Policy"] = "Policy-0"
        hdrs["Last-Modified"] = timestamp.http_date(
            resp.headers.get("x-put-timestamp", resp.headers.get("x-timestamp", "0")))
        hdrs["Accept-Ranges"] = "bytes"
        if preq.method == "HEAD":
            hdrs["Content-Type"] = listing.PLAIN_TYPE
            return Response(204, hdrs, b"")
        status, payload, ctype = listing.render(body, fmt, "container", preq.container or "")
        hdrs["Content-Type"] = ctype
        return Response(status, hdrs, payload)
