"""/servers/{id}/os-interface: a server's interfaces (list, show, attach, detach)."""

from __future__ import annotations

import flask

from controller.api import compute, handler, validation
from controller.api.compute import bp, server_access
from controller.api.compute.schemas import networking as schemas
from controller.compute import server_interfaces


@bp.get("/v2.1/servers/<server_id>/os-interface")
def list_interfaces(server_id: str):
    _, instance = server_access.load("os_compute_api:os-attach-interfaces:list", server_id)
    ports = server_interfaces.list_(handler.runtime(), instance)
    return {"interfaceAttachments": [server_interfaces.view(port) for port in ports]}


@bp.get("/v2.1/servers/<server_id>/os-interface/<port_id>")
def show_interface(server_id: str, port_id: str):
    _, instance = server_access.load("os_compute_api:os-attach-interfaces:show", server_id)
    port = server_interfaces.get(handler.runtime(), instance, port_id)
    return {"interfaceAttachment": server_interfaces.view(port)}


@bp.post("/v2.1/servers/<server_id>/os-interface")
def attach_interface(server_id: str):
    ctx, instance = server_access.load("os_compute_api:os-attach-interfaces:create",
                                       server_id)
    body = validation.body(schemas.attach(compute.at_least))
    request = body.get("interfaceAttachment") or {}
    fixed_ips = request.get("fixed_ips") or []
    port = server_interfaces.attach(handler.runtime(), ctx, instance, request.get("net_id"),
                                    request.get("port_id"),
                                    fixed_ips[0]["ip_address"] if fixed_ips else None)
    return {"interfaceAttachment": server_interfaces.view(port)}


@bp.delete("/v2.1/servers/<server_id>/os-interface/<port_id>")
def detach_interface(server_id: str, port_id: str):
    ctx, instance = server_access.load("os_compute_api:os-attach-interfaces:delete",
                                       server_id)
    server_interfaces.detach(handler.runtime(), ctx, instance, port_id)
    return flask.Response(status=202)
