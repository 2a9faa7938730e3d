"""List queries shared by volumes, snapshots, backups and attachments: filters (exact,
``~`` like from 3.34, time comparisons from 3.60, metadata), sorting, marker and offset."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.volume import errors

_TIME_OPS = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__",
             "eq": "__eq__", "neq": "__ne__"}


@dataclasses.dataclass
class Query:
    """A parsed list request."""

    filters: dict[str, Any] = dataclasses.field(default_factory=dict)
    sort: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    limit: int | None = None
    marker: str | None = None
    offset: int = 0
    all_projects: bool = False


def scope(query: sa.Select, model: Any, ctx: RequestContext, listing: Query) -> sa.Select:
    """Own project only, unless an administrator asks for all (or for one project)."""
    project = listing.filters.pop("project_id", None)
    if ctx.is_admin and listing.all_projects:
        return query.where(model.project_id == project) if project else query
    if ctx.is_admin and project:
        return query.where(model.project_id == project)
    return query.where(model.project_id == ctx.project_id)


def where(query: sa.Select, model: Any, filters: dict[str, Any],
          columns: dict[str, Any]) -> sa.Select:
    """query narrowed by the simple column filters (others are left in filters).

    :raises BadRequest: a filter value of the wrong kind.
    """
    for name in list(filters):
        like = name.endswith("~")
        column = columns.get(name.rstrip("~"))
        if column is None:
            continue
        value = filters.pop(name)
        if isinstance(column.type, sa.DateTime):
            query = query.where(_time_condition(column, name, value))
        elif isinstance(column.type, sa.Boolean):
            query = query.where(column.is_(_boolean(name, value)))
        elif isinstance(column.type, sa.Integer):
            query = query.where(column == _integer(name, value))
        elif like:
            escaped = str(value).replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
            query = query.where(column.like(f"%{escaped}%", escape="\\"))
        else:
            query = query.where(column == str(value))
    return query


def _time_condition(column: Any, name: str, value: Any) -> Any:
    operator, _, text = str(value).partition(":")
    if operator not in _TIME_OPS or not text:
        operator, text = "eq", str(value)
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise errors.InvalidInput(f"Invalid time filter {name}={value!r}: use "
                                  "[gt|gte|lt|lte|eq|neq:]ISO-8601-time.") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return getattr(column, _TIME_OPS[operator])(moment)


def _boolean(name: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "t", "yes", "y", "on"):
        return True
    if text in ("0", "false", "f", "no", "n", "off"):
        return False
    raise errors.InvalidInput(f"Invalid value {value!r} for filter {name}: use true or false.")


def _integer(name: str, value: Any) -> int:
    try:
        return int(str(value))
    except ValueError as exc:
        raise errors.InvalidInput(f"Invalid value {value!r} for filter {name}: use an "
                                  "integer.") from exc


def metadata_matches(have: dict[str, str], wanted: Any) -> bool:
    """Whether every wanted key/value is in have (Cinder's metadata filter)."""
    if not isinstance(wanted, dict):
        raise errors.InvalidInput("The metadata filter must be a dictionary, e.g. "
                                  "metadata={\"key\": \"value\"}.")
    return all(have.get(str(k)) == str(v) for k, v in wanted.items())


def order(query: sa.Select, sort: list[tuple[str, str]], columns: dict[str, Any],
          id_column: Any) -> sa.Select:
    """query sorted by the requested keys, then by ID so pages are stable.

    :raises BadRequest: a key that cannot be sorted by.
    """
    for key, direction in sort:
        column = columns.get(key)
        if column is None:
            raise errors.InvalidInput(f"Invalid sort key {key}: use one of "
                                      f"{', '.join(sorted(columns))}.")
        query = query.order_by(column.desc() if direction == "desc" else column.asc())
    last = sort[-1][1] if sort else "desc"
    return query.order_by(id_column.desc() if last == "desc" else id_column.asc())


def page(rows: list[Any], listing: Query, ident: Callable[[Any], str]) -> tuple[list[Any], bool]:
    """The rows after the marker and offset, at most limit of them, and whether more follow.

    :raises BadRequest: the marker names no row.
    """
    start = 0
    if listing.marker is not None:
        for index, row in enumerate(rows):
            if ident(row) == listing.marker:
                start = index + 1
                break
        else:
            raise exceptions.BadRequest(f"Marker {listing.marker} could not be found.")
    start += listing.offset
    end = len(rows) if listing.limit is None else start + listing.limit
    return rows[start:end], end < len(rows)
