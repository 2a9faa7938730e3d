"""Block storage resources as Cinder's API shows them (fields by microversion and role)."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

import flask

from controller.api import volume

# Extra specs a non-administrator may see (Cinder's user-visible keys).
USER_VISIBLE_SPECS = ("multiattach", "RESKEY:availability_zones", "replication_enabled")


def isotime(moment: datetime.datetime | None) -> str | None:
    """Cinder's timestamp format: 2024-01-31T12:34:56.000000."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") if moment else None


def links(collection: str, ident: str, project_id: str) -> list[dict[str, str]]:
    base = flask.request.host_url.rstrip("/") + "/volume"
    return [{"rel": "self", "href": f"{base}/v3/{project_id}/{collection}/{ident}"},
            {"rel": "bookmark", "href": f"{base}/{project_id}/{collection}/{ident}"}]


def collection(name: str, items: list[dict[str, Any]], more: bool, count: int | None,
               last_id: str | None = None) -> dict[str, Any]:
    """{name: items} with a next link when more follow, and the count (3.45, asked)."""
    body: dict[str, Any] = {name: items}
    if more and last_id:
        args = flask.request.args.to_dict(flat=False)
        args["marker"] = [last_id]
        body[f"{name}_links"] = [{"rel": "next", "href": f"{flask.request.base_url}?"
                                                         f"{urlencode(args, doseq=True)}"}]
    if count is not None:
        body["count"] = count
    return body


# ------------------------------------------------------------------ volumes
def volume_summary(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "links": links("volumes", row.id, row.project_id)}


def _attachments(row: Any) -> list[dict[str, Any]]:
    return [{"server_id": a.instance_uuid, "attachment_id": a.id,
             "attached_at": isotime(a.attach_time), "host_name": a.attached_host,
             "volume_id": row.id, "device": a.mountpoint, "id": row.id}
            for a in row.attachments if a.attach_status == "attached"]


def _visible_metadata(row: Any) -> dict[str, str]:
    metadata = dict(row.metadata_dict)
    admin = row.admin_metadata
    for key in ("readonly", "attached_mode"):
        if key in admin:
            metadata[key] = admin[key]
    return metadata


def volume_detail(row: Any) -> dict[str, Any]:
    """One volume in full, at this request's microversion and the caller's rights."""
    body: dict[str, Any] = {
        "id": row.id, "name": row.name, "description": row.description,
        "status": row.status, "size": row.size, "availability_zone": row.availability_zone,
        "created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at),
        "attachments": _attachments(row), "volume_type": row.volume_type.name,
        "snapshot_id": row.snapshot_id, "source_volid": row.source_volid,
        "metadata": _visible_metadata(row), "links": links("volumes", row.id, row.project_id),
        "user_id": row.user_id, "bootable": "true" if row.bootable else "false",
        "encrypted": False, "replication_status": None, "consistencygroup_id": None,
        "multiattach": row.multiattach,
    }
    if row.image_metadata:
        body["volume_image_metadata"] = row.image_metadata
    if volume.allowed("volume_extension:volume_tenant_attribute",
                      {"project_id": row.project_id}):
        body["os-vol-tenant-attr:tenant_id"] = row.project_id
    admin = volume.allowed("volume_extension:volume_host_attribute")
    if admin:
        body["os-vol-host-attr:host"] = row.host
    if volume.allowed("volume_extension:volume_mig_status_attribute"):
        body["migration_status"] = row.migration_status
        body["os-vol-mig-status-attr:migstat"] = row.migration_status
        body["os-vol-mig-status-attr:name_id"] = None
    if volume.at_least("3.13"):
        body["group_id"] = None
    if volume.at_least("3.21") and admin:
        body["provider_id"] = None
    if volume.at_least("3.48"):
        body["service_uuid"] = None
        body["shared_targets"] = False  # one target per volume (tgt, LIO)
    return body


# ------------------------------------------------------------------ types
def volume_type(row: Any, with_access: bool = True) -> dict[str, Any]:
    body = {"id": row.id, "name": row.name, "description": row.description,
            "is_public": row.is_public}
    specs = row.specs
    if volume.allowed("volume_extension:access_types_extra_specs"):
        body["extra_specs"] = specs
    else:
        body["extra_specs"] = {k: v for k, v in specs.items() if k in USER_VISIBLE_SPECS}
    if volume.allowed("volume_extension:access_types_qos_specs_id"):
        body["qos_specs_id"] = None
    if with_access:
        body["os-volume-type-access:is_public"] = row.is_public
    return body


# ------------------------------------------------------------------ snapshots
def snapshot(row: Any, detail: bool = True) -> dict[str, Any]:
    body = {"id": row.id, "name": row.name, "description": row.description,
            "status": row.status, "size": row.size, "volume_id": row.volume_id,
            "created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at),
            "metadata": row.metadata_dict}
    if volume.at_least("3.41"):
        body["user_id"] = row.user_id
    if detail and volume.allowed("volume_extension:extended_snapshot_attributes",
                                 {"project_id": row.project_id}):
        body["os-extended-snapshot-attributes:progress"] = row.progress
        body["os-extended-snapshot-attributes:project_id"] = row.project_id
    return body


# ------------------------------------------------------------------ backups
def backup_summary(row: Any) -> dict[str, Any]:
    body = {"id": row.id, "name": row.name, "links": links("backups", row.id, row.project_id)}
    if volume.at_least("3.43"):
        body["metadata"] = dict(row.backup_metadata or {})
    return body


def backup_detail(row: Any) -> dict[str, Any]:
    body = {
        "id": row.id, "name": row.name, "description": row.description,
        "status": row.status, "size": row.size, "object_count": row.object_count,
        "container": row.container, "availability_zone": row.availability_zone,
        "created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at),
        "volume_id": row.volume_id, "snapshot_id": row.snapshot_id,
        "fail_reason": row.fail_reason, "is_incremental": row.is_incremental,
        "has_dependent_backups": False, "data_timestamp": isotime(row.data_timestamp),
        "links": links("backups", row.id, row.project_id),
    }
    if volume.at_least("3.18") and volume.allowed("backup:backup_project_attribute"):
        body["os-backup-project-attr:project_id"] = row.project_id
    if volume.at_least("3.43"):
        body["metadata"] = dict(row.backup_metadata or {})
    if volume.at_least("3.56"):
        body["user_id"] = row.user_id
    return body


# ------------------------------------------------------------------ attachments
def attachment(row: Any, detail: bool = True) -> dict[str, Any]:
    body = {"id": row.id, "status": row.attach_status, "instance": row.instance_uuid,
            "volume_id": row.volume_id}
    if detail:
        body.update(attached_at=isotime(row.attach_time) or "",
                    detached_at=isotime(row.detach_time) or "",
                    attach_mode=row.attach_mode, connection_info=row.connection_info or {})
    return body
