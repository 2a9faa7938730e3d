"""What every server handler starts with: find the server, check the policy against it,
and decide which optional attributes the caller may see."""

from __future__ import annotations

from typing import Any

from common.context import RequestContext
from controller import exceptions
from controller.api import auth, compute, handler
from controller.api.compute import server_views
from controller.compute import servers


def target(instance: Any) -> dict[str, Any]:
    """The policy target of a server: its project and user, as Nova passes them."""
    return {"project_id": instance.project_id, "user_id": instance.user_id}


def require_project(ctx: RequestContext) -> str:
    """The caller's project. :raises Forbidden: the token is not project-scoped."""
    if not ctx.project_id:
        raise exceptions.Forbidden("This request needs a project-scoped token: "
                                   "authenticate with a project (OS_PROJECT_NAME).")
    return ctx.project_id


def load(rule: str, server_id: str) -> tuple[RequestContext, Any]:
    """The caller and the server it may see, after checking rule against the server.

    :raises Unauthorized: no valid token. :raises NotFound: no such server (or another
        project's). :raises Forbidden: the policy says no.
    """
    ctx = auth.require_context()
    instance = servers.get(handler.runtime(), ctx, server_id)
    handler.authorize(rule, target(instance))
    return ctx, instance


def options(ctx: RequestContext) -> server_views.Options:
    """The optional attributes ctx may see at this microversion."""
    return server_views.Options(
        admin_attrs=handler.allowed(ctx, "os_compute_api:os-extended-server-attributes"),
        host_status=compute.at_least("2.16")
        and handler.allowed(ctx, "os_compute_api:servers:show:host_status"),
        extra_specs=compute.at_least("2.47")
        and handler.allowed(ctx, "os_compute_api:os-flavor-extra-specs:index"),
        is_admin=ctx.is_admin)


def render(ctx: RequestContext, instance: Any, full: bool = True) -> dict[str, Any]:
    """{"server": view} of one server for ctx."""
    opts = options(ctx)
    described = servers.describe(handler.runtime(), [instance],
                                 with_host_status=opts.host_status)[0]
    return {"server": server_views.server(described, opts, full=full)}
