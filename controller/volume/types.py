"""Volume types: named sets of extra specs (``volume_backend_name`` picks the backend),
public or shared with chosen projects."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.volume import (
    Volume,
    VolumeType,
    VolumeTypeExtraSpec,
    VolumeTypeProject,
)
from controller.runtime import Runtime
from controller.volume import errors, store

DEFAULT_NAME = "__DEFAULT__"
_SPEC_KEY = re.compile(r"^[\w.:\- ]{1,255}$")


def _can_use(vtype: VolumeType, ctx: RequestContext) -> bool:
    return vtype.is_public or ctx.is_admin or any(
        p.project_id == ctx.project_id for p in vtype.projects)


def find(session: orm.Session, ctx: RequestContext, ref: str) -> VolumeType | None:
    row = session.get(VolumeType, ref) if len(ref) <= 36 else None
    if row is None:
        row = session.scalars(sa.select(VolumeType).where(VolumeType.name == ref)).first()
    return row if row is not None and _can_use(row, ctx) else None


def get(rt: Runtime, ctx: RequestContext, type_id: str) -> VolumeType:
    """The type with ID (or, as Cinder also accepts, name) type_id.

    :raises NotFound: no such type, or a private one ctx's project may not use.
    """
    with rt.db.session() as session:
        row = find(session, ctx, type_id)
    if row is None:
        raise errors.type_not_found(type_id)
    return row


def resolve(session: orm.Session, rt: Runtime, ctx: RequestContext,
            ref: str | None) -> VolumeType:
    """The type a volume create names (by name or ID), else the configured default.

    :raises NotFound: no such type visible to ctx.
    """
    if ref is None:
        ref = rt.conf.volume.default_volume_type
    row = find(session, ctx, ref)
    if row is None and ref == DEFAULT_NAME:
        row = VolumeType(id=store.new_id(), name=DEFAULT_NAME,
                         description="Default Volume Type", is_public=True)
        row.extra_specs, row.projects = [], []
        session.add(row)
        session.flush()
    if row is None:
        raise errors.type_name_not_found(ref)
    return row


def list_(rt: Runtime, ctx: RequestContext, is_public: bool | None = True,
          extra_specs: dict[str, str] | None = None) -> list[VolumeType]:
    """Types ctx may see. is_public True: public ones (plus, for non-admins, the private
    ones shared with their project); False: private ones; None: all."""
    with rt.db.session() as session:
        rows = list(session.scalars(sa.select(VolumeType).order_by(VolumeType.name)))
    result = []
    for row in rows:
        if not _can_use(row, ctx):
            continue
        if is_public is not None and ctx.is_admin and row.is_public != is_public:
            continue
        if is_public is False and not ctx.is_admin and row.is_public:
            continue
        if extra_specs and any(row.specs.get(k) != v for k, v in extra_specs.items()):
            continue
        result.append(row)
    return result


def create(rt: Runtime, ctx: RequestContext, name: str, description: str | None = None,
           is_public: bool = True, extra_specs: dict[str, str] | None = None) -> VolumeType:
    """:raises Conflict: the name is taken. :raises BadRequest: bad extra spec keys."""
    _check_name(name)
    specs = _check_specs(extra_specs or {})
    row = VolumeType(id=store.new_id(), name=name, description=description,
                     is_public=is_public, created_at=utcnow())
    row.extra_specs = [VolumeTypeExtraSpec(key=k, value=v) for k, v in specs.items()]
    row.projects = []
    try:
        with rt.db.session() as session:
            if session.scalars(sa.select(VolumeType.id).where(VolumeType.name == name)).first():
                raise exceptions.Conflict(f"Volume Type {name} already exists.")
            session.add(row)
    except sa_exc.IntegrityError as exc:
        raise exceptions.Conflict(f"Volume Type {name} already exists.") from exc
    rt.notify(ctx, "volume_type.create", {"volume_types": {"id": row.id, "name": name}})
    return row


def update(rt: Runtime, ctx: RequestContext, type_id: str, values: dict[str, Any]) -> VolumeType:
    """Change name, description or is_public.

    :raises NotFound: no such type. :raises Conflict: the new name is taken.
    :raises BadRequest: renaming the default type.
    """
    try:
        with rt.db.session() as session:
            row = _require(session, ctx, type_id)
            if "name" in values and values["name"] != row.name:
                _check_name(values["name"])
                if row.name == rt.conf.volume.default_volume_type:
                    raise errors.InvalidVolumeType("The default volume type cannot be "
                                                   "renamed.")
                if session.scalars(sa.select(VolumeType.id).where(
                        VolumeType.name == values["name"])).first():
                    raise exceptions.Conflict(f"Volume Type {values['name']} already exists.")
            for key in ("name", "description", "is_public"):
                if key in values:
                    setattr(row, key, values[key])
            row.updated_at = utcnow()
    except sa_exc.IntegrityError as exc:
        raise exceptions.Conflict(f"Volume Type {values.get('name')} already exists.") from exc
    return row


def delete(rt: Runtime, ctx: RequestContext, type_id: str) -> None:
    """:raises NotFound: no such type. :raises BadRequest: the default type, or a type
    live volumes still have."""
    with rt.db.session() as session:
        row = _require(session, ctx, type_id)
        if row.name == rt.conf.volume.default_volume_type:
            raise exceptions.BadRequest("Default volume type can not be deleted.")
        if session.scalars(sa.select(Volume.id).where(Volume.volume_type_id == row.id,
                                                      Volume.deleted.is_(False))).first():
            raise errors.InvalidVolumeType(f"Volume Type {row.id} deletion is not allowed "
                                           "with volumes present with the type.")
        session.execute(sa.update(Volume).where(Volume.volume_type_id == row.id).values(
            volume_type_id=_default_id(session, rt, ctx)))
        session.delete(row)
    rt.notify(ctx, "volume_type.delete", {"volume_types": {"id": type_id}})


def _default_id(session: orm.Session, rt: Runtime, ctx: RequestContext) -> str:
    # Deleted volumes keep pointing at a type; move them to the default one.
    return resolve(session, rt, ctx, None).id


def _require(session: orm.Session, ctx: RequestContext, type_id: str) -> VolumeType:
    row = find(session, ctx, type_id)
    if row is None:
        raise errors.type_not_found(type_id)
    return row


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise errors.InvalidVolumeType("Volume type name must be a string of 1 to 255 "
                                       "characters and not blank.")


def _check_specs(specs: dict[str, Any]) -> dict[str, str]:
    for key, value in specs.items():
        if not _SPEC_KEY.match(key):
            raise errors.InvalidInput(f"Invalid extra spec key {key!r}: use 1 to 255 "
                                      "letters, digits, '_', '-', '.', ':' or spaces.")
        if isinstance(value, bool):
            specs[key] = str(value)
        elif not isinstance(value, str) or len(value) > 255:
            raise errors.InvalidInput(f"Value for extra spec {key!r} must be a string of at "
                                      "most 255 characters.")
    return specs


# ------------------------------------------------------------------ extra specs
def extra_specs(rt: Runtime, ctx: RequestContext, type_id: str) -> dict[str, str]:
    return get(rt, ctx, type_id).specs


def set_extra_specs(rt: Runtime, ctx: RequestContext, type_id: str,
                    specs: dict[str, Any]) -> dict[str, str]:
    """Add or change extra specs; return the ones given.

    :raises NotFound: no such type. :raises BadRequest: a bad key or value.
    """
    specs = _check_specs(dict(specs))
    with rt.db.session() as session:
        row = _require(session, ctx, type_id)
        current = {spec.key: spec for spec in row.extra_specs}
        for key, value in specs.items():
            if key in current:
                current[key].value = value
            else:
                row.extra_specs.append(VolumeTypeExtraSpec(key=key, value=value))
        row.updated_at = utcnow()
    return specs


def delete_extra_spec(rt: Runtime, ctx: RequestContext, type_id: str, key: str) -> None:
    """:raises NotFound: no such type, or it has no spec key."""
    with rt.db.session() as session:
        row = _require(session, ctx, type_id)
        spec = next((s for s in row.extra_specs if s.key == key), None)
        if spec is None:
            raise exceptions.NotFound(f"Volume Type {type_id} has no extra specs with key "
                                      f"{key}.")
        row.extra_specs.remove(spec)


# ------------------------------------------------------------------ project access
def access_list(rt: Runtime, ctx: RequestContext, type_id: str) -> list[str]:
    """Projects a private type is shared with.

    :raises NotFound: no such type, or it is public (Cinder's answer).
    """
    row = get(rt, ctx, type_id)
    if row.is_public:
        raise exceptions.NotFound("Access list not available for public volume types.")
    return sorted(p.project_id for p in row.projects)


def add_access(rt: Runtime, ctx: RequestContext, type_id: str, project_id: str) -> None:
    """:raises Conflict: already shared. :raises BadRequest: the type is public."""
    with rt.db.session() as session:
        row = _require(session, ctx, type_id)
        if row.is_public:
            raise errors.InvalidVolumeType("Type access modification is not applicable to "
                                           "public volume type.")
        if any(p.project_id == project_id for p in row.projects):
            raise exceptions.Conflict(f"Volume type access for {type_id} / {project_id} "
                                      "combination already exists.")
        row.projects.append(VolumeTypeProject(project_id=project_id))


def remove_access(rt: Runtime, ctx: RequestContext, type_id: str, project_id: str) -> None:
    """:raises NotFound: the type is not shared with project_id."""
    with rt.db.session() as session:
        row = _require(session, ctx, type_id)
        grant = next((p for p in row.projects if p.project_id == project_id), None)
        if grant is None:
            raise exceptions.NotFound(f"Volume type access not found for {type_id} / "
                                      f"{project_id} combination.")
        row.projects.remove(grant)
