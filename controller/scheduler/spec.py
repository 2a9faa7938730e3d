"""A scheduling request as the filters and weighers read it.

Built from the conductor's request_spec dict (``common.rpc.conductor.ConductorAPI.
build_instances``), plus the server group's members as they stand in SQL.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Any

import sqlalchemy as sa

from controller.db.models.servers import Instance, ServerGroup, ServerGroupMember
from controller.runtime import Runtime
from controller.scheduler.host_state import Resources


@dataclasses.dataclass
class GroupInfo:
    """A server group and how many of its members each host runs.

    The instances being scheduled are left out of ``hosts`` (a reschedule or a resize
    must not be kept off a host by itself); each placement of this request adds to it.
    """

    uuid: str
    policy: str  # affinity | anti-affinity | soft-affinity | soft-anti-affinity
    max_server_per_host: int = 1
    hosts: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)


@dataclasses.dataclass
class RequestSpec:
    project_id: str | None
    resources: Resources
    availability_zone: str | None = None
    force_hosts: frozenset[str] = frozenset()
    group: GroupInfo | None = None


def build(rt: Runtime, raw: dict[str, Any], instance_uuids: list[str]) -> RequestSpec:
    """The RequestSpec for raw (the conductor's dict).

    raw: {"flavor": {"vcpus", "memory_mb", "root_gb", "ephemeral_gb", "swap", ...},
    "availability_zone", "group_uuid", "force_hosts", "project_id"}; an optional
    "boot_from_volume": true keeps the root disk out of the host's disk claim.

    :raises ValueError: raw has no usable flavor.
    """
    flavor = raw.get("flavor")
    if not isinstance(flavor, dict):
        raise ValueError("request_spec has no flavor")
    try:
        resources = Resources.from_flavor(flavor, bool(raw.get("boot_from_volume")))
    except (TypeError, ValueError) as error:
        raise ValueError(f"request_spec has an invalid flavor: {error}") from error
    group = _group(rt, raw["group_uuid"], instance_uuids) if raw.get("group_uuid") else None
    return RequestSpec(project_id=raw.get("project_id"), resources=resources,
                       availability_zone=raw.get("availability_zone") or None,
                       force_hosts=frozenset(raw.get("force_hosts") or ()), group=group)


def _group(rt: Runtime, group_uuid: str, excluded: list[str]) -> GroupInfo | None:
    members = (sa.select(Instance.host, sa.func.count())
               .join(ServerGroupMember, ServerGroupMember.instance_uuid == Instance.uuid)
               .where(ServerGroupMember.group_uuid == group_uuid,
                      Instance.deleted.is_(False), Instance.host.is_not(None),
                      Instance.uuid.not_in(excluded))
               .group_by(Instance.host))
    with rt.db.session() as session:
        row = session.get(ServerGroup, group_uuid)
        if row is None:
            return None  # deleted meanwhile: nothing left to enforce
        hosts = collections.Counter({host: count for host, count in session.execute(members)})
        max_per_host = int((row.rules or {}).get("max_server_per_host") or 1)
        return GroupInfo(uuid=row.uuid, policy=row.policy,
                         max_server_per_host=max_per_host, hosts=hosts)
