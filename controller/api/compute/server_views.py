"""Servers and instance actions as Nova renders them, at the request's microversion."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from typing import Any

import flask

from controller.api import compute
from controller.compute import states

# Statuses that show progress, and those that show the fault (Nova's lists).
PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")
FAULT_STATUSES = ("ERROR", "DELETED")


@dataclasses.dataclass(frozen=True)
class Options:
    """What this caller may see (decided by policy in the handler)."""

    admin_attrs: bool = False  # os-extended-server-attributes
    host_status: bool = False  # servers:show:host_status, 2.16+
    extra_specs: bool = False  # os-flavor-extra-specs:index, 2.47+
    is_admin: bool = False  # fault details


def base_url() -> str:
    return flask.request.host_url.rstrip("/") + "/compute"


def links(collection: str, item_id: str) -> list[dict[str, str]]:
    base = base_url()
    return [{"rel": "self", "href": f"{base}/v2.1/{collection}/{item_id}"},
            {"rel": "bookmark", "href": f"{base}/{collection}/{item_id}"}]


def isotime(moment: datetime.datetime | None) -> str | None:
    """Nova's created/updated format: seconds and a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def strtime(moment: datetime.datetime | None) -> str | None:
    """Nova's launched_at / action time format: microseconds, no zone."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") if moment else None


def host_id(project_id: str, host: str | None) -> str:
    """An opaque per-project ID of the host: servers on the same host share it."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode("utf-8")).hexdigest()


def summary(instance: Any) -> dict[str, Any]:
    return {"id": instance.uuid, "name": instance.display_name,
            "links": links("servers", instance.uuid)}


def _flavor(instance: Any, options: Options) -> dict[str, Any]:
    flavor = instance.flavor or {}
    if not compute.at_least("2.47"):
        flavor_id = flavor.get("id") or instance.flavor_id
        return {"id": flavor_id,
                "links": [{"rel": "bookmark", "href": f"{base_url()}/flavors/{flavor_id}"}]}
    view = {"vcpus": flavor.get("vcpus", 0), "ram": flavor.get("memory_mb", 0),
            "disk": flavor.get("root_gb", 0), "ephemeral": flavor.get("ephemeral_gb", 0),
            "swap": flavor.get("swap", 0), "original_name": flavor.get("name", "")}
    if options.extra_specs:
        view["extra_specs"] = dict(flavor.get("extra_specs") or {})
    return view


def _image(instance: Any) -> dict[str, Any] | str:
    if not instance.image_ref:
        return ""
    return {"id": instance.image_ref,
            "links": [{"rel": "bookmark",
                       "href": f"{base_url()}/images/{instance.image_ref}"}]}


def _fault(fault: Any, options: Options) -> dict[str, Any]:
    view = {"code": fault.code, "created": isotime(fault.created_at),
            "message": fault.message}
    if fault.details and (options.is_admin or fault.code != 500):
        view["details"] = fault.details
    return view


