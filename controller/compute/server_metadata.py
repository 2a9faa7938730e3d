"""Server metadata (``openstack server set --property``) and tags (microversion 2.26).

Both change only while the server is in a stable state, as Nova allows; metadata also
honours the lock. Each change runs in one transaction holding the server's row, so the
state check and the write cannot be separated by a concurrent action.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.compute import actions, quotas, servers, states
from controller.db.base import utcnow
from controller.db.models.servers import Instance, InstanceMetadata, InstanceTag
from controller.runtime import Runtime

ANY_TASK = frozenset({None, *states.BUILD_STATES, *states.SOFT_REBOOT_STATES,
                      *states.HARD_REBOOT_STATES, *states.RESIZE_STATES,
                      *states.SNAPSHOT_STATES, states.POWERING_OFF, states.POWERING_ON,
                      states.PAUSING, states.UNPAUSING, states.SUSPENDING, states.RESUMING,
                      states.REBUILDING, states.REBUILD_SPAWNING, states.RESIZE_REVERTING,
                      states.RESIZE_CONFIRMING, states.DELETING})
METADATA_RULE = states.Action(frozenset({states.ACTIVE, states.PAUSED, states.SUSPENDED,
                                         states.STOPPED}), ANY_TASK, None)
TAGS_RULE = states.Action(frozenset({states.ACTIVE, states.PAUSED, states.SUSPENDED,
                                     states.STOPPED, states.SHELVED,
                                     states.SHELVED_OFFLOADED}), ANY_TASK, None)
MAX_TAGS = 50


def _locked_row(session: orm.Session, ctx: RequestContext, server_id: str, action: str,
                rule: states.Action, check_lock: bool) -> Instance:
    row = session.scalars(sa.select(Instance).where(
        Instance.uuid == server_id, Instance.deleted.is_(False),
        servers.visible_condition(ctx)).with_for_update()).first()
    if row is None:
        raise servers.not_found(server_id)
    if check_lock and row.locked and not ctx.is_admin:
        raise actions.locked_error(row.uuid)
    actions.check(action, rule, row.uuid, row.vm_state, row.task_state)
    return row


def get_metadata(instance: Instance) -> dict[str, str]:
    return {item.key: item.value for item in instance.metadata_items}


def set_metadata(rt: Runtime, ctx: RequestContext, server_id: str,
                 metadata: dict[str, str], replace: bool) -> dict[str, str]:
    """Merge metadata into the server's (or replace it all); return the result.

    :raises OverQuota: more than metadata_items. :raises Conflict: state or lock.
    """
    with rt.db.session() as session:
        row = _locked_row(session, ctx, server_id, "update_instance_metadata",
                          METADATA_RULE, True)
        current = {} if replace else get_metadata(row)
        current.update(metadata)
        quotas.check_metadata(rt, row.project_id, len(current))
        existing = {item.key: item for item in row.metadata_items}
        kept = []
        for key, value in current.items():
            item = existing.get(key) or InstanceMetadata(instance_uuid=row.uuid, key=key)
            item.value = value
            kept.append(item)
        row.metadata_items = kept
        row.updated_at = utcnow()
        payload = servers.payload(row)
    rt.notify(ctx, "instance.update", payload)
    return current


def delete_metadata_item(rt: Runtime, ctx: RequestContext, server_id: str, key: str) -> None:
    """:raises NotFound: no such key. :raises Conflict: state or lock."""
    with rt.db.session() as session:
        row = _locked_row(session, ctx, server_id, "delete_instance_metadata",
                          METADATA_RULE, True)
        item = next((i for i in row.metadata_items if i.key == key), None)
        if item is None:
            raise exceptions.NotFound("Metadata item was not found")
        row.metadata_items.remove(item)
        row.updated_at = utcnow()


def get_tags(instance: Instance) -> list[str]:
    return sorted(tag.tag for tag in instance.tags)


def set_tags(rt: Runtime, ctx: RequestContext, server_id: str, tags: list[str],
             replace: bool) -> tuple[list[str], bool]:
    """Replace the tags, or add to them; return them and whether anything was added.

    :raises BadRequest: over MAX_TAGS. :raises Conflict: state.
    """
    with rt.db.session() as session:
        row = _locked_row(session, ctx, server_id, "update tag", TAGS_RULE, False)
        existing = {tag.tag: tag for tag in row.tags}
        wanted = set(tags) if replace else set(existing) | set(tags)
        if len(wanted) > MAX_TAGS:
            raise exceptions.BadRequest(f"The number of tags exceeded the per-server limit "
                                        f"{MAX_TAGS}")
        added = bool(wanted - set(existing))
        row.tags = [existing.get(tag) or InstanceTag(instance_uuid=row.uuid, tag=tag)
                    for tag in sorted(wanted)]
        row.updated_at = utcnow()
        return sorted(wanted), added


def delete_tags(rt: Runtime, ctx: RequestContext, server_id: str,
                tag: str | None = None) -> None:
    """Remove one tag (or all when tag is None). :raises NotFound: no such tag."""
    with rt.db.session() as session:
        row = _locked_row(session, ctx, server_id, "delete tag", TAGS_RULE, False)
        if tag is None:
            row.tags = []
        else:
            found = next((t for t in row.tags if t.tag == tag), None)
            if found is None:
                raise exceptions.NotFound(f"Tag {tag[:60]} could not be found.")
            row.tags.remove(found)
        row.updated_at = utcnow()


def replace_all(session: orm.Session, instance_uuid: str, metadata: dict[str, str]) -> None:
    """Make the server's metadata exactly metadata (in the caller's transaction)."""
    session.execute(sa.delete(InstanceMetadata).where(
        InstanceMetadata.instance_uuid == instance_uuid))
    session.add_all(InstanceMetadata(instance_uuid=instance_uuid, key=str(key),
                                     value=str(value)) for key, value in metadata.items())
