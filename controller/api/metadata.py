"""/metadata: the instance metadata service behind the metadata proxy.

The proxy (stratus-metadata-agent) forwards a guest's request for
http://169.254.169.254/<path> to /metadata/<path>, adding X-Instance-ID and its
signature. Unsigned or badly signed requests get a bare 403, unknown paths a bare 404.
"""

from __future__ import annotations

import flask

from controller import exceptions
from controller.api.app import state
from controller.network import metadata

bp = flask.Blueprint("metadata", __name__, url_prefix="/metadata")


@bp.errorhandler(exceptions.StratusError)
def _error(error: exceptions.StratusError):
    code = error.code if error.code in (403, 404) else 500
    text = {403: "Forbidden", 404: "Not Found"}.get(code, "Internal Server Error")
    return flask.Response(text, status=code, mimetype="text/plain")


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def serve(path: str):
    headers = flask.request.headers
    rt = state().rt
    instance = metadata.authenticate(rt, headers.get("X-Instance-ID"),
                                     headers.get("X-Instance-ID-Signature"),
                                     headers.get("X-Tenant-ID"))
    document = metadata.serve(rt, instance, path)
    mimetype = "application/json" if path.endswith(".json") else "text/plain"
    if isinstance(document, bytes):
        mimetype = "application/octet-stream"
    return flask.Response(document, status=200, mimetype=mimetype)
