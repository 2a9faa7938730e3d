"""Flavors: server sizes, their extra specs, and which projects may use private ones.

Everyone sees public flavors; a private flavor is visible to admins and to the projects
on its access list. Only admins create, change or delete flavors (policy, in the API).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.compute import Flavor, FlavorExtraSpec, FlavorProject
from controller.runtime import Runtime

SORT_KEYS = {"flavorid": Flavor.id, "id": Flavor.id, "name": Flavor.name,
             "memory_mb": Flavor.memory_mb, "vcpus": Flavor.vcpus, "root_gb": Flavor.root_gb,
             "ephemeral_gb": Flavor.ephemeral_gb, "swap": Flavor.swap,
             "rxtx_factor": Flavor.rxtx_factor, "created_at": Flavor.created_at}


@dataclasses.dataclass
class ListFilters:
    """is_public: True (public plus those shared with the caller), False, or None (all)."""

    is_public: bool | None = True
    min_ram: int | None = None
    min_disk: int | None = None
    sort_key: str = "flavorid"
    sort_dir: str = "asc"


def can_see(ctx: RequestContext, flavor: Flavor) -> bool:
    """Whether ctx may see flavor: public, admin, or on its access list."""
    return flavor.is_public or ctx.is_admin or any(
        access.project_id == ctx.project_id for access in flavor.projects)


def _visible(session: orm.Session, ctx: RequestContext, flavor_id: str,
             lock: bool = False) -> Flavor:
    flavor = session.get(Flavor, flavor_id, with_for_update=lock) \
        if isinstance(flavor_id, str) and len(flavor_id) <= 255 else None
    if flavor is None or not can_see(ctx, flavor):
        raise exceptions.NotFound(f"Flavor {flavor_id} could not be found.")
    return flavor


def list_(rt: Runtime, ctx: RequestContext, filters: ListFilters) -> list[Flavor]:
    """The flavors ctx may see that match filters, in Nova's semantics.

    A non-admin always gets public flavors plus private ones shared with its project;
    an admin gets exactly what is_public asks for (True also adds its shared ones).
    """
    is_public = filters.is_public if ctx.is_admin else True
    query = sa.select(Flavor).where(Flavor.disabled.is_(False))
    if is_public is not None:
        condition = Flavor.is_public.is_(is_public)
        if is_public and ctx.project_id:
            condition = sa.or_(condition, Flavor.projects.any(
                FlavorProject.project_id == ctx.project_id))
        query = query.where(condition)
    if filters.min_ram is not None:
        query = query.where(Flavor.memory_mb >= filters.min_ram)
    if filters.min_disk is not None:
        query = query.where(Flavor.root_gb >= filters.min_disk)
    column = SORT_KEYS[filters.sort_key]
    order = column.desc() if filters.sort_dir == "desc" else column.asc()
    with rt.db.session() as session:
        return list(session.scalars(query.order_by(order, Flavor.id.asc())))


def get(rt: Runtime, ctx: RequestContext, flavor_id: str) -> Flavor:
    """:raises NotFound: no such flavor, or ctx may not see it."""
    with rt.db.session() as session:
        return _visible(session, ctx, flavor_id)


def create(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> Flavor:
    """A new flavor from validated values (keys as the Flavor columns; id optional).

    :raises Conflict: the name or ID is taken.
    """
    flavor_id = values.get("id") or str(uuid.uuid4())
    now = utcnow()
    with rt.db.session() as session:
        if session.get(Flavor, flavor_id) is not None:
            raise exceptions.Conflict(f"Flavor with ID {flavor_id} already exists.")
        if session.scalar(sa.select(Flavor.id).where(Flavor.name == values["name"])):
            raise exceptions.Conflict(f"Flavor with name {values['name']} already exists.")
        flavor = Flavor(**{**values, "id": flavor_id}, disabled=False, created_at=now,
                        updated_at=now, extra_specs=[], projects=[])
        session.add(flavor)
    rt.notify(ctx, "flavor.create", {"flavorid": flavor_id, "name": flavor.name})
    return flavor


def update_description(rt: Runtime, ctx: RequestContext, flavor_id: str,
                       description: str | None) -> Flavor:
    with rt.db.session() as session:
        flavor = _visible(session, ctx, flavor_id, lock=True)
        flavor.description, flavor.updated_at = description, utcnow()
    rt.notify(ctx, "flavor.update", {"flavorid": flavor_id})
    return flavor


def delete(rt: Runtime, ctx: RequestContext, flavor_id: str) -> None:
    with rt.db.session() as session:
        session.delete(_visible(session, ctx, flavor_id, lock=True))
    rt.notify(ctx, "flavor.delete", {"flavorid": flavor_id})


def extra_specs(rt: Runtime, ctx: RequestContext, flavor_id: str) -> dict[str, str]:
    return {spec.key: spec.value for spec in get(rt, ctx, flavor_id).extra_specs}


def extra_spec(rt: Runtime, ctx: RequestContext, flavor_id: str, key: str) -> str:
    """:raises NotFound: the flavor has no extra spec key."""
    specs = extra_specs(rt, ctx, flavor_id)
    if key not in specs:
        raise exceptions.NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
    return specs[key]


def set_extra_specs(rt: Runtime, ctx: RequestContext, flavor_id: str,
                    specs: dict[str, str]) -> dict[str, str]:
    """Add or overwrite specs on the flavor; return the specs given."""
    with rt.db.session() as session:
        flavor = _visible(session, ctx, flavor_id, lock=True)
        current = {spec.key: spec for spec in flavor.extra_specs}
        for key, value in specs.items():
            if key in current:
                current[key].value = value
            else:
                flavor.extra_specs.append(FlavorExtraSpec(key=key, value=value))
        flavor.updated_at = utcnow()
    return specs


def delete_extra_spec(rt: Runtime, ctx: RequestContext, flavor_id: str, key: str) -> None:
    """:raises NotFound: the flavor has no extra spec key."""
    with rt.db.session() as session:
        flavor = _visible(session, ctx, flavor_id, lock=True)
        spec = next((spec for spec in flavor.extra_specs if spec.key == key), None)
        if spec is None:
            raise exceptions.NotFound(
                f"Flavor {flavor_id} has no extra specs with key {key}.")
        flavor.extra_specs.remove(spec)


def access_list(rt: Runtime, ctx: RequestContext, flavor_id: str) -> list[str]:
    """The projects a private flavor is shared with. :raises NotFound: a public flavor."""
    flavor = get(rt, ctx, flavor_id)
    if flavor.is_public:
        raise exceptions.NotFound("Access list not available for public flavors.")
    return sorted(access.project_id for access in flavor.projects)


def add_access(rt: Runtime, ctx: RequestContext, flavor_id: str, project_id: str) -> list[str]:
    """:raises Conflict: a public flavor, or the project already has access."""
    with rt.db.session() as session:
        flavor = _visible(session, ctx, flavor_id, lock=True)
        if flavor.is_public:
            raise exceptions.Conflict("Can not add access to a public flavor.")
        if any(access.project_id == project_id for access in flavor.projects):
            raise exceptions.Conflict(f"Flavor access already exists for flavor {flavor_id} "
                                      f"and project {project_id} combination.")
        flavor.projects.append(FlavorProject(project_id=project_id))
    return access_list(rt, ctx, flavor_id)


def remove_access(rt: Runtime, ctx: RequestContext, flavor_id: str,
                  project_id: str) -> list[str]:
    """:raises NotFound: the project has no access to the flavor."""
    with rt.db.session() as session:
        flavor = _visible(session, ctx, flavor_id, lock=True)
        access = next((a for a in flavor.projects if a.project_id == project_id), None)
        if access is None:
            raise exceptions.NotFound(f"Flavor access not found for {flavor_id} / "
                                      f"{project_id} combination.")
        flavor.projects.remove(access)
    return access_list(rt, ctx, flavor_id)
