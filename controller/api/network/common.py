"""What every Network API handler shares: bodies, policy (with Neutron's attribute
rules), and Neutron-style listing (filters, fields, sorting, pagination)."""

from __future__ import annotations

from typing import Any

import flask

from common.context import RequestContext
from controller import exceptions
from controller.api import auth, handler, pagination, validation
from controller.network import exceptions as exc
from controller.network import policies

RESERVED = {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"}
TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off")


def body(schema: dict[str, Any], key: str | None) -> dict[str, Any]:
    """The validated `key` object of the request body (the whole body for None).

    :raises InvalidInput: malformed JSON or a body the schema refuses.
    """
    try:
        document = validation.body(schema)
        return document if key is None else document[key]
    except exceptions.RequestEntityTooLarge:
        raise
    except exceptions.BadRequest as error:
        raise exc.InvalidInput(error.message) from error


def context() -> RequestContext:
    """:raises Unauthorized:"""
    return auth.require_context()


def authorize(rule: str, target: dict[str, Any] | None = None,
              attributes: dict[str, Any] | None = None) -> RequestContext:
    """Check rule, then `<rule>:<attribute>` (and `:<attribute>:<key>`) for each attribute
    in attributes that has a rule of its own, as Neutron does.

    :raises Unauthorized: :raises PolicyNotAuthorized:
    """
    ctx = context()
    full = {"project_id": ctx.project_id, **(target or {})}
    names = [rule]
    for name, value in (attributes or {}).items():
        names.append(f"{rule}:{name}")
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                names.extend(f"{rule}:{name}:{key}" for key in item)
    for name in dict.fromkeys(names):
        if name in policies.NAMES and not handler.allowed(ctx, name, full):
            raise exc.PolicyNotAuthorized(f"({name}) is disallowed by policy")
    return ctx


def owner_of(ctx: RequestContext, values: dict[str, Any]) -> str | None:
    return values.get("project_id") or values.get("tenant_id") or ctx.project_id


def filters() -> dict[str, list[str]]:
    """The query's attribute filters: {attribute: [accepted values]}."""
    args = flask.request.args
    return {key: args.getlist(key) for key in args if key not in RESERVED}


def _matches(value: Any, wanted: list[str]) -> bool:
    if isinstance(value, bool):
        return any(w.lower() in (TRUE if value else FALSE) for w in wanted)
    if value is None:
        return any(w in ("", "None", "null") for w in wanted)
    if isinstance(value, list):
        return any(str(v) in wanted for v in value if not isinstance(v, dict))
    return str(value) in wanted


def _fixed_ips_match(value: list[dict[str, Any]], wanted: list[str]) -> bool:
    """?fixed_ips=ip_address=10.0.0.5&fixed_ips=subnet_id=<id>, as the CLI sends it."""
    criteria: dict[str, set[str]] = {}
    for item in wanted:
        key, _, val = item.partition("=")
        criteria.setdefault(key, set()).add(val)
    for fixed in value:
        ok = True
        for key, vals in criteria.items():
            if key == "ip_address_substr":
                ok &= any(v in fixed["ip_address"] for v in vals)
            else:
                ok &= str(fixed.get(key)) in vals
        if ok:
            return True
    return False


def apply_filters(items: list[dict[str, Any]],
                  query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Keep items matching every filter (a filter on an attribute the resource does not
    have is ignored, as Neutron without filter validation does)."""
    result = []
    for item in items:
        ok = True
        for key, wanted in query.items():
            if key not in item:
                continue
            if key == "fixed_ips":
                ok = _fixed_ips_match(item[key], wanted)
            else:
                ok = _matches(item[key], wanted)
            if not ok:
                break
        if ok:
            result.append(item)
    return result


def select_fields(item: dict[str, Any]) -> dict[str, Any]:
    wanted = [f for value in flask.request.args.getlist("fields") for f in value.split(",")
              if f]
    if not wanted:
        return item
    return {key: item[key] for key in wanted if key in item}


def _sort(items: list[dict[str, Any]], ident: str) -> list[dict[str, Any]]:
    keys = flask.request.args.getlist("sort_key")
    dirs = flask.request.args.getlist("sort_dir")
    if not keys:
        return items
    for key in keys:
        if items and key not in items[0]:
            raise exc.InvalidInput(f"Invalid input for operation: {key} is an invalid "
                                   "attribute for sort_key.")
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise exc.InvalidInput(f"Invalid input for operation: sort_dir {direction!r} "
                                   "must be asc or desc.")
    ordered = sorted(items, key=lambda i: str(i.get(ident)))
    for index in reversed(range(len(keys))):
        direction = dirs[index] if index < len(dirs) else "asc"
        ordered.sort(key=lambda i, k=keys[index]: (i.get(k) is not None, _key(i.get(k))),
                     reverse=direction == "desc")
    return ordered


def _key(value: Any) -> Any:
    return value if isinstance(value, (int, float, str)) else str(value)


def listing(collection: str, items: list[dict[str, Any]], ident: str = "id") -> dict[str, Any]:
    """{collection: [...], collection_links?} after filters, sort, page and fields;
    ident names the attribute markers refer to.

    :raises InvalidInput / BadRequest: a bad sort key, limit or marker.
    """
    items = _sort(apply_filters(items, filters()), ident)
    limit = pagination.limit_arg()
    marker = flask.request.args.get("marker")
    result: dict[str, Any] = {}
    if limit or marker:
        items, more = pagination.page(items, limit or None, marker, lambda i: i[ident])
        links = pagination.links(items, more, lambda i: i[ident])
        if links:
            result[f"{collection}_links"] = links
    return {collection: [select_fields(i) for i in items], **result}


def show(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {key: select_fields(item)}


def no_content() -> flask.Response:
    return flask.Response(status=204)

