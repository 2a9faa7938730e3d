"""RPC to the conductor (topic ``[conductor] topic``; any conductor may answer).

Two kinds of senders:

- the compute API starts workflows (all casts): the API has validated the request,
  checked policy, quota and state, recorded the instance action and set the task_state
  with a guarded update; the conductor carries the workflow out;
- the compute agents report (agents never touch the database): heartbeats, inventory,
  progress and results of the steps the conductor asked for.

Served by ``controller.conductor.manager.ConductorManager``.
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from common import messaging
from common.context import RequestContext


class ConductorAPI:
    """Client side of the conductor's RPC interface."""

    def __init__(self, conf: cfg.ConfigOpts):
        self._client = messaging.rpc_client(conf, conf.conductor.topic)

    def _call(self, ctx: RequestContext, method: str, **kwargs: Any) -> Any:
        return self._client.call(ctx, method, **kwargs)

    def _cast(self, ctx: RequestContext, method: str, **kwargs: Any) -> None:
        self._client.cast(ctx, method, **kwargs)

    # ------------------------------------------------- workflows, from the API (casts)
    def build_instances(self, ctx: RequestContext, instance_uuids: list[str],
                        request_spec: dict[str, Any]) -> None:
        """Schedule and build instances the API created (vm_state building, task
        scheduling). request_spec: {"flavor": {...}, "image": {...} | None,
        "availability_zone": str | None, "group_uuid": str | None,
        "force_hosts": [str], "num_instances": int, "project_id": str}."""
        self._cast(ctx, "build_instances", instance_uuids=instance_uuids,
                   request_spec=request_spec)

    def run_instance_action(self, ctx: RequestContext, instance_uuid: str, action: str,
                            params: dict[str, Any] | None = None) -> None:
        """One of states.ACTIONS (stop, start, reboot_soft, reboot_hard, pause, unpause,
        suspend, resume, rebuild, resize, confirm_resize, revert_resize, snapshot).
        params: rebuild {"image_id", "name"?, "metadata"?}; resize {"flavor_id"};
        snapshot {"image_id"} (the API created the queued image record)."""
        self._cast(ctx, "run_instance_action", instance_uuid=instance_uuid, action=action,
                   params=params or {})

    def detach_interface(self, ctx: RequestContext, instance_uuid: str,
                         port_id: str) -> None:
        """Hot-unplug port_id from the instance (the API checked that it is attached
        and recorded the detach_interface action), then release the port: deleted if
        compute created it, unbound if the user handed it in."""
        self._cast(ctx, "detach_interface", instance_uuid=instance_uuid, port_id=port_id)

    def attach_volume(self, ctx: RequestContext, instance_uuid: str, volume_id: str) -> None:
        """Attach volume_id (the API reserved it, recorded the mapping as attaching and
        the attach_volume action): export it to the server's host, hot-plug it, mark it
        in-use; on failure the reservation and the mapping are removed."""
        self._cast(ctx, "attach_volume", instance_uuid=instance_uuid, volume_id=volume_id)

    def detach_volume(self, ctx: RequestContext, instance_uuid: str, volume_id: str) -> None:
        """Detach volume_id (the API marked its mapping detaching and recorded the
        detach_volume action): hot-unplug it, remove the export and the attachment; on
        failure the volume stays attached."""
        self._cast(ctx, "detach_volume", instance_uuid=instance_uuid, volume_id=volume_id)

    def delete_instance(self, ctx: RequestContext, instance_uuid: str) -> None:
        """Delete the instance (task deleting already set by the API): agent, claims,
        ports and volumes later; the row is marked deleted at the end."""
        self._cast(ctx, "delete_instance", instance_uuid=instance_uuid)

    # ------------------------------------------------------- from the compute agents
    def report_state(self, ctx: RequestContext, host: str, binary: str,
                     topic: str | None = None) -> None:
        """Cast: the agent's heartbeat (services table)."""
        self._cast(ctx, "report_state", host=host, binary=binary, topic=topic)

    def update_compute_node(self, ctx: RequestContext, host: str,
                            resources: dict[str, Any]) -> None:
        """Cast: this host's inventory (HostResources as a dict, plus host_ip)."""
        self._cast(ctx, "update_compute_node", host=host, resources=resources)

    def instances_on_host(self, ctx: RequestContext, host: str) -> list[dict[str, Any]]:
        """Call: every instance the controller places on host, recently deleted ones
        included: [{"uuid", "deleted", "vm_state", "task_state", "power_state"}]."""
        return self._call(ctx, "instances_on_host", host=host)

    def instance_update(self, ctx: RequestContext, instance_uuid: str,
                        updates: dict[str, Any],
                        expected_task_state: list[str | None] | None = None
                        ) -> dict[str, Any] | None:
        """Call: set vm_state/task_state/power_state/launched_at/progress... guarded by
        expected_task_state when given. Returns the instance's new
        {"uuid", "vm_state", "task_state", "power_state", "deleted"}, or None when the
        guard failed (the instance was deleted or another task took over: the agent
        must stop what it was doing)."""
        return self._call(ctx, "instance_update", instance_uuid=instance_uuid,
                          updates=updates, expected_task_state=expected_task_state)

    def instance_fault(self, ctx: RequestContext, instance_uuid: str, host: str,
                       message: str, details: str | None = None, code: int = 500) -> None:
        """Cast: record why an operation on the instance failed."""
        self._cast(ctx, "instance_fault", instance_uuid=instance_uuid, host=host,
                   message=message, details=details, code=code)

    def action_event(self, ctx: RequestContext, instance_uuid: str, event: str, host: str,
                     phase: str, result: str | None = None,
                     traceback: str | None = None) -> None:
        """Cast: phase "start" or "finish" (result Success | Error) of an action step,
        filed under the instance action of ctx.request_id."""
        self._cast(ctx, "action_event", instance_uuid=instance_uuid, event=event, host=host,
                   phase=phase, result=result, traceback=traceback)

    def build_failed(self, ctx: RequestContext, instance_uuid: str, host: str,
                     message: str, details: str | None = None, reschedule: bool = True,
                     attempt: int = 1) -> None:
        """Cast: the spawn failed on host and what it created there was removed.
        The conductor reschedules elsewhere (up to [scheduler] max_attempts) or puts
        the instance in ERROR with the fault."""
        self._cast(ctx, "build_failed", instance_uuid=instance_uuid, host=host,
                   message=message, details=details, reschedule=reschedule, attempt=attempt)

    def instance_deleted(self, ctx: RequestContext, instance_uuid: str, host: str) -> None:
        """Cast: the agent removed the domain and files; finish the delete."""
        self._cast(ctx, "instance_deleted", instance_uuid=instance_uuid, host=host)

    def port_statuses(self, ctx: RequestContext, port_ids: list[str]) -> dict[str, str]:
        """Call: {port id: status} ("ACTIVE" once the OVS agent wired it, "DOWN"...);
        a compute agent starts a new guest once its ports are ACTIVE."""
        # Short: the agent polls, and a slow answer must not outlast its own deadline.
        return self._client.prepare(timeout=10).call(ctx, "port_statuses",
                                                     port_ids=port_ids)

    def snapshot_finished(self, ctx: RequestContext, instance_uuid: str, image_id: str,
                          error: str | None = None) -> None:
        """Cast: the snapshot's data was uploaded (or failed: error says why)."""
        self._cast(ctx, "snapshot_finished", instance_uuid=instance_uuid, image_id=image_id,
                   error=error)

    def resize_finished(self, ctx: RequestContext, instance_uuid: str, migration_uuid: str,
                        step: str, error: str | None = None) -> None:
        """Cast: step "resize", "confirm" or "revert" of a resize is done (or failed)."""
        self._cast(ctx, "resize_finished", instance_uuid=instance_uuid,
                   migration_uuid=migration_uuid, step=step, error=error)
