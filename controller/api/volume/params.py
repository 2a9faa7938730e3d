"""Query parameters of the block storage list requests, parsed into listing.Query."""

from __future__ import annotations

import ast
import json
from typing import Any

import flask

from controller import exceptions
from controller.api import handler, pagination, validation, volume
from controller.volume import listing

# Parameters that steer a listing rather than filter it.
CONTROL = ("limit", "marker", "offset", "sort", "sort_key", "sort_dir", "with_count",
           "all_tenants")
DICT_FILTERS = ("metadata", "glance_metadata")


def dict_filter(name: str, raw: str) -> dict[str, Any]:
    """Cinder's dict-valued filters: metadata={'k': 'v'} (a Python literal) or JSON."""
    try:
        value = json.loads(raw)
    except ValueError:
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
            raise exceptions.BadRequest(f"Invalid filter {name}={raw!r}: use a dictionary "
                                        "such as {\"key\": \"value\"}.") from exc
    if not isinstance(value, dict):
        raise exceptions.BadRequest(f"Invalid filter {name}={raw!r}: use a dictionary such "
                                    "as {\"key\": \"value\"}.")
    return value


def _sort() -> list[tuple[str, str]]:
    keys = flask.request.args.getlist("sort_key")
    dirs = flask.request.args.getlist("sort_dir")
    for item in ",".join(flask.request.args.getlist("sort")).split(","):
        if item.strip():
            key, _, direction = item.strip().partition(":")
            keys.append(key)
            dirs.append(direction or "desc")
    result = []
    for index, key in enumerate(keys):
        direction = (dirs[index] if index < len(dirs) else (dirs[-1] if dirs else "desc"))
        direction = direction.lower()
        if direction not in ("asc", "desc"):
            raise exceptions.BadRequest(f"Invalid sort direction {direction!r}: use asc or "
                                        "desc.")
        result.append((key, direction))
    return result


def list_query(ignore: tuple[str, ...] = ()) -> listing.Query:
    """The listing this request asks for (filters, sort, limit, marker, offset)."""
    args = flask.request.args
    limit = pagination.limit_arg(handler.runtime().conf.volume.osapi_max_limit)
    offset_text = args.get("offset", "0")
    if not offset_text.isdecimal():
        raise exceptions.BadRequest(f"offset must be a non-negative integer, not "
                                    f"{offset_text!r}.")
    filters: dict[str, Any] = {}
    for name, value in args.items():
        if name in CONTROL or name in ignore:
            continue
        filters[name] = dict_filter(name, value) if name in DICT_FILTERS else value
    if not volume.at_least("3.34"):
        like = [name for name in filters if name.endswith("~")]
        if like:
            raise exceptions.BadRequest(f"Invalid filters {', '.join(like)}: 'like' filters "
                                        "need microversion 3.34.")
    return listing.Query(filters=filters, sort=_sort(), limit=limit,
                         marker=args.get("marker"), offset=int(offset_text),
                         all_projects=bool(validation.bool_arg("all_tenants")))


def with_count() -> bool:
    """Whether the client asked for the total count (3.45)."""
    return volume.at_least("3.45") and bool(validation.bool_arg("with_count"))
