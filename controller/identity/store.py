"""Row helpers the identity resource modules share: fetch-or-404, insert-or-409, filters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from controller import exceptions
from controller.identity import revision

T = TypeVar("T")


def get(session: orm.Session, model: type[T], ident: str, kind: str) -> T:
    """The row with primary key ident.

    :raises NotFound: no such row.
    """
    row = session.get(model, ident) if isinstance(ident, str) and len(ident) <= 255 else None
    if row is None:
        raise exceptions.not_found(kind, ident)
    return row


def insert(session: orm.Session, row: Any, conflict: str) -> Any:
    """Add row and flush, so a duplicate surfaces here as a 409 with conflict as message.

    :raises Conflict: a unique constraint was violated.
    """
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except sa_exc.IntegrityError as exc:
        raise exceptions.Conflict(conflict) from exc
    revision.bump(session)
    return row


def save(session: orm.Session, row: Any, conflict: str) -> Any:
    """Flush changes to an existing row; a duplicate name becomes a 409."""
    try:
        with session.begin_nested():
            session.flush()
    except sa_exc.IntegrityError as exc:
        raise exceptions.Conflict(conflict) from exc
    revision.bump(session)
    return row


def delete(session: orm.Session, row: Any) -> None:
    session.delete(row)
    session.flush()
    revision.bump(session)


def apply(row: Any, values: dict[str, Any], fields: Iterable[str]) -> None:
    """Copy the named fields present in values onto row."""
    for field in fields:
        if field in values:
            setattr(row, field, values[field])


def listing(session: orm.Session, model: type[T], filters: dict[str, Any],
            order_by: Any = None) -> list[T]:
    """Rows whose columns equal every non-None filter."""
    query = sa.select(model)
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(model, name) == value)
    query = query.order_by(order_by if order_by is not None else model.id)
    return list(session.scalars(query))


def exists(session: orm.Session, query: sa.Select) -> bool:
    return session.execute(query.limit(1)).first() is not None
