"""/os-services: list; enable, disable, disable-log-reason, force-down (below 2.53);
PUT /os-services/{uuid} (2.53+); DELETE. Ids are integers below 2.53, uuids from it."""

from __future__ import annotations

import uuid
from typing import Any

import flask

from controller import exceptions
from controller.api import compute, handler, validation
from controller.api.compute import bp
from controller.compute import compute_services

_HOST_BINARY = {"host": {"type": "string", "minLength": 1, "maxLength": 255},
                "binary": {"type": "string", "minLength": 1, "maxLength": 255}}
_REASON = {"type": "string", "minLength": 1, "maxLength": 255,
           "pattern": r"^[^\x00-\x1f]*$"}


def _legacy(extra: dict[str, Any] | None = None, required: list[str] | None = None):
    return {"type": "object", "additionalProperties": False,
            "required": ["host", "binary", *(required or [])],
            "properties": {**_HOST_BINARY, **(extra or {})}}


_ENABLE = _legacy()
_DISABLE_REASON = _legacy({"disabled_reason": _REASON}, ["disabled_reason"])
_FORCE_DOWN = _legacy({"forced_down": {"type": "boolean"}}, ["forced_down"])
_UPDATE_253 = {"type": "object", "additionalProperties": False, "minProperties": 1,
               "properties": {"status": {"type": "string", "enum": ["enabled", "disabled"]},
                              "disabled_reason": _REASON,
                              "forced_down": {"type": "boolean"}}}


def _view(service: compute_services.ServiceView) -> dict[str, Any]:
    row = service.row
    view: dict[str, Any] = {
        "id": row.uuid if compute.at_least("2.53") else row.id, "binary": row.binary,
        "disabled_reason": row.disabled_reason, "host": row.host, "state":
        "up" if service.up else "down", "status": "disabled" if row.disabled else "enabled",
        "updated_at": row.last_seen_at.isoformat() if row.last_seen_at else None,
        "zone": service.zone}
    if compute.at_least("2.11"):
        view["forced_down"] = row.forced_down
    return view


@bp.get("/v2.1/os-services")
def list_services():
    handler.authorize("os_compute_api:os-services:list")
    args = flask.request.args
    rows = compute_services.list_(handler.runtime(), host=args.get("host"),
                                  binary=args.get("binary"))
    return {"services": [_view(row) for row in rows]}


def _legacy_update(action: str):
    ctx = handler.authorize("os_compute_api:os-services:update")
    if compute.at_least("2.53") or (action == "force-down" and not compute.at_least("2.11")):
        raise exceptions.NotFound("The resource could not be found.")
    schema = {"enable": _ENABLE, "disable": _ENABLE, "disable-log-reason": _DISABLE_REASON,
              "force-down": _FORCE_DOWN}[action]
    args = validation.body(schema)
    rt = handler.runtime()
    found = compute_services.find(rt, args["host"], args["binary"])
    answer = {"host": args["host"], "binary": args["binary"]}
    if action == "force-down":
        compute_services.update(rt, ctx, found.row.id, forced_down=args["forced_down"])
        answer["forced_down"] = args["forced_down"]
        return {"service": answer}
    disabled = action != "enable"
    compute_services.update(rt, ctx, found.row.id, disabled=disabled,
                            reason=args.get("disabled_reason"))
    answer["status"] = "disabled" if disabled else "enabled"
    if action == "disable-log-reason":
        answer["disabled_reason"] = args["disabled_reason"]
    return {"service": answer}


@bp.put("/v2.1/os-services/<service_id>")
def update_service(service_id: str):
    if service_id in ("enable", "disable", "disable-log-reason", "force-down"):
        return _legacy_update(service_id)
    ctx = handler.authorize("os_compute_api:os-services:update")
    if not compute.at_least("2.53"):
        raise exceptions.NotFound("The resource could not be found.")
    rt = handler.runtime()
    service = compute_services.get(rt, _uuid(service_id), by_uuid=True)
    args = validation.body(_UPDATE_253)
    if service.row.binary != compute_services.COMPUTE_BINARY:
        raise exceptions.BadRequest(f"Updating a {service.row.binary} service is not "
                                    f"supported. Only {compute_services.COMPUTE_BINARY} "
                                    "services can be updated.")
    status = args.get("status")
    if "disabled_reason" in args and status != "disabled":
        raise exceptions.BadRequest("Specifying 'disabled_reason' with status other than "
                                    "'disabled' is invalid.")
    disabled = None if status is None else status == "disabled"
    updated = compute_services.update(rt, ctx, service.row.id, disabled=disabled,
                                      reason=args.get("disabled_reason"),
                                      forced_down=args.get("forced_down"))
    return {"service": _view(updated)}


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise exceptions.BadRequest(f"Invalid uuid {value[:64]}") from exc


@bp.delete("/v2.1/os-services/<service_id>")
def delete_service(service_id: str):
    ctx = handler.authorize("os_compute_api:os-services:delete")
    rt = handler.runtime()
    if compute.at_least("2.53"):
        service = compute_services.get(rt, _uuid(service_id), by_uuid=True)
    else:
        if not service_id.isdecimal():
            raise exceptions.BadRequest(f"Invalid service id {service_id[:64]}; an integer "
                                        "is required below microversion 2.53.")
        service = compute_services.get(rt, service_id, by_uuid=False)
    compute_services.delete(rt, ctx, service.row.id)
    return handler.no_content()
