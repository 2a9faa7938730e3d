"""Volume metadata: the user's key/value pairs (255 characters each at most)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.volume import Volume, VolumeMetadata
from controller.runtime import Runtime
from controller.volume import errors, states, store


def check(items: dict[str, Any]) -> dict[str, str]:
    """items, if every key and value is a string Cinder accepts.

    :raises InvalidInput: a key or value is not a string of the right length.
    """
    for key, value in items.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 255:
            raise errors.InvalidInput("Metadata keys must be strings of 1 to 255 characters.")
        if not isinstance(value, str) or len(value) > 255:
            raise errors.InvalidInput(f"Metadata value for {key!r} must be a string of at "
                                      "most 255 characters.")
    return items


def replace_all(session: orm.Session, row: Volume, items: dict[str, Any]) -> None:
    """Make row's metadata exactly items (in the caller's transaction)."""
    store.sync_items(row.metadata_items, check(items), VolumeMetadata)


def get(rt: Runtime, ctx: RequestContext, volume_id: str) -> dict[str, str]:
    """:raises NotFound: no such volume."""
    with rt.db.session() as session:
        return store.volume(session, ctx, volume_id).metadata_dict


def set_items(rt: Runtime, ctx: RequestContext, volume_id: str, items: dict[str, Any],
              replace: bool = False) -> dict[str, str]:
    """Merge items into the volume's metadata (or replace it); return the result.

    :raises NotFound: no such volume. :raises BadRequest: bad keys or values.
    """
    items = check(dict(items))
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "update", row.id, row.status)
        merged = {} if replace else row.metadata_dict
        merged.update(items)
        replace_all(session, row, merged)
        row.updated_at = utcnow()
    return merged


def delete_item(rt: Runtime, ctx: RequestContext, volume_id: str, key: str) -> None:
    """:raises NotFound: no such volume, or it has no metadata key."""
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "update", row.id, row.status)
        result = session.execute(sa.delete(VolumeMetadata).where(
            VolumeMetadata.volume_id == row.id, VolumeMetadata.key == key))
        if result.rowcount == 0:
            raise exceptions.NotFound(f"Volume {volume_id} has no metadata with key {key}.")
        row.updated_at = utcnow()
