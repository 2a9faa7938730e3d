"""A server's security groups and floating IPs: the addSecurityGroup,
removeSecurityGroup, addFloatingIp and removeFloatingIp actions (the floating IP ones
exist below microversion 2.44, as in Nova) and /servers/{id}/os-security-groups."""

from __future__ import annotations

from controller.api import handler, validation
from controller.api.compute import bp, server_access
from controller.api.compute.schemas import networking as schemas
from controller.api.compute.server_actions import accepted, action
from controller.compute import server_security


@action("addSecurityGroup", "os_compute_api:os-security-groups:add")
def _add_security_group(ctx, instance, body):
    name = validation.validate(schemas.ADD_SECURITY_GROUP, body)["addSecurityGroup"]["name"]
    server_security.add_security_group(handler.runtime(), ctx, instance, name.strip())
    return accepted()


@action("removeSecurityGroup", "os_compute_api:os-security-groups:remove")
def _remove_security_group(ctx, instance, body):
    args = validation.validate(schemas.REMOVE_SECURITY_GROUP, body)["removeSecurityGroup"]
    server_security.remove_security_group(handler.runtime(), ctx, instance,
                                          args["name"].strip())
    return accepted()


@action("addFloatingIp", "os_compute_api:os-floating-ips:add", max_version="2.44")
def _add_floating_ip(ctx, instance, body):
    args = validation.validate(schemas.ADD_FLOATING_IP, body)["addFloatingIp"]
    server_security.add_floating_ip(handler.runtime(), ctx, instance, args["address"],
                                    args.get("fixed_address"))
    return accepted()


@action("removeFloatingIp", "os_compute_api:os-floating-ips:remove", max_version="2.44")
def _remove_floating_ip(ctx, instance, body):
    address = validation.validate(schemas.REMOVE_FLOATING_IP, body)["removeFloatingIp"][
        "address"]
    server_security.remove_floating_ip(handler.runtime(), ctx, instance, address)
    return accepted()


@bp.get("/v2.1/servers/<server_id>/os-security-groups")
def list_server_security_groups(server_id: str):
    _, instance = server_access.load("os_compute_api:os-security-groups:list", server_id)
    rt = handler.runtime()
    groups = server_security.security_groups(rt, instance)
    return {"security_groups": server_security.security_groups_view(rt, groups)}
