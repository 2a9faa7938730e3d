"""/servers: create, list (summary and detail), show, update, delete."""

from __future__ import annotations

import datetime

import flask

from common.context import RequestContext
from controller import exceptions
from controller.api import auth, compute, handler, pagination, validation
from controller.api.compute import bp, server_access, server_views
from controller.api.compute.schemas import servers as schemas
from controller.compute import server_create, server_list, servers, states

_TRUE = ("1", "t", "true", "on", "y", "yes")
_FALSE = ("0", "f", "false", "off", "n", "no")
# Filters only admins (servers:allow_all_filters) may use: query name -> column.
_ADMIN_EXACT = {"host": "host", "node": "node", "user_id": "user_id", "uuid": "uuid",
                "vm_state": "vm_state", "task_state": "task_state",
                "availability_zone": "availability_zone", "key_name": "key_name",
                "hostname": "hostname"}


def _as_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise exceptions.BadRequest(f"Unrecognized value '{value[:32]}', acceptable values are: "
                                f"'0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', "
                                f"'true', 'y', 'yes' (for {name})")


def _int(value: object, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise exceptions.BadRequest(f"Invalid value for {name}: {str(value)[:32]}") from exc


def _create_request(body: dict) -> server_create.CreateRequest:
    server = body["server"]
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    min_count = _int(server.get("min_count", 1), "min_count")
    max_count = _int(server["max_count"], "max_count") if "max_count" in server else None
    if min_count < 1 or (max_count is not None and max_count < 1):
        raise exceptions.BadRequest("min_count and max_count must be at least 1.")
    return server_create.CreateRequest(
        name=server["name"], flavor_ref=server["flavorRef"],
        image_ref=server.get("imageRef") or None, key_name=server.get("key_name"),
        user_data=server.get("user_data"), metadata=server.get("metadata") or {},
        availability_zone=server.get("availability_zone"), min_count=min_count,
        max_count=max_count,
        config_drive=_as_bool("config_drive", str(server.get("config_drive", False))),
        access_ip_v4=server.get("accessIPv4"), access_ip_v6=server.get("accessIPv6"),
        disk_config=server.get("OS-DCF:diskConfig"), description=server.get("description"),
        tags=list(server.get("tags") or []), networks=server.get("networks"),
        security_groups=[sg["name"] for sg in server.get("security_groups") or []
                         if sg.get("name")],
        block_device_mapping_v2=server.get("block_device_mapping_v2"),
        block_device_mapping=server.get("block_device_mapping"),
        personality=server.get("personality"), admin_pass=server.get("adminPass"),
        group=hints.get("group"), hints=dict(hints))


@bp.post("/v2.1/servers")
def create_server():
    ctx = handler.authorize("os_compute_api:servers:create")
    server_access.require_project(ctx)
    body = validation.body(schemas.create(compute.at_least))
    zone = body["server"].get("availability_zone") or ""
    if ":" in zone and zone.split(":", 1)[1]:
        handler.authorize("os_compute_api:servers:create:forced_host")
    result = server_create.create(handler.runtime(), ctx, _create_request(body))
    if _as_bool("return_reservation_id",
                str(body["server"].get("return_reservation_id", False))):
        return {"reservation_id": result.reservation_id}, 202
    first = result.instances[0]
    response = flask.jsonify({"server": server_views.created(first, result.admin_pass)})
    response.status_code = 202
    response.headers["Location"] = server_views.links("servers", first.uuid)[0]["href"]
    return response


def changes_since_arg() -> datetime.datetime | None:
    raw = flask.request.args.get("changes-since")
    if raw is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError as exc:
        raise exceptions.BadRequest(f"Invalid input for query parameters changes-since. "
                                    f"Value: {raw[:64]}. It is not a date-time.") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment


def _all_tenants() -> bool:
    args = flask.request.args
    if "all_tenants" not in args:
        return False
    value = args.get("all_tenants", "")
    return True if value == "" else _as_bool("all_tenants", value)


def _sort() -> list[tuple[str, str]]:
    keys = [key.strip() for key in flask.request.args.getlist("sort_key")]
    dirs = [direction.strip() for direction in flask.request.args.getlist("sort_dir")]
    if not keys:
        keys = ["created_at"]
    default = dirs[0] if dirs else "desc"
    return [(key, dirs[index] if index < len(dirs) else default)
            for index, key in enumerate(keys)]


def _split(name: str) -> list[str]:
    raw = flask.request.args.get(name)
    return [tag.strip() for tag in raw.split(",") if tag.strip()] if raw else []


def _list_query(ctx: RequestContext, detail: bool) -> server_list.ListQuery:
    args = flask.request.args
    listing = "detail" if detail else "index"
    project_id: str | None = server_access.require_project(ctx)
    if _all_tenants():
        handler.authorize(f"os_compute_api:servers:{listing}:get_all_tenants")
        # tenant_id is only honoured with all_tenants, as in Nova.
        project_id = args.get("project_id") or args.get("tenant_id") or None
    admin_filters = handler.allowed(ctx, "os_compute_api:servers:allow_all_filters")
    limit = pagination.limit_arg(handler.runtime().conf.compute_api.max_limit)
    query = server_list.ListQuery(
        project_id=project_id, name=args.get("name") or args.get("display_name"),
        statuses=[s for s in args.getlist("status") if s], image=args.get("image"),
        flavor=args.get("flavor"), changes_since=changes_since_arg(),
        reservation_id=args.get("reservation_id"), sort=_sort(),
        ip=(args.get("ip") or "")[:255] or None,
        ip6=(args.get("ip6") or "")[:255] if compute.at_least("2.5") or admin_filters
        else None,
        limit=handler.runtime().conf.compute_api.max_limit if limit is None else limit,
        marker=args.get("marker"))
    if compute.at_least("2.26"):
        query.tags, query.tags_any = _split("tags"), _split("tags-any")
        query.not_tags, query.not_tags_any = _split("not-tags"), _split("not-tags-any")
    if admin_filters:
        if "deleted" in args:
            query.deleted = _as_bool("deleted", args.get("deleted", ""))
        query.exact = {column: args[name][:255] for name, column in _ADMIN_EXACT.items()
                       if args.get(name)}
    return query


def _listing(detail: bool):
    ctx = handler.authorize(f"os_compute_api:servers:{'detail' if detail else 'index'}")
    query = _list_query(ctx, detail)
    if query.statuses and not states.status_filter(query.statuses)[0]:
        if compute.at_least("2.38"):
            raise exceptions.BadRequest("Invalid status value")
        return {"servers": []}
    rows, more = server_list.list_(handler.runtime(), ctx, query)
    if detail:
        opts = server_access.options(ctx)
        described = servers.describe(handler.runtime(), rows, with_host_status=opts.host_status)
        body = {"servers": [server_views.server(d, opts) for d in described]}
    else:
        body = {"servers": [server_views.summary(row) for row in rows]}
    links = pagination.links(rows, more, lambda row: row.uuid)
    if links:
        body["servers_links"] = links
    return body


@bp.get("/v2.1/servers")
def list_servers():
    return _listing(detail=False)


@bp.get("/v2.1/servers/detail")
def list_servers_detail():
    return _listing(detail=True)


@bp.get("/v2.1/servers/<server_id>")
def show_server(server_id: str):
    ctx, instance = server_access.load("os_compute_api:servers:show", server_id)
    return server_access.render(ctx, instance)


@bp.put("/v2.1/servers/<server_id>")
def update_server(server_id: str):
    ctx, instance = server_access.load("os_compute_api:servers:update", server_id)
    body = validation.body(schemas.update(compute.at_least))["server"]
    names = {"name": "display_name", "description": "display_description",
             "accessIPv4": "access_ip_v4", "accessIPv6": "access_ip_v6",
             "OS-DCF:diskConfig": "disk_config"}
    changes = {names[key]: value for key, value in body.items()}
    updated = servers.update(handler.runtime(), ctx, instance.uuid, changes)
    return server_access.render(ctx, updated, full=False)


@bp.delete("/v2.1/servers/<server_id>")
def delete_server(server_id: str):
    ctx, instance = server_access.load("os_compute_api:servers:delete", server_id)
    servers.delete(handler.runtime(), ctx, instance.uuid)
    return handler.no_content()


@bp.route("/v2.1/servers/detail", methods=["POST", "PUT", "DELETE"])
def servers_detail_not_allowed():
    auth.require_context()
    raise exceptions.MethodNotAllowed()
