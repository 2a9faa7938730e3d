"""Compute hosts as the conductor needs them: is the agent up, and claims held there."""

from __future__ import annotations

from controller import services
from controller.runtime import Runtime
from controller.scheduler import claims
from controller.scheduler.host_state import COMPUTE_BINARY


def compute_up(rt: Runtime, host: str | None) -> bool:
    """Whether host's compute agent heartbeats (a host that never reported is down)."""
    if not host:
        return False
    return any(status.up for status in services.list_(rt, binary=COMPUTE_BINARY, host=host))


def up_computes(rt: Runtime) -> set[str]:
    """The hosts whose compute agent heartbeats (one query, for loops over instances)."""
    return {status.host for status in services.list_(rt, binary=COMPUTE_BINARY)
            if status.up}


def zone_of(rt: Runtime, host: str) -> str | None:
    """The availability zone of host's compute service (None if it never reported)."""
    for status in services.list_(rt, binary=COMPUTE_BINARY, host=host):
        return status.zone
    return None


def down_computes(rt: Runtime) -> set[str]:
    """Hosts whose compute agent reported once but is down now (or forced down)."""
    return {status.host for status in services.list_(rt, binary=COMPUTE_BINARY)
            if not status.up}


def release_on_host(rt: Runtime, consumer_uuid: str, host: str | None) -> int:
    """Drop consumer_uuid's allocation on host only (a failed build attempt's claim)."""
    released = 0
    for allocation in claims.allocations(rt, consumer_uuid):
        if host is None or allocation["host"] == host:
            released += claims.release(rt, consumer_uuid, allocation["compute_node_id"])
    return released


def release_all(rt: Runtime, instance_uuid: str, migration_uuids: list[str]) -> int:
    """Drop every allocation of the instance and of its migrations."""
    released = claims.release(rt, instance_uuid)
    for migration_uuid in migration_uuids:
        released += claims.release(rt, migration_uuid)
    return released
