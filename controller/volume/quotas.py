"""Block storage quotas (service "volume"), with Cinder's resource names and messages.

Limits come from :mod:`controller.quotas` (admin overrides, else ``[volume_quota]``);
usage is counted from the live volumes, snapshots and backups, so it never drifts.
Besides the project-wide resources there are per-type ones (``volumes_<type>``,
``gigabytes_<type>``, ``snapshots_<type>``, unlimited by default), as Cinder shows them.

Counting has a race (two creates both see room for one); like Nova's counting quotas,
the creator re-checks after its row is written and backs out if the project went over.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller import quotas as quota_engine
from controller.db.models.volume import Backup, Snapshot, Volume, VolumeType
from controller.runtime import Runtime
from controller.volume import errors

SERVICE = "volume"
BASE = ("volumes", "snapshots", "gigabytes", "backups", "backup_gigabytes",
        "per_volume_gigabytes", "groups")
PER_TYPE = ("volumes", "gigabytes", "snapshots")


def _type_names(rt: Runtime) -> dict[str, str]:
    """{type id: type name} of every volume type."""
    with rt.db.session() as session:
        return dict(session.execute(sa.select(VolumeType.id, VolumeType.name)).all())


def defaults(rt: Runtime, names: dict[str, str] | None = None) -> dict[str, int]:
    """Every resource's default limit, the per-type ones included (names: the
    {type id: name} map when the caller has it already)."""
    values = {name: getattr(rt.conf.volume_quota, name) for name in BASE}
    for type_name in sorted((_type_names(rt) if names is None else names).values()):
        for resource in PER_TYPE:
            values[f"{resource}_{type_name}"] = quota_engine.UNLIMITED
    return values


def limits(rt: Runtime, project_id: str,
           names: dict[str, str] | None = None) -> dict[str, int]:
    return quota_engine.limits(rt, SERVICE, project_id, defaults(rt, names))


def usage(rt: Runtime, project_id: str,
          names: dict[str, str] | None = None) -> dict[str, int]:
    """What project_id uses now, for every resource."""
    names = _type_names(rt) if names is None else names
    used = dict.fromkeys(defaults(rt, names), 0)
    live_volumes = sa.and_(Volume.project_id == project_id, Volume.deleted.is_(False))
    live_snapshots = sa.and_(Snapshot.project_id == project_id, Snapshot.deleted.is_(False))
    with rt.db.session() as session:
        for type_id, count, size in session.execute(
                sa.select(Volume.volume_type_id, sa.func.count(), sa.func.sum(Volume.size))
                .where(live_volumes).group_by(Volume.volume_type_id)):
            _add(used, names.get(type_id), "volumes", count)
            _add(used, names.get(type_id), "gigabytes", size or 0)
        for type_id, count, size in session.execute(
                sa.select(Snapshot.volume_type_id, sa.func.count(), sa.func.sum(Snapshot.size))
                .where(live_snapshots).group_by(Snapshot.volume_type_id)):
            _add(used, names.get(type_id), "snapshots", count)
            _add(used, names.get(type_id), "gigabytes", size or 0)
        count, size = session.execute(
            sa.select(sa.func.count(), sa.func.sum(Backup.size)).where(
                Backup.project_id == project_id, Backup.deleted.is_(False))).one()
        used["backups"], used["backup_gigabytes"] = count, int(size or 0)
    return used


def _add(used: dict[str, int], type_name: str | None, resource: str, amount: int) -> None:
    used[resource] += int(amount)
    if type_name is not None:
        key = f"{resource}_{type_name}"
        used[key] = used.get(key, 0) + int(amount)


def _message(excess: quota_engine.Excess) -> str:
    name = excess.resource
    if name.startswith("gigabytes"):
        return (f"Requested volume or snapshot exceeds allowed {name} quota. Requested "
                f"{excess.requested}G, quota is {excess.limit}G and {excess.used}G has "
                "been consumed.")
    if name == "backup_gigabytes":
        return (f"Requested backup exceeds allowed Backup gigabytes quota. Requested "
                f"{excess.requested}G, quota is {excess.limit}G and {excess.used}G has "
                "been consumed.")
    kind = name.split("_")[0]
    return f"Maximum number of {kind} allowed ({excess.limit}) exceeded for quota '{name}'."


def check(rt: Runtime, project_id: str, requested: dict[str, int],
          size: int | None = None) -> None:
    """Refuse a request that would take project_id over a limit.

    :raises QuotaExceeded: (413) with Cinder's message for the first resource over.
    """
    names = _type_names(rt)
    project_limits = limits(rt, project_id, names)
    per_volume = project_limits["per_volume_gigabytes"]
    if size is not None and per_volume != quota_engine.UNLIMITED and size > per_volume:
        raise errors.QuotaExceeded(f"Requested volume size {size}G is larger than maximum "
                                   f"allowed limit {per_volume}G.")
    excess = quota_engine.over(requested, usage(rt, project_id, names), project_limits)
    if excess:
        raise errors.QuotaExceeded(_message(excess[0]))


def recheck(rt: Runtime, project_id: str, requested: dict[str, int]) -> None:
    """After writing a row: refuse if the project is now over a limit it asked for.

    :raises QuotaExceeded: a concurrent request took the room this one counted on.
    """
    names = _type_names(rt)
    used = usage(rt, project_id, names)
    project_limits = limits(rt, project_id, names)
    for name, amount in requested.items():
        limit = project_limits.get(name, quota_engine.UNLIMITED)
        if amount > 0 and limit != quota_engine.UNLIMITED and used.get(name, 0) > limit:
            raise errors.QuotaExceeded(_message(quota_engine.Excess(
                name, amount, used[name] - amount, limit)))


def for_volume(type_name: str, size: int, count: int = 1) -> dict[str, int]:
    """The resources a volume of size GiB and type type_name takes."""
    return {"volumes": count, f"volumes_{type_name}": count, "gigabytes": size,
            f"gigabytes_{type_name}": size}


def for_snapshot(type_name: str | None, size: int) -> dict[str, int]:
    requested = {"snapshots": 1, "gigabytes": size}
    if type_name:
        requested.update({f"snapshots_{type_name}": 1, f"gigabytes_{type_name}": size})
    return requested


# ------------------------------------------------------------------ quota-sets API
def show(rt: Runtime, ctx: RequestContext, project_id: str,
         with_usage: bool = False) -> dict[str, Any]:
    """The project's limits ({name: limit}), or {name: {limit, in_use, reserved}}."""
    project_limits = limits(rt, project_id)
    if not with_usage:
        return project_limits
    used = usage(rt, project_id)
    return {name: {"limit": limit, "in_use": used.get(name, 0), "reserved": 0}
            for name, limit in project_limits.items()}