def server(described: Any, options: Options, full: bool = True) -> dict[str, Any]:
    """One server; full False is Nova's shorter view of the update and rebuild answers."""
    instance = described.instance
    status = "DELETED" if instance.deleted else states.status(instance.vm_state,
                                                               instance.task_state)
    system = instance.system_metadata or {}
    view: dict[str, Any] = {
        "id": instance.uuid, "name": instance.display_name, "status": status,
        "tenant_id": instance.project_id, "user_id": instance.user_id,
        "metadata": {item.key: item.value for item in instance.metadata_items},
        "hostId": host_id(instance.project_id, instance.host),
        "image": _image(instance), "flavor": _flavor(instance, options),
        "created": isotime(instance.created_at), "updated": isotime(instance.updated_at),
        "addresses": described.networking.addresses,
        "accessIPv4": instance.access_ip_v4 or "",
        "accessIPv6": instance.access_ip_v6 or "", "links": links("servers", instance.uuid),
        "OS-DCF:diskConfig": system.get("disk_config") or "MANUAL",
    }
    if status in PROGRESS_STATUSES:
        view["progress"] = instance.progress or 0
    if status in FAULT_STATUSES and described.fault is not None:
        view["fault"] = _fault(described.fault, options)
    if full:
        view.update(_detail(instance, options))
        view["os-extended-volumes:volumes_attached"] = [
            {"id": volume["id"], **({"delete_on_termination": volume["delete_on_termination"]}
                                    if compute.at_least("2.3") else {})}
            for volume in described.volumes]
        groups = described.networking.security_groups
        if groups:  # Nova shows the groups of the ports, and nothing without any
            view["security_groups"] = [{"name": name} for name in groups]
    if compute.at_least("2.9"):
        view["locked"] = bool(instance.locked)
    if compute.at_least("2.19"):
        view["description"] = instance.display_description
    if compute.at_least("2.26"):
        view["tags"] = sorted(tag.tag for tag in instance.tags)
    if full and options.host_status and compute.at_least("2.16"):
        view["host_status"] = described.host_status or ""
    return view


def _detail(instance: Any, options: Options) -> dict[str, Any]:
    view: dict[str, Any] = {
        "OS-EXT-AZ:availability_zone": instance.availability_zone or "",
        "config_drive": "True" if instance.config_drive else "",
        "key_name": instance.key_name,
        "OS-SRV-USG:launched_at": strtime(instance.launched_at),
        "OS-SRV-USG:terminated_at": strtime(instance.terminated_at),
        "OS-EXT-STS:task_state": instance.task_state,
        "OS-EXT-STS:vm_state": instance.vm_state,
        "OS-EXT-STS:power_state": instance.power_state,
        "os-extended-volumes:volumes_attached": [],
    }
    if options.admin_attrs:
        view.update({"OS-EXT-SRV-ATTR:host": instance.host,
                     "OS-EXT-SRV-ATTR:hypervisor_hostname": instance.node,
                     "OS-EXT-SRV-ATTR:instance_name": f"instance-{instance.uuid}"})
        if compute.at_least("2.3"):
            view.update({"OS-EXT-SRV-ATTR:reservation_id": instance.reservation_id,
                         "OS-EXT-SRV-ATTR:launch_index": instance.launch_index,
                         "OS-EXT-SRV-ATTR:hostname": instance.hostname,
                         "OS-EXT-SRV-ATTR:kernel_id": "",
                         "OS-EXT-SRV-ATTR:ramdisk_id": "",
                         "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                         "OS-EXT-SRV-ATTR:user_data": instance.user_data})
    return view


def created(instance: Any, admin_pass: str | None) -> dict[str, Any]:
    """The 202 answer of a create: id, links, disk config, security groups, adminPass."""
    system = instance.system_metadata or {}
    view: dict[str, Any] = {
        "id": instance.uuid, "links": links("servers", instance.uuid),
        "OS-DCF:diskConfig": system.get("disk_config") or "MANUAL",
        "security_groups": [{"name": name}
                            for name in system.get("security_groups") or ["default"]],
    }
    if admin_pass is not None:
        view["adminPass"] = admin_pass
    return view


def instance_action(action: Any) -> dict[str, Any]:
    view = {"action": action.action, "instance_uuid": action.instance_uuid,
            "message": action.message, "project_id": action.project_id,
            "request_id": action.request_id, "start_time": strtime(action.start_time),
            "user_id": action.user_id}
    if compute.at_least("2.58"):
        view["updated_at"] = strtime(action.updated_at)
    return view


def action_event(event: Any, with_traceback: bool) -> dict[str, Any]:
    view = {"event": event.event, "start_time": strtime(event.start_time),
            "finish_time": strtime(event.finish_time), "result": event.result}
    if with_traceback:
        view["traceback"] = event.traceback
    return view
