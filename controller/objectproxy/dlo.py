"""Dynamic large objects: a manifest object whose X-Object-Manifest names
``<container>/<prefix>``; its body is every object under that prefix, in name
order, as the container listing shows them at read time."""

from __future__ import annotations

import hashlib
import json
import urllib.parse

from common.objectstore.wsgi import HTTPError, Response
from controller.objectproxy import headers
from controller.objectproxy.request import ProxyRequest
from controller.objectproxy.segments import Segment, respond


class DynamicLargeObjects:
    """DLO handling for the object controller."""

    def __init__(self, ctrl):
        self.ctrl = ctrl

    def list_segments(self, preq: ProxyRequest, container: str, prefix: str
                      ) -> list[dict]:
        """Listing entries of the segment container under prefix (all pages).

        :raises HTTPError: 403/401 if the caller may not list it, 409 when there are
            more segments than dlo_max_segments.
        """
        app = self.ctrl.app
        self.ctrl.authorize(preq, "GET", container)
        part = app.rings["container"].get_part(preq.account, container)
        limit = app.conf.object_proxy.dlo_max_segments
        entries: list[dict] = []
        marker = ""
        while True:
            query = "?" + urllib.parse.urlencode({"format": "json", "prefix": prefix,
                                                  "marker": marker})
            resp = app.backend.get("container", part, "GET", (preq.account, container),
                                   preq.backend_headers(), query=query)
            raw = resp.read()
            if resp.status == 404:
                return entries
            if resp.status != 200:
                raise HTTPError(503)
            page = json.loads(raw)
            if not page:
                return entries
            entries.extend(e for e in page if "name" in e)
            if len(entries) > limit:
                raise HTTPError(409, f"Too many segments; max {limit}")
            marker = page[-1].get("name") or page[-1].get("subdir")

    def respond(self, preq: ProxyRequest, resp) -> Response:
        """Answer a GET/HEAD whose replica returned a DLO manifest."""
        value = urllib.parse.unquote(resp.headers["x-object-manifest"])
        resp.read()
        container, _, prefix = value.partition("/")
        entries = self.list_segments(preq, container, prefix)
        out = headers.to_client(resp.headers)
        out.pop("Content-Range", None)
        md5 = hashlib.md5(usedforsecurity=False)
        for entry in entries:
            md5.update(entry["hash"].strip('"').encode())
        out["Etag"] = f'"{md5.hexdigest()}"'
        segs = [Segment(container, e["name"], 0, int(e["bytes"])) for e in entries]
        return respond(self.ctrl, preq, segs, out)
