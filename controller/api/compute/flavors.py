"""/flavors: list, show, create, delete, describe; extra specs; private flavor access."""

from __future__ import annotations

import flask

from controller import exceptions
from controller.api import compute, handler, pagination, validation
from controller.api.compute import bp, schemas, views
from controller.compute import flavors

_TRUE = {"true", "1", "on", "yes", "t", "y"}
_FALSE = {"false", "0", "off", "no", "f", "n"}


def _bool(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in _TRUE


def _int_arg(name: str) -> int | None:
    raw = flask.request.args.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise exceptions.BadRequest(f"Invalid {name} filter [{raw[:50]}]") from exc


def _is_public_arg() -> bool | None:
    raw = flask.request.args.get("is_public")
    if raw is None:
        return True
    if raw.lower() == "none":
        return None
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise exceptions.BadRequest(f"Invalid is_public filter [{raw[:50]}]")


def _listing(detail: bool):
    ctx = handler.authorize("os_compute_api:os-flavors:index")
    sort_key = flask.request.args.get("sort_key", "flavorid")
    sort_dir = flask.request.args.get("sort_dir", "asc")
    if sort_key not in flavors.SORT_KEYS or sort_dir not in ("asc", "desc"):
        raise exceptions.BadRequest(f"Invalid sort key or direction: {sort_key[:50]} "
                                    f"{sort_dir[:50]}")
    filters = flavors.ListFilters(is_public=_is_public_arg(), min_ram=_int_arg("minRam"),
                                  min_disk=_int_arg("minDisk"), sort_key=sort_key,
                                  sort_dir=sort_dir)
    rows = flavors.list_(handler.runtime(), ctx, filters)
    rows, more = pagination.page(rows, pagination.limit_arg(),
                                 flask.request.args.get("marker"), lambda row: row.id)
    render = views.flavor if detail else views.flavor_summary
    body = {"flavors": [render(row) for row in rows]}
    links = pagination.links(rows, more, lambda row: row.id)
    if links:
        body["flavors_links"] = links
    return body


@bp.get("/v2.1/flavors")
def list_flavors():
    return _listing(detail=False)


@bp.get("/v2.1/flavors/detail")
def list_flavors_detail():
    return _listing(detail=True)


@bp.get("/v2.1/flavors/<flavor_id>")
def show_flavor(flavor_id: str):
    ctx = handler.authorize("os_compute_api:os-flavors:show")
    return {"flavor": views.flavor(flavors.get(handler.runtime(), ctx, flavor_id))}


@bp.post("/v2.1/flavors")
def create_flavor():
    ctx = handler.authorize("os_compute_api:os-flavor-manage:create")
    with_description = compute.at_least("2.55")
    body = validation.body(schemas.FLAVOR_CREATE_255 if with_description
                           else schemas.FLAVOR_CREATE)["flavor"]
    try:
        values = {
            "name": body["name"], "memory_mb": int(body["ram"]), "vcpus": int(body["vcpus"]),
            "root_gb": int(body["disk"]),
            "ephemeral_gb": int(body.get("OS-FLV-EXT-DATA:ephemeral") or 0),
            "swap": int(body.get("swap") or 0),
            "rxtx_factor": float(body.get("rxtx_factor", 1.0)),
            "is_public": _bool(body.get("os-flavor-access:is_public", True)),
            "description": body.get("description"),
        }
    except ValueError as exc:
        raise exceptions.BadRequest(f"Invalid flavor: {exc}") from exc
    if values["memory_mb"] < 1 or values["vcpus"] < 1:
        raise exceptions.BadRequest("Invalid input: ram and vcpus must be at least 1.")
    if body.get("id") is not None:
        values["id"] = str(body["id"])
    return {"flavor": views.flavor(flavors.create(handler.runtime(), ctx, values))}


@bp.put("/v2.1/flavors/<flavor_id>")
def update_flavor(flavor_id: str):
    if not compute.at_least("2.55"):
        raise exceptions.NotFound("The resource could not be found.")
    ctx = handler.authorize("os_compute_api:os-flavor-manage:update")
    body = validation.body(schemas.FLAVOR_UPDATE)["flavor"]
    flavor = flavors.update_description(handler.runtime(), ctx, flavor_id,
                                        body["description"])
    return {"flavor": views.flavor(flavor)}


@bp.delete("/v2.1/flavors/<flavor_id>")
def delete_flavor(flavor_id: str):
    ctx = handler.authorize("os_compute_api:os-flavor-manage:delete")
    flavors.delete(handler.runtime(), ctx, flavor_id)
    return flask.Response(status=202)


def _spec_values(specs: dict) -> dict[str, str]:
    return {key: str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in specs.items()}


@bp.get("/v2.1/flavors/<flavor_id>/os-extra_specs")
def list_extra_specs(flavor_id: str):
    ctx = handler.authorize("os_compute_api:os-flavor-extra-specs:index")
    return {"extra_specs": flavors.extra_specs(handler.runtime(), ctx, flavor_id)}


@bp.post("/v2.1/flavors/<flavor_id>/os-extra_specs")
def create_extra_specs(flavor_id: str):
    ctx = handler.authorize("os_compute_api:os-flavor-extra-specs:create")
    specs = _spec_values(validation.body(schemas.EXTRA_SPECS_CREATE)["extra_specs"])
    return {"extra_specs": flavors.set_extra_specs(handler.runtime(), ctx, flavor_id, specs)}


@bp.get("/v2.1/flavors/<flavor_id>/os-extra_specs/<path:key>")
def show_extra_spec(flavor_id: str, key: str):
    ctx = handler.authorize("os_compute_api:os-flavor-extra-specs:show")
    return {key: flavors.extra_spec(handler.runtime(), ctx, flavor_id, key)}


@bp.put("/v2.1/flavors/<flavor_id>/os-extra_specs/<path:key>")
def update_extra_spec(flavor_id: str, key: str):
    ctx = handler.authorize("os_compute_api:os-flavor-extra-specs:update")
    specs = _spec_values(validation.body(schemas.EXTRA_SPEC_UPDATE))
    if key not in specs:
        raise exceptions.BadRequest("Request body and URI mismatch")
    return flavors.set_extra_specs(handler.runtime(), ctx, flavor_id, specs)


@bp.delete("/v2.1/flavors/<flavor_id>/os-extra_specs/<path:key>")
def delete_extra_spec(flavor_id: str, key: str):
    ctx = handler.authorize("os_compute_api:os-flavor-extra-specs:delete")
    flavors.delete_extra_spec(handler.runtime(), ctx, flavor_id, key)
    return flask.Response(status=202)


@bp.get("/v2.1/flavors/<flavor_id>/os-flavor-access")
def list_flavor_access(flavor_id: str):
    ctx = handler.authorize("os_compute_api:os-flavor-access")
    return views.flavor_access(flavor_id,
                               flavors.access_list(handler.runtime(), ctx, flavor_id))


@bp.post("/v2.1/flavors/<flavor_id>/action")
def flavor_action(flavor_id: str):
    body = validation.body(schemas.FLAVOR_ACTION)
    if "addTenantAccess" in body:
        ctx = handler.authorize("os_compute_api:os-flavor-access:add_tenant_access")
        projects = flavors.add_access(handler.runtime(), ctx, flavor_id,
                                      body["addTenantAccess"]["tenant"])
    else:
        ctx = handler.authorize("os_compute_api:os-flavor-access:remove_tenant_access")
        projects = flavors.remove_access(handler.runtime(), ctx, flavor_id,
                                         body["removeTenantAccess"]["tenant"])
    return views.flavor_access(flavor_id, projects)