def update(rt: Runtime, ctx: RequestContext, project_id: str,
           values: dict[str, Any]) -> dict[str, int]:
    """Set limits for project_id; return all of its limits.

    :raises BadRequest: an unknown resource, a value that is not an integer >= -1, or a
        limit below what the project already uses.
    """
    known = defaults(rt)
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise exceptions.BadRequest(f"Bad key(s) in quota set: {', '.join(unknown)}")
    parsed = {name: _integer(name, value) for name, value in values.items()}
    used = usage(rt, project_id)
    for name, value in parsed.items():
        if value != quota_engine.UNLIMITED and value < used.get(name, 0):
            raise errors.InvalidInput(
                f"Quota limit {value} for {name} must be greater than or equal to already "
                f"used and reserved {used[name]}.")
    quota_engine.set_limits(rt, SERVICE, project_id, parsed, known)
    return limits(rt, project_id)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or value < -1 \
            or value > 2 ** 31 - 1:
        raise errors.InvalidInput(f"Quota limit {value!r} for {name} must be an integer "
                                  "from -1 (unlimited) to 2147483647.")
    return value


def reset(rt: Runtime, ctx: RequestContext, project_id: str) -> None:
    """Drop the project's overrides: its limits are the defaults again."""
    quota_engine.reset(rt, SERVICE, project_id)
