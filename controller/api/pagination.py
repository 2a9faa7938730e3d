"""limit/marker pagination with `next` links, and sort_key/sort_dir, for list APIs."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import flask

from controller import exceptions

T = TypeVar("T")


def limit_arg(max_limit: int = 1000) -> int | None:
    raw = flask.request.args.get("limit")
    if raw is None:
        return None
    try:
        limit = int(raw)
    except ValueError as exc:
        raise exceptions.BadRequest(f"limit must be an integer, not {raw!r}.") from exc
    if limit < 0:
        raise exceptions.BadRequest("limit must be zero or positive.")
    return min(limit, max_limit)


def sort_args(allowed: Sequence[str], default: str = "created_at") -> list[tuple[str, str]]:
    """[(key, 'asc'|'desc')] from repeated sort_key/sort_dir or Glance-style sort=k:dir."""
    keys = flask.request.args.getlist("sort_key")
    dirs = flask.request.args.getlist("sort_dir")
    for item in ",".join(flask.request.args.getlist("sort")).split(","):
        if item:
            key, _, direction = item.partition(":")
            keys.append(key)
            dirs.append(direction or "asc")
    result = []
    for index, key in enumerate(keys or [default]):
        direction = dirs[index] if index < len(dirs) else (dirs[-1] if dirs else "desc")
        if key not in allowed:
            raise exceptions.BadRequest(f"Unsupported sort key {key!r}; use one of "
                                        f"{', '.join(sorted(allowed))}.")
        if direction not in ("asc", "desc"):
            raise exceptions.BadRequest(f"Sort direction must be asc or desc, not {direction!r}.")
        result.append((key, direction))
    return result


def page(items: list[T], limit: int | None, marker: str | None,
         ident: Callable[[T], str]) -> tuple[list[T], bool]:
    """The items after marker, at most limit of them, and whether more follow.

    :raises BadRequest: marker names no item in the list.
    """
    start = 0
    if marker is not None:
        for index, item in enumerate(items):
            if ident(item) == marker:
                start = index + 1
                break
        else:
            raise exceptions.BadRequest(f"Marker {marker} could not be found.")
    end = len(items) if limit is None else start + limit
    return items[start:end], end < len(items)


def next_link(last_id: str) -> str:
    """The URL of the next page: this request's URL with marker set to last_id."""
    args = flask.request.args.to_dict(flat=False)
    args["marker"] = [last_id]
    query = urllib.parse.urlencode(args, doseq=True)
    return f"{flask.request.base_url}?{query}"


def links(items: list[Any], more: bool, ident: Callable[[Any], str]) -> list[dict[str, str]]:
    """Nova-style `<collection>_links`: a single `next` link when more items follow."""
    if not more or not items:
        return []
    return [{"rel": "next", "href": next_link(ident(items[-1]))}]
