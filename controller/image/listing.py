"""GET /v2/images: filters, sorting and marker pagination over what the caller may see."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.models.image import Image, ImageProperty, ImageTag
from controller.image import access
from controller.runtime import Runtime

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id",
             "created_at", "updated_at")
# Filters on these columns accept one value or Glance's `in:a,b,c`.
COLUMN_FILTERS = ("id", "name", "status", "disk_format", "container_format", "owner")
TIME_OPERATORS = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__",
                  "eq": "__eq__", "neq": "__ne__"}


@dataclasses.dataclass
class ListQuery:
    """A parsed image-list request; the API layer builds it from the query string."""

    limit: int
    marker: str | None = None
    sort: list[tuple[str, str]] = dataclasses.field(
        default_factory=lambda: [("created_at", "desc")])
    member_status: str = "accepted"
    visibility: str | None = None
    os_hidden: bool = False
    protected: bool | None = None
    size_min: int | None = None
    size_max: int | None = None
    columns: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    times: list[tuple[str, str, datetime.datetime]] = dataclasses.field(default_factory=list)
    tags: list[str] = dataclasses.field(default_factory=list)
    properties: dict[str, str] = dataclasses.field(default_factory=dict)


def _conditions(ctx: RequestContext, query: ListQuery) -> list[Any]:
    conditions: list[Any] = [
        access.list_condition(ctx, query.member_status, query.visibility),
        Image.os_hidden.is_(query.os_hidden),
    ]
    if query.protected is not None:
        conditions.append(Image.protected.is_(query.protected))
    if query.size_min is not None:
        conditions.append(Image.size >= query.size_min)
    if query.size_max is not None:
        conditions.append(Image.size <= query.size_max)
    for column, values in query.columns.items():
        conditions.append(getattr(Image, column).in_(values))
    for column, operator, moment in query.times:
        conditions.append(getattr(getattr(Image, column), TIME_OPERATORS[operator])(moment))
    for tag in query.tags:
        conditions.append(sa.select(ImageTag.image_id).where(
            ImageTag.image_id == Image.id, ImageTag.value == tag).exists())
    for name, value in query.properties.items():
        conditions.append(sa.select(ImageProperty.image_id).where(
            ImageProperty.image_id == Image.id, ImageProperty.name == name,
            ImageProperty.value == value).exists())
    return conditions


def _order(sort: list[tuple[str, str]]) -> list[Any]:
    order = []
    for key, direction in sort:
        column = getattr(Image, key)
        order.append(column.asc() if direction == "asc" else column.desc())
    # The ID breaks ties so that pages never repeat or skip an image.
    last = sort[-1][1] if sort else "desc"
    order.append(Image.id.asc() if last == "asc" else Image.id.desc())
    return order


def list_(rt: Runtime, ctx: RequestContext, query: ListQuery) -> tuple[list[Image], bool]:
    """One page of the images ctx may see that match query, and whether more follow.

    Only IDs are read for the whole result; the page's rows are loaded afterwards,
    so long lists cost one narrow scan.

    :raises BadRequest: the marker names no image in the result.
    """
    with rt.db.session() as session:
        ids = list(session.scalars(
            sa.select(Image.id).where(*_conditions(ctx, query)).order_by(*_order(query.sort))))
        start = 0
        if query.marker is not None:
            try:
                start = ids.index(query.marker) + 1
            except ValueError:
                raise exceptions.BadRequest(
                    f"No image found with ID {query.marker[:100]}") from None
        page_ids = ids[start:start + query.limit]
        rows = {image.id: image for image in session.scalars(
            sa.select(Image).where(Image.id.in_(page_ids)))} if page_ids else {}
        return [rows[i] for i in page_ids if i in rows], start + query.limit < len(ids)
