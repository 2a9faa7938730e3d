"""POST /servers/{id}/action: one action per body, dispatched by its key.

Other handler modules (consoles) register their actions here with :func:`action`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask

from common.context import RequestContext
from controller import exceptions
from controller.api import compute, handler, validation
from controller.api.compute import bp, server_access
from controller.api.compute.schemas import servers as schemas
from controller.compute import server_actions, server_create

Handler = Callable[[RequestContext, Any, dict], Any]
# key -> (policy rule, minimum microversion or None, maximum or None, handler)
_ACTIONS: dict[str, tuple[str, str | None, str | None, Handler]] = {}


def action(key: str, rule: str, min_version: str | None = None,
           max_version: str | None = None) -> Callable[[Handler], Handler]:
    """Register fn as the handler of action key (served between the microversions)."""
    def register(fn: Handler) -> Handler:
        _ACTIONS[key] = (rule, min_version, max_version, fn)
        return fn
    return register


def accepted() -> flask.Response:
    return flask.Response(status=202)


@bp.post("/v2.1/servers/<server_id>/action")
def server_action(server_id: str):
    body = validation.json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise exceptions.BadRequest("The action body must be an object with exactly one "
                                    "action name as its key.")
    key = next(iter(body))
    entry = _ACTIONS.get(key)
    if entry is None:
        raise exceptions.BadRequest(f"There is no such action: {key[:64]}")
    rule, min_version, max_version, fn = entry
    if (min_version and not compute.at_least(min_version)) or (
            max_version and compute.at_least(max_version)):
        raise exceptions.NotFound(f"The action {key} is not available at microversion "
                                  f"{compute.version()}.")
    ctx, instance = server_access.load(rule, server_id)
    return fn(ctx, instance, body)


def _simple(key: str, rule: str, service_action: str) -> None:
    def run(ctx: RequestContext, instance: Any, body: dict) -> flask.Response:
        validation.validate(schemas.NO_BODY, body[key])
        server_actions.power(handler.runtime(), ctx, instance, service_action)
        return accepted()
    action(key, rule)(run)


for _key, _rule, _service_action in (
        ("os-stop", "os_compute_api:servers:stop", "stop"),
        ("os-start", "os_compute_api:servers:start", "start"),
        ("pause", "os_compute_api:os-pause-server:pause", "pause"),
        ("unpause", "os_compute_api:os-pause-server:unpause", "unpause"),
        ("suspend", "os_compute_api:os-suspend-server:suspend", "suspend"),
        ("resume", "os_compute_api:os-suspend-server:resume", "resume")):
    _simple(_key, _rule, _service_action)


@action("reboot", "os_compute_api:servers:reboot")
def _reboot(ctx, instance, body):
    kind = validation.validate(schemas.REBOOT, body)["reboot"]["type"].upper()
    server_actions.power(handler.runtime(), ctx, instance,
                         "reboot_hard" if kind == "HARD" else "reboot_soft")
    return accepted()


@action("rebuild", "os_compute_api:servers:rebuild")
def _rebuild(ctx, instance, body):
    args = validation.validate(schemas.rebuild(compute.at_least), body)["rebuild"]
    if args.get("personality"):
        raise exceptions.BadRequest("Personality files are not supported by this cloud; "
                                    "pass files through user_data or the config drive.")
    names = {"name": "display_name", "description": "display_description",
             "accessIPv4": "access_ip_v4", "accessIPv6": "access_ip_v6",
             "OS-DCF:diskConfig": "disk_config", "key_name": "key_name",
             "user_data": "user_data"}
    changes = {column: args[key] for key, column in names.items() if key in args}
    rebuilt = server_actions.rebuild(handler.runtime(), ctx, instance, args["imageRef"],
                                     changes, args.get("metadata"))
    view = server_access.render(ctx, rebuilt, full=False)
    admin_pass = server_create.admin_password(handler.runtime(), args.get("adminPass"))
    if admin_pass is not None:
        view["server"]["adminPass"] = admin_pass
    return view, 202


@action("resize", "os_compute_api:servers:resize")
def _resize(ctx, instance, body):
    args = validation.validate(schemas.RESIZE, body)["resize"]
    server_actions.resize(handler.runtime(), ctx, instance, args["flavorRef"],
                          args.get("OS-DCF:diskConfig"))
    return accepted()


@action("confirmResize", "os_compute_api:servers:confirm_resize")
def _confirm_resize(ctx, instance, body):
    validation.validate(schemas.NO_BODY, body["confirmResize"])
    server_actions.confirm_resize(handler.runtime(), ctx, instance)
    return handler.no_content()


@action("revertResize", "os_compute_api:servers:revert_resize")
def _revert_resize(ctx, instance, body):
    validation.validate(schemas.NO_BODY, body["revertResize"])
    server_actions.revert_resize(handler.runtime(), ctx, instance)
    return accepted()


@action("createImage", "os_compute_api:servers:create_image")
def _create_image(ctx, instance, body):
    args = validation.validate(schemas.CREATE_IMAGE, body)["createImage"]
    image_id = server_actions.create_image(handler.runtime(), ctx, instance, args["name"],
                                           args.get("metadata") or {})
    if compute.at_least("2.45"):
        return {"image_id": image_id}, 202
    response = accepted()
    public = handler.runtime().conf.api.public_endpoint.rstrip("/")
    response.headers["Location"] = f"{public}/image/v2/images/{image_id}"
    return response


@action("lock", "os_compute_api:os-lock-server:lock")
def _lock(ctx, instance, body):
    # Below 2.73 Nova ignores whatever the body holds (locked_reason included).
    validation.validate(schemas.NO_BODY, body["lock"])
    server_actions.lock(handler.runtime(), ctx, instance)
    return accepted()


@action("unlock", "os_compute_api:os-lock-server:unlock")
def _unlock(ctx, instance, body):
    validation.validate(schemas.NO_BODY, body["unlock"])
    if not server_actions.expected_locker(ctx, instance):
        handler.authorize("os_compute_api:os-lock-server:unlock:unlock_override",
                          server_access.target(instance))
    server_actions.unlock(handler.runtime(), ctx, instance)
    return accepted()


@action("os-resetState", "os_compute_api:os-admin-actions:reset_state")
def _reset_state(ctx, instance, body):
    state = validation.validate(schemas.RESET_STATE, body)["os-resetState"]["state"]
    server_actions.reset_state(handler.runtime(), ctx, instance, state)
    return accepted()

