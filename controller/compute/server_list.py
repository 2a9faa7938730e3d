"""Listing servers with Nova's filters, sorting and limit/marker paging, in SQL.

Paging first selects only the ordered IDs (cheap, whatever the sort keys), finds the
marker among them, then loads the full rows of one page. The marker row is selected
even when the filters no longer match it (a server deleted between two pages), so a
client following next links never gets "marker not found" for a server it was shown.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from common.context import RequestContext
from controller import exceptions
from controller.compute import server_addresses, servers, states
from controller.db.models.servers import Instance, InstanceTag
from controller.runtime import Runtime

# Nova's valid sort keys -> columns; its ignored keys are dropped silently.
SORT_COLUMNS = {
    "access_ip_v4": Instance.access_ip_v4, "access_ip_v6": Instance.access_ip_v6,
    "availability_zone": Instance.availability_zone, "config_drive": Instance.config_drive,
    "created_at": Instance.created_at, "display_description": Instance.display_description,
    "display_name": Instance.display_name, "host": Instance.host,
    "hostname": Instance.hostname, "image_ref": Instance.image_ref,
    "key_name": Instance.key_name, "launch_index": Instance.launch_index,
    "launched_at": Instance.launched_at, "locked_by": Instance.locked_by,
    "node": Instance.node, "power_state": Instance.power_state,
    "progress": Instance.progress, "project_id": Instance.project_id,
    "task_state": Instance.task_state, "terminated_at": Instance.terminated_at,
    "updated_at": Instance.updated_at, "user_id": Instance.user_id, "uuid": Instance.uuid,
    "vm_state": Instance.vm_state,
}
IGNORED_SORT_KEYS = frozenset((
    "architecture", "cell_name", "cleaned", "default_ephemeral_device",
    "default_swap_device", "deleted", "deleted_at", "disable_terminate", "ephemeral_gb",
    "ephemeral_key_uuid", "id", "key_data", "launched_on", "locked", "memory_mb",
    "os_type", "reservation_id", "root_gb", "shutdown_terminate", "user_data", "vcpus",
    "vm_mode", "auto_disk_config", "instance_type_id", "kernel_id", "ramdisk_id",
    "root_device_name"))
ADMIN_SORT_KEYS = frozenset(("host", "node"))


@dataclasses.dataclass
class ListQuery:
    """What to list. project_id None lists every project (an admin's all_tenants)."""

    project_id: str | None
    name: str | None = None
    statuses: list[str] = dataclasses.field(default_factory=list)
    image: str | None = None
    flavor: str | None = None
    changes_since: datetime.datetime | None = None
    reservation_id: str | None = None
    deleted: bool | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    tags_any: list[str] = dataclasses.field(default_factory=list)
    not_tags: list[str] = dataclasses.field(default_factory=list)
    not_tags_any: list[str] = dataclasses.field(default_factory=list)
    ip: str | None = None  # a fixed IPv4 address containing this (Nova: ip_address_substr)
    ip6: str | None = None
    # Admin-only filters (the handler drops them for everyone else).
    exact: dict[str, str] = dataclasses.field(default_factory=dict)
    sort: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    limit: int | None = None
    marker: str | None = None


def _tag_exists(tag: str) -> sa.ColumnElement[bool]:
    return sa.exists(sa.select(InstanceTag.tag).where(
        InstanceTag.instance_uuid == Instance.uuid, InstanceTag.tag == tag))


def conditions(ctx: RequestContext, query: ListQuery) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses for query.

    :raises BadRequest: an invalid name regex. :raises Forbidden: a non-admin asks for
        deleted servers.
    """
    where: list[sa.ColumnElement[bool]] = []
    if query.project_id is not None:
        where.append(Instance.project_id == query.project_id)
    deleted = query.deleted
    if query.statuses:
        vm_states, tasks = states.status_filter(query.statuses)
        if states.DELETED in vm_states:
            if not ctx.is_admin:
                raise exceptions.Forbidden("Only administrators may list deleted instances")
            deleted = True
        where.append(Instance.vm_state.in_(sorted(vm_states)))
        if tasks is not None:
            where.append(Instance.task_state.in_(sorted(t for t in tasks if t)))
    if deleted is not None:
        where.append(Instance.deleted.is_(deleted))
    elif query.changes_since is None:
        where.append(Instance.deleted.is_(False))
    if query.changes_since is not None:
        where.append(Instance.updated_at >= query.changes_since)
    if query.name:
        try:
            re.compile(query.name)
        except re.error as exc:
            raise exceptions.BadRequest(f"Invalid regular expression for name: {exc}") \
                from exc
        where.append(Instance.display_name.regexp_match(query.name))
    if query.image:
        where.append(Instance.image_ref == query.image.rstrip("/").rsplit("/", 1)[-1])
    if query.flavor:
        where.append(Instance.flavor_id == query.flavor.rstrip("/").rsplit("/", 1)[-1])
    if query.reservation_id:
        where.append(Instance.reservation_id == query.reservation_id)
    where.extend(_tags(query))
    if query.ip:
        where.append(server_addresses.ip_condition(query.ip, 4))
    if query.ip6:
        where.append(server_addresses.ip_condition(query.ip6, 6))
    for key, value in query.exact.items():
        where.append(getattr(Instance, key) == value)
    return where


def _tags(query: ListQuery) -> list[sa.ColumnElement[bool]]:
    where = [_tag_exists(tag) for tag in query.tags]
    if query.tags_any:
        where.append(sa.or_(*[_tag_exists(tag) for tag in query.tags_any]))
    if query.not_tags:
        where.append(sa.not_(sa.and_(*[_tag_exists(tag) for tag in query.not_tags])))
    if query.not_tags_any:
        where.append(sa.not_(sa.or_(*[_tag_exists(tag) for tag in query.not_tags_any])))
    return where


def order(ctx: RequestContext, sort: list[tuple[str, str]]) -> list[sa.ColumnElement]:
    """ORDER BY for Nova's sort keys; uuid breaks ties so pages are stable.

    :raises BadRequest: an unknown key or direction. :raises Forbidden: a non-admin
        sorting by host or node.
    """
    clauses = []
    used = set()
    for key, direction in sort or [("created_at", "desc")]:
        if key in IGNORED_SORT_KEYS:
            continue
        if key not in SORT_COLUMNS:
            raise exceptions.BadRequest(f"Invalid sort key {key[:64]}.")
        if key in ADMIN_SORT_KEYS and not ctx.is_admin:
            raise exceptions.Forbidden(f"Only administrators can sort servers by {key}")
        if direction not in ("asc", "desc"):
            raise exceptions.BadRequest(f"Invalid sort direction {direction[:64]}.")
        column = SORT_COLUMNS[key]
        clauses.append(column.desc() if direction == "desc" else column.asc())
        used.add(key)
    if "uuid" not in used:
        last = sort[-1][1] if sort else "desc"
        clauses.append(Instance.uuid.desc() if last == "desc" else Instance.uuid.asc())
    return clauses


def list_(rt: Runtime, ctx: RequestContext, query: ListQuery) -> tuple[list[Instance], bool]:
    """One page of servers matching query, and whether more follow.

    :raises BadRequest: bad filter, sort or marker ("marker [x] not found").
    """
    where = conditions(ctx, query)
    matching = sa.and_(sa.true(), *where)
    selector = matching
    if query.marker is not None:
        marker_row = sa.and_(Instance.uuid == query.marker, servers.visible_condition(ctx))
        selector = sa.or_(matching, marker_row)
    ids_query = sa.select(Instance.uuid, matching.label("match")).where(selector) \
        .order_by(*order(ctx, query.sort))
    try:
        with rt.db.session() as session:
            ids = session.execute(ids_query).all()
            start = 0
            if query.marker is not None:
                position = next((i for i, row in enumerate(ids)
                                 if row.uuid == query.marker), None)
                if position is None:
                    raise exceptions.BadRequest(f"marker [{query.marker[:64]}] not found")
                start = position + 1
            following = [row.uuid for row in ids[start:] if row.match]
            page = following if query.limit is None else following[:query.limit]
            more = len(following) > len(page)
            rows = {row.uuid: row for row in session.scalars(
                sa.select(Instance).where(Instance.uuid.in_(page)))} if page else {}
    except (sa_exc.DataError, sa_exc.ProgrammingError, sa_exc.OperationalError) as exc:
        # PostgreSQL's regex dialect rejects some patterns Python accepts.
        if query.name:
            raise exceptions.BadRequest(f"Invalid regular expression for name "
                                        f"{query.name[:64]!r}.") from exc
        raise
    return [rows[uuid] for uuid in page if uuid in rows], more
