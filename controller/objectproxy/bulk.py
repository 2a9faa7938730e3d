"""Bulk delete: ``POST /v1/<account>?bulk-delete`` with one URL-encoded
``/container[/object]`` per line; answered 200 with per-path results (JSON when the
client accepts it, else Swift's plain-text form)."""

from __future__ import annotations

import json
import urllib.parse

from common.objectstore.wsgi import HTTPError, Request, Response, status_line
from controller.objectproxy.request import ProxyRequest


class Result:
    """Tally of a bulk operation."""

    def __init__(self) -> None:
        self.deleted = 0
        self.not_found = 0
        self.errors: list[list[str]] = []

    def add(self, path: str, status: int) -> None:
        if status // 100 == 2:
            self.deleted += 1
        elif status == 404:
            self.not_found += 1
        else:
            self.errors.append([urllib.parse.quote(path), status_line(status)])

    def response(self, req: Request) -> Response:
        status = "200 OK"
        if self.errors:
            codes = {int(e[1][:3]) for e in self.errors}
            status = status_line(codes.pop()) if len(codes) == 1 else "400 Bad Request"
        doc = {"Number Deleted": self.deleted, "Number Not Found": self.not_found,
               "Response Body": "", "Response Status": status, "Errors": self.errors}
        accept = (req.header("Accept") or "").lower()
        if "json" in accept:
            return Response(200, {"Content-Type": "application/json; charset=utf-8"},
                            json.dumps(doc).encode())
        lines = [f"Number Deleted: {self.deleted}", f"Number Not Found: {self.not_found}",
                 "Response Body: ", f"Response Status: {status}", "Errors:"]
        lines += [f"{path}, {err}" for path, err in self.errors]
        return Response(200, {"Content-Type": "text/plain; charset=utf-8"},
                        ("\n".join(lines) + "\n").encode())


class BulkDeleter:
    """POST ?bulk-delete on an account."""

    def __init__(self, app):
        self.app = app

    def delete(self, preq: ProxyRequest) -> Response:
        limit = self.app.conf.object_proxy.bulk_max_deletes
        raw = preq.req.read_body(limit * 4200)
        paths = [urllib.parse.unquote(line.strip()) for line in
                 raw.decode("utf-8", "replace").splitlines() if line.strip()]
        if len(paths) > limit:
            raise HTTPError(413, f"Maximum Bulk Deletes: {limit} per request")
        result = Result()
        objects = self.app.objects
        for path in paths:
            container, _, obj = path.lstrip("/").partition("/")
            if not container:
                result.add(path, 400)
                continue
            if obj:
                result.add(path, objects.delete_object(preq, container, obj))
            else:
                result.add(path, self._delete_container(preq, container))
        return result.response(preq.req)

    def _delete_container(self, preq: ProxyRequest, container: str) -> int:
        sub = ProxyRequest(preq.req, preq.trans_id, preq.account, container, None,
                           preq.identity, is_owner=preq.is_owner, is_reader=preq.is_reader)
        try:
            self.app.authz.require_owner(sub)
            return self.app.containers.write(sub, "DELETE", {})
        except HTTPError as exc:
            return exc.status
