"""Compute node inventory: the compute_nodes row an agent's periodic report maintains."""

from __future__ import annotations

import ipaddress
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.hosts import ComputeNode
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

# Capacity fields: a change bumps the generation so claims in flight re-check it.
_CAPACITY = ("vcpus", "memory_mb", "local_gb", "reserved_host_memory_mb",
             "reserved_host_disk_gb", "cpu_allocation_ratio", "ram_allocation_ratio",
             "disk_allocation_ratio")


def _count(value: Any) -> int:
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ValueError("must be a non-negative integer")
    return int(value)


def _ratio(value: Any) -> float:
    if isinstance(value, bool) or not 0 < float(value) <= 1000:
        raise ValueError("must be a number above 0")
    return float(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 255:
        raise ValueError("must be a string of at most 255 characters")
    return value


def _ip(value: Any) -> str:
    return str(ipaddress.ip_address(value))


def _cpu_info(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


# report key -> (column, converter)
_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "vcpus": ("vcpus", _count),
    "memory_mb": ("memory_mb", _count),
    "disk_gb": ("local_gb", _count),
    "disk_free_gb": ("free_disk_gb", _count),
    "hypervisor_type": ("hypervisor_type", _text),
    "hypervisor_version": ("hypervisor_version", _count),
    "hypervisor_hostname": ("hypervisor_hostname", _text),
    "host_ip": ("host_ip", _ip),
    "cpu_info": ("cpu_info", _cpu_info),
    "cpu_allocation_ratio": ("cpu_allocation_ratio", _ratio),
    "ram_allocation_ratio": ("ram_allocation_ratio", _ratio),
    "disk_allocation_ratio": ("disk_allocation_ratio", _ratio),
    "reserved_host_memory_mb": ("reserved_host_memory_mb", _count),
    "reserved_host_disk_gb": ("reserved_host_disk_gb", _count),
}


def _columns(host: str, resources: dict[str, Any]) -> dict[str, Any]:
    """The column values resources sets; unknown keys and None values are ignored."""
    values: dict[str, Any] = {}
    for key, (column, convert) in _FIELDS.items():
        if resources.get(key) is None:
            continue
        try:
            values[column] = convert(resources[key])
        except (TypeError, ValueError) as error:
            raise exceptions.BadRequest(
                f"Inventory of {host}: {key}={resources[key]!r} is invalid ({error}).") from error
    if "cpu_info" not in values and resources.get("cpu_model"):
        # What the hypervisors API shows as cpu_info (a JSON object, as Nova's is).
        values["cpu_info"] = json.dumps({"model": _text(resources["cpu_model"])})
    return values


def update_compute_node(rt: Runtime, host: str, resources: dict[str, Any]) -> int:
    """Create or update host's compute_nodes row from its agent's report.

    resources: HostResources as a dict (vcpus, memory_mb, disk_gb, disk_free_gb,
    hypervisor_type, hypervisor_version, cpu_model), plus optional host_ip, cpu_info,
    hypervisor_hostname, {cpu,ram,disk}_allocation_ratio, reserved_host_memory_mb and
    reserved_host_disk_gb. Fields left out keep their stored (or default) value.

    :returns: the compute node's id.
    :raises exceptions.BadRequest: host is empty or a value is invalid.
    """
    if not host or len(host) > 255:
        raise exceptions.BadRequest("A compute node needs a host name of 1-255 characters.")
    values = _columns(host, resources)
    try:
        return _upsert(rt, host, values)
    except sa_exc.IntegrityError:
        # Two reports for a new host raced (two conductors): the row exists now.
        return _upsert(rt, host, values)


def _upsert(rt: Runtime, host: str, values: dict[str, Any]) -> int:
    with rt.db.session() as session:
        row = session.scalars(sa.select(ComputeNode).where(ComputeNode.host == host)).first()
        if row is None:
            # values stays whole: a retry after a racing insert applies all of it.
            fields = {**values, "hypervisor_hostname": values.get("hypervisor_hostname",
                                                                  host)}
            row = ComputeNode(uuid=str(uuid.uuid4()), host=host, **fields)
            session.add(row)
            session.flush()
            LOG.info("New compute node %s (id %d): %s", host, row.id, values)
            return row.id
        changed = [column for column in _CAPACITY
                   if column in values and getattr(row, column) != values[column]]
        for column, value in values.items():
            setattr(row, column, value)
        row.updated_at = utcnow()
        if changed:
            LOG.info("Capacity of %s changed: %s", host,
                     {column: values[column] for column in changed})
            # Not guarded: a claim that read the old capacity fails its own guard.
            row.generation = ComputeNode.generation + 1
        return row.id
