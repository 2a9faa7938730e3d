"""Compute quotas: defaults from [quota], overrides through controller.quotas, usage
counted from the live rows (instances, their flavors' cores and RAM, server groups).

Usage is never stored, so it cannot drift; a check compares it with the limits and
raises Nova's "Quota exceeded" message. Callers that create rows recheck after the
insert (see ``server_create``) so two concurrent requests can never both take the
last slot.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy import orm

from controller import exceptions, quotas
from controller.db.models.compute import KeyPair
from controller.db.models.servers import Instance, ServerGroup, ServerGroupMember
from controller.runtime import Runtime

SERVICE = "compute"
# Network-ish keys the compute API showed until 2.35 (the network service owns them;
# these are their defaults, read-only here) and the personality keys gone from 2.57.
NETWORK_KEYS = ("floating_ips", "fixed_ips", "security_groups", "security_group_rules")
NETWORK_DEFAULTS = {"floating_ips": 10, "fixed_ips": -1, "security_groups": 10,
                    "security_group_rules": 20}
PERSONALITY_KEYS = ("injected_files", "injected_file_content_bytes",
                    "injected_file_path_bytes")
# API key -> [quota] option name, where they differ (Nova's names).
_OPTION = {"injected_file_path_bytes": "injected_file_path_length"}
COMPUTE_KEYS = ("instances", "cores", "ram", "metadata_items", "key_pairs", "server_groups",
                "server_group_members", *PERSONALITY_KEYS)


def defaults(rt: Runtime) -> dict[str, int]:
    """Every compute quota resource and its configured default."""
    values = {key: getattr(rt.conf.quota, _OPTION.get(key, key)) for key in COMPUTE_KEYS}
    values.update(NETWORK_DEFAULTS)
    return values


def limits(rt: Runtime, project_id: str) -> dict[str, int]:
    """The project's limit for every resource (its overrides, else the defaults)."""
    return quotas.limits(rt, SERVICE, project_id, defaults(rt))


def set_limits(rt: Runtime, project_id: str, values: Mapping[str, int],
               force: bool = True, user_id: str | None = None) -> dict[str, int]:
    """Override limits; without force a limit below current usage is refused.

    :raises BadRequest: an unknown resource, a value below -1, or (without force) a
        limit under what the project already uses.
    """
    if not force:
        used = usage(rt, project_id, user_id)
        for name, value in values.items():
            if value != quotas.UNLIMITED and value < used.get(name, 0):
                raise exceptions.BadRequest(
                    f"Quota limit {value} for {name} must be greater than or equal to "
                    f"already used and reserved {used[name]}.")
    known = {key: 0 for key in (*COMPUTE_KEYS, *NETWORK_KEYS)}
    quotas.set_limits(rt, SERVICE, project_id, dict(values), known)
    return limits(rt, project_id)


def reset(rt: Runtime, project_id: str) -> None:
    """Drop the project's overrides."""
    quotas.reset(rt, SERVICE, project_id)


def instance_usage(session: orm.Session, project_id: str) -> dict[str, int]:
    """instances, cores and ram held by the project's live (not deleted) servers."""
    row = session.execute(sa.select(
        sa.func.count(Instance.uuid),
        sa.func.coalesce(sa.func.sum(Instance.flavor["vcpus"].as_integer()), 0),
        sa.func.coalesce(sa.func.sum(Instance.flavor["memory_mb"].as_integer()), 0),
    ).where(Instance.project_id == project_id, Instance.deleted.is_(False))).one()
    return {"instances": int(row[0]), "cores": int(row[1]), "ram": int(row[2])}


def group_member_count(session: orm.Session, group_uuid: str) -> int:
    """Live servers in the group."""
    return int(session.scalar(
        sa.select(sa.func.count()).select_from(ServerGroupMember)
        .join(Instance, Instance.uuid == ServerGroupMember.instance_uuid)
        .where(ServerGroupMember.group_uuid == group_uuid, Instance.deleted.is_(False))))


def usage(rt: Runtime, project_id: str, user_id: str | None = None) -> dict[str, int]:
    """What the project uses of each countable resource (0 for the rest).

    key_pairs are per user: counted for user_id when given.
    """
    used = dict.fromkeys((*COMPUTE_KEYS, *NETWORK_KEYS), 0)
    with rt.db.session() as session:
        used.update(instance_usage(session, project_id))
        used["server_groups"] = int(session.scalar(
            sa.select(sa.func.count()).select_from(ServerGroup)
            .where(ServerGroup.project_id == project_id)))
        if user_id:
            used["key_pairs"] = int(session.scalar(
                sa.select(sa.func.count()).select_from(KeyPair)
                .where(KeyPair.user_id == user_id)))
    return used


def over_message(excess: list[quotas.Excess]) -> str:
    """Nova's TooManyInstances wording for the resources over their limit."""
    names = ", ".join(item.resource for item in excess)
    requested = ", ".join(str(item.requested) for item in excess)
    used = ", ".join(str(item.used) for item in excess)
    allowed = ", ".join(str(item.limit) for item in excess)
    return (f"Quota exceeded for {names}: Requested {requested}, but already used {used} "
            f"of {allowed} {names}")


def check_instances(session: orm.Session, project_limits: Mapping[str, int],
                    project_id: str, count: int, vcpus: int, ram: int,
                    already_counted: bool = False) -> None:
    """:raises OverQuota: count more servers of vcpus/ram each would exceed a limit.

    already_counted: the servers are inserted already (the recheck after insert), so
    usage includes them.
    """
    used = instance_usage(session, project_id)
    requested = {"instances": count, "cores": count * vcpus, "ram": count * ram}
    if already_counted:
        used = {key: used[key] - requested[key] for key in used}
    excess = quotas.over(requested, used, project_limits)
    if excess:
        raise exceptions.OverQuota(over_message(excess))


def headroom(session: orm.Session, project_limits: Mapping[str, int], project_id: str,
             vcpus: int, ram: int) -> int | None:
    """How many more servers of vcpus/ram fit (None: unlimited)."""
    used = instance_usage(session, project_id)
    fits: list[int] = []
    for key, each in (("instances", 1), ("cores", vcpus), ("ram", ram)):
        limit = project_limits.get(key, quotas.UNLIMITED)
        if limit != quotas.UNLIMITED and each > 0:
            fits.append(max(0, (limit - used[key]) // each))
    return min(fits) if fits else None


def check_metadata(rt: Runtime, project_id: str, count: int) -> None:
    """:raises OverQuota: count metadata items exceed the project's metadata_items."""
    limit = limits(rt, project_id)["metadata_items"]
    if limit != quotas.UNLIMITED and count > limit:
        raise exceptions.OverQuota(f"Maximum number of metadata items exceeds {limit}")
