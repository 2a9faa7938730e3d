"""The conductor's RPC endpoint (``common.rpc.conductor`` is the client): thin on purpose.

Each method hands over to the workflow module that owns the step; the request context
that arrives with the message is passed on, so logs, instance action events and the
casts to the agents all carry the caller's request ID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from common.context import RequestContext
from common.messaging import messaging as oslo_messaging
from controller import exceptions, services
from controller.conductor import (
    build,
    delete,
    instances,
    interfaces,
    machine,
    networking,
    power,
    rebuild,
    reports,
    resize,
    resize_confirm,
    snapshot,
    volumes,
)
from controller.db.models.servers import Instance
from controller.runtime import Runtime
from controller.scheduler import inventory

LOG = logging.getLogger(__name__)

_Handler = Callable[[Runtime, RequestContext, Instance, str, dict[str, Any]], None]

# run_instance_action: action -> the workflow that carries it out.
ACTION_HANDLERS: dict[str, _Handler] = {
    **dict.fromkeys(machine.POWER_ACTIONS,
                    lambda rt, ctx, row, action, params: power.run(rt, ctx, row, action)),
    "rebuild": lambda rt, ctx, row, action, params: rebuild.run(rt, ctx, row, params),
    "resize": lambda rt, ctx, row, action, params: resize.run(rt, ctx, row, params),
    "confirm_resize": lambda rt, ctx, row, action, params: resize_confirm.run(
        rt, ctx, row, "confirm"),
    "revert_resize": lambda rt, ctx, row, action, params: resize_confirm.run(
        rt, ctx, row, "revert"),
    "snapshot": lambda rt, ctx, row, action, params: snapshot.run(
        rt, ctx, row, params.get("image_id", "")),
}


class ConductorManager:
    """RPC endpoint of stratus-conductor: workflows from the API, reports from agents."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    # ------------------------------------------------------- workflows (from the API)
    def build_instances(self, ctxt: RequestContext, instance_uuids: list[str],
                        request_spec: dict[str, Any]) -> None:
        build.build_instances(self.rt, ctxt, instance_uuids, request_spec)

    def run_instance_action(self, ctxt: RequestContext, instance_uuid: str, action: str,
                            params: dict[str, Any] | None = None) -> None:
        handler = ACTION_HANDLERS.get(action)
        if handler is None:
            LOG.error("unknown instance action %r for %s", action, instance_uuid)
            return
        row = instances.get(self.rt, instance_uuid)
        if row is None or row.deleted:
            LOG.info("%s of %s skipped: the instance is gone", action, instance_uuid)
            return
        handler(self.rt, ctxt, row, action, params or {})

    def delete_instance(self, ctxt: RequestContext, instance_uuid: str) -> None:
        delete.delete_instance(self.rt, ctxt, instance_uuid)

    def attach_volume(self, ctxt: RequestContext, instance_uuid: str, volume_id: str) -> None:
        volumes.attach_volume(self.rt, ctxt, instance_uuid, volume_id)

    def detach_volume(self, ctxt: RequestContext, instance_uuid: str, volume_id: str) -> None:
        volumes.detach_volume(self.rt, ctxt, instance_uuid, volume_id)

    def detach_interface(self, ctxt: RequestContext, instance_uuid: str,
                         port_id: str) -> None:
        interfaces.detach_interface(self.rt, ctxt, instance_uuid, port_id)

    # -------------------------------------------------------------- agents' reports
    def report_state(self, ctxt: RequestContext, host: str, binary: str,
                     topic: str | None = None) -> None:
        """Heartbeat on behalf of an agent (cast)."""
        services.report(self.rt, host, binary, topic)

    def update_compute_node(self, ctxt: RequestContext, host: str,
                            resources: dict[str, Any]) -> None:
        inventory.update_compute_node(self.rt, host, resources)

    def instances_on_host(self, ctxt: RequestContext, host: str) -> list[dict[str, Any]]:
        return reports.instances_on_host(self.rt, host)

    @oslo_messaging.expected_exceptions(exceptions.BadRequest)
    def instance_update(self, ctxt: RequestContext, instance_uuid: str,
                        updates: dict[str, Any],
                        expected_task_state: list[str | None] | None = None
                        ) -> dict[str, Any] | None:
        return reports.instance_update(self.rt, ctxt, instance_uuid, updates,
                                       expected_task_state)

    def instance_fault(self, ctxt: RequestContext, instance_uuid: str, host: str,
                       message: str, details: str | None = None, code: int = 500) -> None:
        reports.instance_fault(self.rt, ctxt, instance_uuid, host, message, details, code)

    def action_event(self, ctxt: RequestContext, instance_uuid: str, event: str, host: str,
                     phase: str, result: str | None = None,
                     traceback: str | None = None) -> None:
        reports.action_event(self.rt, ctxt, instance_uuid, event, host, phase, result,
                             traceback)

    def build_failed(self, ctxt: RequestContext, instance_uuid: str, host: str,
                     message: str, details: str | None = None, reschedule: bool = True,
                     attempt: int = 1) -> None:
        build.build_failed(self.rt, ctxt, instance_uuid, host, message, details,
                           reschedule, attempt)

    def port_statuses(self, ctxt: RequestContext, port_ids: list[str]) -> dict[str, str]:
        return networking.port_statuses(self.rt, port_ids)

    def instance_deleted(self, ctxt: RequestContext, instance_uuid: str, host: str) -> None:
        delete.instance_deleted(self.rt, ctxt, instance_uuid, host)

    def snapshot_finished(self, ctxt: RequestContext, instance_uuid: str, image_id: str,
                          error: str | None = None) -> None:
        snapshot.finished(self.rt, ctxt, instance_uuid, image_id, error)

    def resize_finished(self, ctxt: RequestContext, instance_uuid: str, migration_uuid: str,
                        step: str, error: str | None = None) -> None:
        resize_confirm.finished(self.rt, ctxt, instance_uuid, migration_uuid, step, error)

    # ------------------------------------------------------------------- diagnostics
    def ping(self, ctxt: RequestContext, message: str) -> str:
        """Echo (call); used to prove the request ID crosses the bus."""
        LOG.info("ping: %s", message)
        return message
