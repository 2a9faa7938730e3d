"""Account requests: HEAD/GET (stats, container listing), POST (metadata), bulk delete."""

from __future__ import annotations

import urllib.parse

from common.objectstore import timestamp
from common.objectstore.wsgi import HTTPError, Response
from controller.objectproxy import constraints, headers, listing
from controller.objectproxy.request import ProxyRequest

LISTING_PARAMS = ("limit", "marker", "end_marker", "prefix", "delimiter", "reverse")


def listing_query(preq: ProxyRequest, max_limit: int) -> str:
    """The node query string of a listing request. :raises HTTPError: 412 bad limit."""
    params = {k: preq.params[k] for k in LISTING_PARAMS if k in preq.params}
    if "limit" in params:
        try:
            limit = int(params["limit"])
        except ValueError as exc:
            raise HTTPError(412, "Value of limit must be a positive integer") from exc
        if limit < 0:
            raise HTTPError(412, "Value of limit must be a positive integer")
        if limit > max_limit:
            raise HTTPError(412, f"Maximum limit is {max_limit}")
    params["format"] = "json"
    return "?" + urllib.parse.urlencode(params)


class AccountController:
    """/v1/<account>"""

    def __init__(self, app):
        self.app = app

    def handle(self, preq: ProxyRequest) -> Response:
        if preq.method in ("GET", "HEAD"):
            return self.get_or_head(preq)
        if preq.method == "POST":
            if "bulk-delete" in preq.params:
                return self.app.bulk.delete(preq)
            return self.post(preq)
        raise HTTPError(405)

    def get_or_head(self, preq: ProxyRequest) -> Response:
        self.app.authz.require_account_read(preq)
        app = self.app
        query = listing_query(preq, app.listing_limit) if preq.method == "GET" else ""
        fmt = listing.choose_format(preq.req)
        part = app.rings["account"].get_part(preq.account)
        resp = app.backend.get("account", part, preq.method, (preq.account,),
                               preq.backend_headers(), query=query)
        if resp.status == 404 and app.account_autocreate:
            resp.read()
            hdrs = {"X-Account-Container-Count": "0", "X-Account-Object-Count": "0",
                    "X-Account-Bytes-Used": "0", "X-Timestamp": timestamp.now(),
                    "X-Put-Timestamp": timestamp.now()}
            body = b"[]"
        elif resp.status // 100 != 2:
            resp.read()
            raise HTTPError(resp.status if resp.status in (404, 412) else 503)
        else:
            body = resp.read()
            hdrs = headers.to_client(resp.headers, preq.is_owner)
            hdrs.pop("Content-Type", None)
        if preq.method == "HEAD":
            hdrs["Content-Type"] = listing.PLAIN_TYPE
            return Response(204, hdrs, b"")
        status, payload, ctype = listing.render(body, fmt, "account", preq.account)
        hdrs["Content-Type"] = ctype
        return Response(status, hdrs, payload)

    def post(self, preq: ProxyRequest) -> Response:
        self.app.authz.require_owner(preq)
        constraints.check_metadata(preq.req, "account")
        self.app.ensure_account(preq)
        ts = timestamp.now()
        meta = headers.client_metadata(preq.req, "account")
        status, _ = self.app.backend.fanout(
            "account", self.app.rings["account"].get_part(preq.account), "POST",
            (preq.account,), lambda i, n: {**preq.backend_headers(), "X-Timestamp": ts,
                                           **meta})
        self.app.infos.forget(preq.account)
        if status // 100 != 2:
            raise HTTPError(status)
        return Response(204, {"Content-Type": "text/html; charset=UTF-8"}, b"")
