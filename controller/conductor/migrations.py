"""Migration rows (one per resize): create, find, move along their statuses."""

from __future__ import annotations

import uuid as uuidlib

import sqlalchemy as sa

from controller.db.models.servers import Instance, Migration
from controller.runtime import Runtime

# Nova's migration statuses, one line per allowed move.
STATUS_MOVES: dict[str, frozenset[str]] = {
    "pre-migrating": frozenset({"migrating", "error"}),
    "migrating": frozenset({"post-migrating", "finished", "error"}),
    "post-migrating": frozenset({"finished", "error"}),
    # finished -> confirmed directly: the server left VERIFY_RESIZE another way.
    "finished": frozenset({"confirming", "reverting", "confirmed", "error"}),
    "confirming": frozenset({"confirmed", "finished", "error"}),
    "reverting": frozenset({"reverted", "finished", "error"}),
    "confirmed": frozenset(),
    "reverted": frozenset(),
    "error": frozenset(),
}


def create(rt: Runtime, row: Instance, new_flavor_id: str) -> str:
    """A pre-migrating resize of row on its own host; returns the migration uuid."""
    migration = Migration(uuid=str(uuidlib.uuid4()), instance_uuid=row.uuid,
                          migration_type="resize", source_compute=row.host,
                          dest_compute=row.host, source_node=row.node, dest_node=row.node,
                          old_flavor_id=row.flavor_id, new_flavor_id=new_flavor_id,
                          status="pre-migrating", project_id=row.project_id,
                          user_id=row.user_id)
    with rt.db.session() as session:
        session.add(migration)
    return migration.uuid


def get(rt: Runtime, migration_uuid: str) -> Migration | None:
    with rt.db.session() as session:
        return session.scalars(sa.select(Migration).where(
            Migration.uuid == migration_uuid)).first()


def latest(rt: Runtime, instance_uuid: str, *statuses: str) -> Migration | None:
    """The instance's newest migration in one of statuses (e.g. the finished one a
    confirm or revert acts on)."""
    with rt.db.session() as session:
        return session.scalars(sa.select(Migration).where(
            Migration.instance_uuid == instance_uuid, Migration.status.in_(statuses))
            .order_by(Migration.id.desc())).first()


def set_status(rt: Runtime, migration_uuid: str, status: str) -> bool:
    """Move the migration to status if STATUS_MOVES allows it from where it is.

    Returns False (and changes nothing) when it is not allowed, e.g. a repeated report.
    """
    allowed_from = [old for old, targets in STATUS_MOVES.items() if status in targets]
    with rt.db.session() as session:
        result = session.execute(
            sa.update(Migration).where(Migration.uuid == migration_uuid,
                                       Migration.status.in_(allowed_from))
            .values(status=status).execution_options(synchronize_session=False))
        return result.rowcount == 1


def of_instance(rt: Runtime, instance_uuid: str) -> list[str]:
    """uuids of every migration of the instance."""
    with rt.db.session() as session:
        return list(session.scalars(sa.select(Migration.uuid).where(
            Migration.instance_uuid == instance_uuid)))
