"""Creating servers: validate the request, check quota, write the rows, ask the conductor.

The rows are written building/scheduling with a ``create`` instance action, then the
quota is counted again (two concurrent requests may both have passed the first check;
whoever finds the project over its limit after inserting removes its own rows), then
``build_instances`` is cast. If that cast cannot be sent the servers go to ERROR with a
fault saying so, and the caller gets a 503.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import string
import uuid
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.compute import (
    actions,
    block_devices,
    boot_sources,
    quotas,
    rpc,
    server_groups,
    server_networks,
    server_requests,
    servers,
    states,
)
from controller.db.base import utcnow
from controller.db.models.servers import (
    Instance,
    InstanceMetadata,
    InstanceTag,
    ServerGroupMember,
)
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)
MAX_TAGS = 50
_PASSWORD_CHARS = string.ascii_letters + string.digits


@dataclasses.dataclass
class CreateRequest:
    """A validated create body, in service terms."""

    name: str
    flavor_ref: str
    image_ref: str | None = None
    key_name: str | None = None
    user_data: str | None = None
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    availability_zone: str | None = None
    min_count: int = 1
    max_count: int | None = None
    config_drive: bool = False
    access_ip_v4: str | None = None
    access_ip_v6: str | None = None
    disk_config: str | None = None
    description: str | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    networks: Any = None  # "none" | "auto" | [ {uuid, port, fixed_ip} ] | None
    security_groups: list[str] = dataclasses.field(default_factory=list)
    block_device_mapping_v2: list[dict[str, Any]] | None = None
    block_device_mapping: list[dict[str, Any]] | None = None
    personality: list[dict[str, Any]] | None = None
    admin_pass: str | None = None
    group: str | None = None
    hints: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class CreateResult:
    instances: list[Instance]
    reservation_id: str
    admin_pass: str | None


def _counts(rt: Runtime, ctx: RequestContext, req: CreateRequest, flavor: dict) -> int:
    """How many servers to make: max_count if the quota allows, else as many as fit down
    to min_count. :raises OverQuota: not even min_count fits."""
    max_count = req.max_count or req.min_count
    if req.min_count > max_count:
        raise exceptions.BadRequest("min_count must be <= max_count")
    project_limits = quotas.limits(rt, ctx.project_id)
    with rt.db.session() as session:
        room = quotas.headroom(session, project_limits, ctx.project_id, flavor["vcpus"],
                               flavor["memory_mb"])
        count = max_count if room is None else min(max_count, room)
        if count < req.min_count:
            quotas.check_instances(session, project_limits, ctx.project_id, req.min_count,
                                   flavor["vcpus"], flavor["memory_mb"])
    return count


def _system_metadata(image: dict[str, Any], req: CreateRequest, network: str,
                     hints: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {f"image_{key}": str(value)
                            for key, value in image.get("properties", {}).items()
                            if len(str(value)) <= 255}
    meta.update({"image_disk_format": image.get("disk_format") or "",
                 "image_container_format": image.get("container_format") or "",
                 "image_min_ram": str(image.get("min_ram") or 0),
                 "image_min_disk": str(image.get("min_disk") or 0),
                 "image_base_image_ref": image["id"],
                 "network_request": network,
                 "security_groups": req.security_groups or ["default"],
                 "disk_config": req.disk_config or "MANUAL"})
    if hints:
        meta["scheduler_hints"] = hints
    return meta


def _display_name(rt: Runtime, name: str, index: int, count: int, instance_uuid: str) -> str:
    if count == 1:
        return name
    try:
        return rt.conf.compute_api.multi_instance_display_name_template % {
            "name": name, "count": index + 1, "uuid": instance_uuid}
    except (KeyError, ValueError, TypeError):
        LOG.warning("bad multi_instance_display_name_template; using name-count")
        return f"{name}-{index + 1}"


def _rows(rt: Runtime, ctx: RequestContext, req: CreateRequest, count: int,
          flavor: dict, image: dict, zone: str | None, key_data: str | None,
          system_metadata: dict[str, Any], reservation_id: str) -> list[Instance]:
    now = utcnow()
    rows = []
    for index in range(count):
        instance_uuid = str(uuid.uuid4())
        name = _display_name(rt, req.name, index, count, instance_uuid)
        row = Instance(
            uuid=instance_uuid, project_id=ctx.project_id, user_id=ctx.user_id,
            display_name=name, display_description=req.description,
            hostname=server_requests.sanitize_hostname(name, f"server-{instance_uuid}"),
            reservation_id=reservation_id, launch_index=index, image_ref=image["id"],
            flavor_id=flavor["id"], flavor=flavor, key_name=req.key_name,
            key_data=key_data, user_data=req.user_data, config_drive=req.config_drive,
            access_ip_v4=req.access_ip_v4, access_ip_v6=req.access_ip_v6,
            availability_zone=zone, vm_state=states.BUILDING, task_state=states.SCHEDULING,
            power_state=0, progress=0, locked=False, system_metadata=dict(system_metadata),
            created_at=now, updated_at=now, deleted=False)
        row.metadata_items = [InstanceMetadata(key=k, value=v) for k, v in req.metadata.items()]
        row.tags = [InstanceTag(tag=tag) for tag in sorted(set(req.tags))]
        rows.append(row)
    return rows


def create(rt: Runtime, ctx: RequestContext, req: CreateRequest) -> CreateResult:
    """Validate req, write the servers and cast build_instances.

    :raises BadRequest: invalid flavor, image, key pair, zone, group, networks or block
        devices (the message says which). :raises OverQuota: instances, cores, ram,
        metadata items or group members over the limit. :raises ServiceUnavailable:
        the conductor could not be reached (nothing is left of the request).
    """
    boot = block_devices.plan(req.image_ref, req.block_device_mapping,
                              req.block_device_mapping_v2)
    if req.personality:
        raise exceptions.BadRequest("Personality files are not supported by this cloud; "
                                    "pass files through user_data or the config drive.")
    if len(set(req.tags)) > MAX_TAGS:
        raise exceptions.BadRequest(f"The number of tags exceeded the per-server limit "
                                    f"{MAX_TAGS}")
    server_requests.check_user_data(req.user_data)
    zone, force_hosts = server_requests.parse_zone(rt, req.availability_zone)
    flavor = boot_sources.flavor(rt, ctx, req.flavor_ref)
    image = block_devices.validate(rt, ctx, boot, flavor, req.max_count or req.min_count)
    key_data = server_requests.key_data_for(rt, ctx, req.key_name)
    quotas.check_metadata(rt, ctx.project_id, len(req.metadata))
    group = server_groups.for_boot(rt, ctx, req.group) if req.group else None
    count = _counts(rt, ctx, req, flavor)
    network, requested = server_networks.validate(rt, ctx, req.networks, count,
                                                  req.security_groups or ["default"])
    if group is not None:
        server_groups.check_members(rt, group.uuid, count)
    reservation_id = "r-" + "".join(secrets.choice(string.ascii_lowercase + string.digits)
                                    for _ in range(8))
    system_metadata = {**_system_metadata(image, req, network, req.hints),
                       **server_networks.metadata(network, requested)}
    rows = _rows(rt, ctx, req, count, flavor, image, zone, key_data, system_metadata,
                 reservation_id)
    mappings = block_devices.reserve(rt, ctx, boot, [row.uuid for row in rows])
    try:
        with rt.db.session() as session:
            session.add_all(rows)
            session.flush()
            session.add_all(mappings)
            for row in rows:
                actions.record(session, ctx, row.uuid, "create")
                if group is not None:
                    session.add(ServerGroupMember(group_uuid=group.uuid,
                                                  instance_uuid=row.uuid))
        _recheck(rt, ctx, rows, flavor, group.uuid if group else None)
    except Exception:
        block_devices.release(rt, ctx, mappings)  # the volumes reserved are free again
        raise
    spec = {"flavor": flavor, "image": image, "availability_zone": zone,
            "group_uuid": group.uuid if group else None, "force_hosts": force_hosts,
            "num_instances": count, "project_id": ctx.project_id,
            "scheduler_hints": req.hints, "boot_from_volume": boot.volume_backed}
    try:
        rpc.cast("build_instances", rt.conductor_api.build_instances, ctx,
                 [row.uuid for row in rows], spec)
    except exceptions.ServiceUnavailable:
        _discard(rt, [row.uuid for row in rows])
        raise
    # Only once the build is on its way: a create the bus refused never started.
    for row in rows:
        rt.notify(ctx, "instance.create.start", servers.payload(row))
    return CreateResult(rows, reservation_id, admin_password(rt, req.admin_pass))


def admin_password(rt: Runtime, given: str | None) -> str | None:
    """The adminPass to answer with: the one given, else a new random one unless
    [compute_api] enable_instance_password is off."""
    if given is not None or not rt.conf.compute_api.enable_instance_password:
        return given
    return "".join(secrets.choice(_PASSWORD_CHARS) for _ in range(12))


def _recheck(rt: Runtime, ctx: RequestContext, rows: list[Instance], flavor: dict,
             group_uuid: str | None) -> None:
    """Count again with the new rows in; if a concurrent create won, remove ours."""
    uuids = [row.uuid for row in rows]
    project_limits = quotas.limits(rt, ctx.project_id)
    try:
        with rt.db.session() as session:
            quotas.check_instances(session, project_limits,
                                   ctx.project_id, len(rows), flavor["vcpus"],
                                   flavor["memory_mb"], already_counted=True)
        if group_uuid is not None:
            server_groups.check_members(rt, group_uuid, 0)
    except exceptions.OverQuota:
        _discard(rt, uuids)
        raise


def _discard(rt: Runtime, uuids: list[str]) -> None:
    """Remove servers a failed create wrote (nothing was scheduled or built for them yet):
    a failed request leaves nothing behind. Metadata, tags and actions go with them."""
    with rt.db.session() as session:
        session.execute(sa.delete(ServerGroupMember).where(
            ServerGroupMember.instance_uuid.in_(uuids)))
        session.execute(sa.delete(Instance).where(Instance.uuid.in_(uuids)))
