"""/servers/{id}/os-instance-actions: a server's actions, newest first, and one action
with its events (events and tracebacks as Nova's policy and microversion allow)."""

from __future__ import annotations

import flask

from controller import exceptions
from controller.api import auth, compute, handler, pagination
from controller.api.compute import bp, server_access, server_views
from controller.api.compute.servers import changes_since_arg
from controller.compute import actions, servers


def _load(rule: str, server_id: str):
    """The server (a deleted one too from 2.21, as Nova lists its actions)."""
    ctx = auth.require_context()
    rt = handler.runtime()
    try:
        instance = servers.get(rt, ctx, server_id)
    except exceptions.NotFound:
        if not compute.at_least("2.21"):
            raise
        instance = servers.get_deleted(rt, ctx, server_id)
    handler.authorize(rule, server_access.target(instance))
    return ctx, instance


@bp.get("/v2.1/servers/<server_id>/os-instance-actions")
def list_instance_actions(server_id: str):
    _, instance = _load("os_compute_api:os-instance-actions:list", server_id)
    paged = compute.at_least("2.58")
    rows = actions.list_(handler.runtime(), instance.uuid,
                         changes_since_arg() if paged else None)
    body: dict = {}
    if paged:
        rows, more = pagination.page(rows, pagination.limit_arg(),
                                     flask.request.args.get("marker"),
                                     lambda row: row.request_id)
        links = pagination.links(rows, more, lambda row: row.request_id)
        if links:
            body["links"] = links
    return {"instanceActions": [server_views.instance_action(row) for row in rows], **body}


@bp.get("/v2.1/servers/<server_id>/os-instance-actions/<request_id>")
def show_instance_action(server_id: str, request_id: str):
    ctx, instance = _load("os_compute_api:os-instance-actions:show", server_id)
    row = actions.get(handler.runtime(), instance.uuid, request_id)
    view = server_views.instance_action(row)
    privileged = handler.allowed(ctx, "os_compute_api:os-instance-actions:events",
                                       server_access.target(instance))
    if privileged or compute.at_least("2.51"):
        view["events"] = [server_views.action_event(event, with_traceback=privileged)
                          for event in row.events]
    return {"instanceAction": view}
