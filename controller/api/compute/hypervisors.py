"""/os-hypervisors: list, detail, show, statistics; search and servers below 2.53.

Ids are integers below 2.53 and uuids from it; from 2.53 the list takes
``hypervisor_hostname_pattern`` and ``with_servers`` instead of the search routes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import flask

from controller import exceptions
from controller.api import compute, handler, pagination, validation
from controller.api.compute import bp
from controller.compute import hypervisors


def _cpu_info(raw: str | None) -> Any:
    if not compute.at_least("2.28"):
        return raw or ""
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {}


def _view(hyp: hypervisors.Hypervisor, detail: bool) -> dict[str, Any]:
    node, service = hyp.node, hyp.service
    new_ids = compute.at_least("2.53")
    view: dict[str, Any] = {
        "id": node.uuid if new_ids else node.id,
        "hypervisor_hostname": node.hypervisor_hostname,
        "state": "up" if hyp.up else "down",
        "status": "disabled" if service is not None and service.disabled else "enabled"}
    if detail:
        view.update({
            "hypervisor_type": node.hypervisor_type,
            "hypervisor_version": node.hypervisor_version, "host_ip": node.host_ip,
            "service": {"host": node.host,
                        "id": (service.uuid if new_ids else service.id) if service else None,
                        "disabled_reason": service.disabled_reason if service else None},
            "vcpus": node.vcpus, "memory_mb": node.memory_mb, "local_gb": node.local_gb,
            "vcpus_used": hyp.vcpus_used, "memory_mb_used": hyp.memory_mb_used,
            "local_gb_used": hyp.local_gb_used, "free_ram_mb": hyp.free_ram_mb,
            "free_disk_gb": hyp.free_disk_gb, "current_workload": 0,
            "running_vms": hyp.running_vms, "disk_available_least": node.free_disk_gb,
            "cpu_info": _cpu_info(node.cpu_info)})
    if hyp.servers:
        view["servers"] = [{"name": name, "uuid": server_uuid}
                           for name, server_uuid in hyp.servers]
    return view


def _listing(detail: bool):
    rule = "os_compute_api:os-hypervisors:list-detail" if detail \
        else "os_compute_api:os-hypervisors:list"
    handler.authorize(rule)
    args = flask.request.args
    pattern, with_servers = None, False
    if compute.at_least("2.53"):
        pattern = args.get("hypervisor_hostname_pattern")
        with_servers = bool(validation.bool_arg("with_servers"))
    rows = hypervisors.list_(handler.runtime(), pattern, with_servers)
    body: dict[str, Any] = {}
    if compute.at_least("2.33"):
        ident = (lambda h: h.node.uuid) if compute.at_least("2.53") \
            else (lambda h: str(h.node.id))
        rows, more = pagination.page(rows, pagination.limit_arg(), args.get("marker"), ident)
        links = pagination.links(rows, more, ident)
        if links:
            body["hypervisors_links"] = links
    return {"hypervisors": [_view(row, detail) for row in rows], **body}


@bp.get("/v2.1/os-hypervisors")
def list_hypervisors():
    return _listing(detail=False)


@bp.get("/v2.1/os-hypervisors/detail")
def list_hypervisors_detail():
    return _listing(detail=True)


@bp.get("/v2.1/os-hypervisors/statistics")
def hypervisor_statistics():
    handler.authorize("os_compute_api:os-hypervisors:statistics")
    return {"hypervisor_statistics": hypervisors.statistics(handler.runtime())}


@bp.get("/v2.1/os-hypervisors/<hypervisor_id>")
def show_hypervisor(hypervisor_id: str):
    handler.authorize("os_compute_api:os-hypervisors:show")
    by_uuid = compute.at_least("2.53")
    if by_uuid:
        try:
            hypervisor_id = str(uuid.UUID(hypervisor_id))
        except ValueError as exc:
            raise exceptions.BadRequest(f"Invalid uuid {hypervisor_id[:64]}") from exc
    with_servers = by_uuid and bool(validation.bool_arg("with_servers"))
    hyp = hypervisors.get(handler.runtime(), hypervisor_id, by_uuid, with_servers)
    return {"hypervisor": _view(hyp, detail=True)}


class UptimeNotAvailable(exceptions.StratusError):
    code = 501
    title = "Not Implemented"


@bp.get("/v2.1/os-hypervisors/<hypervisor_id>/uptime")
def hypervisor_uptime(hypervisor_id: str):
    """Nova answers 501 when the driver cannot tell; the CLI expects exactly that."""
    handler.authorize("os_compute_api:os-hypervisors:uptime")
    by_uuid = compute.at_least("2.53")
    hypervisors.get(handler.runtime(), hypervisor_id, by_uuid)
    raise UptimeNotAvailable("Hypervisor uptime is not reported by this cloud's compute "
                             "agents.")


def _below_253() -> None:
    if compute.at_least("2.53"):
        raise exceptions.NotFound("The resource could not be found.")


@bp.get("/v2.1/os-hypervisors/<pattern>/search")
def search_hypervisors(pattern: str):
    handler.authorize("os_compute_api:os-hypervisors:search")
    _below_253()
    rows = hypervisors.list_(handler.runtime(), pattern)
    return {"hypervisors": [_view(row, detail=False) for row in rows]}


@bp.get("/v2.1/os-hypervisors/<pattern>/servers")
def hypervisor_servers(pattern: str):
    handler.authorize("os_compute_api:os-hypervisors:servers")
    _below_253()
    rows = hypervisors.list_(handler.runtime(), pattern, with_servers=True)
    return {"hypervisors": [_view(row, detail=False) for row in rows]}
