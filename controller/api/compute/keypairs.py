"""/os-keypairs: create (generate or import), list, show and delete a user's key pairs."""

from __future__ import annotations

import flask

from common.context import RequestContext
from controller import exceptions
from controller.api import auth, compute, handler, pagination, validation
from controller.api.compute import bp, schemas, views
from controller.compute import keypairs


def _user(rule: str, requested: str | None = None) -> tuple[RequestContext, str]:
    """The caller and the user whose key pairs it addresses (user_id param from 2.10)."""
    if requested is None and compute.at_least("2.10"):
        requested = flask.request.args.get("user_id")
    user_id = requested or auth.require_context().user_id
    return handler.authorize(rule, {"user_id": user_id}), user_id


@bp.post("/v2.1/os-keypairs")
def create_keypair():
    schema = schemas.keypair_create(compute.at_least("2.2"), compute.at_least("2.10"))
    body = validation.body(schema)["keypair"]
    ctx, user_id = _user("os_compute_api:os-keypairs:create", body.get("user_id"))
    keypair, private_key = keypairs.create(handler.runtime(), ctx, user_id, body["name"],
                                           body.get("public_key"), body.get("type", "ssh"))
    status = 201 if compute.at_least("2.2") else 200
    return {"keypair": views.keypair(keypair, private_key=private_key)}, status


@bp.get("/v2.1/os-keypairs")
def list_keypairs():
    ctx, user_id = _user("os_compute_api:os-keypairs:index")
    rows = keypairs.list_(handler.runtime(), ctx, user_id)
    body: dict = {}
    if compute.at_least("2.35"):
        rows, more = pagination.page(rows, pagination.limit_arg(),
                                     flask.request.args.get("marker"), lambda row: row.name)
        links = pagination.links(rows, more, lambda row: row.name)
        if links:
            body["keypairs_links"] = links
    return {"keypairs": [{"keypair": views.keypair(row, listing=True)} for row in rows],
            **body}


@bp.get("/v2.1/os-keypairs/<name>")
def show_keypair(name: str):
    ctx, user_id = _user("os_compute_api:os-keypairs:show")
    return {"keypair": views.keypair(keypairs.get(handler.runtime(), ctx, user_id, name),
                                     detail=True)}


@bp.delete("/v2.1/os-keypairs/<name>")
def delete_keypair(name: str):
    ctx, user_id = _user("os_compute_api:os-keypairs:delete")
    keypairs.delete(handler.runtime(), ctx, user_id, name)
    return flask.Response(status=204 if compute.at_least("2.2") else 202)


@bp.route("/v2.1/os-keypairs/<name>", methods=["PUT", "POST"])
def keypair_not_allowed(name: str):
    raise exceptions.MethodNotAllowed()
