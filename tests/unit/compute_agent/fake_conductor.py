"""An in-memory stand-in for the conductor's agent-facing RPC methods.

It keeps instance rows and applies instance_update's guard as the contract says
(``common.rpc.conductor``): None when the instance is deleted or its task_state is not
one of expected_task_state. Every method call is recorded in order.
"""

from __future__ import annotations

import threading
from typing import Any


class FakeConductor:
    def __init__(self, host: str = "agent-a"):
        self.host = host
        self.rows: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str | None, dict[str, Any]]] = []
        self.fail_listing: Exception | None = None
        self._lock = threading.Lock()
        self.on_update = None  # hook(uuid, updates) run before an update is applied

    def add(self, uuid: str, vm_state: str = "building", task_state: str | None = "scheduling",
            power_state: int = 0, deleted: bool = False, host: str | None = None) -> None:
        self.rows[uuid] = {"uuid": uuid, "vm_state": vm_state, "task_state": task_state,
                           "power_state": power_state, "deleted": deleted,
                           "host": host or self.host}

    def _record(self, method: str, uuid: str | None, **details: Any) -> None:
        with self._lock:
            self.calls.append((method, uuid, details))

    def names(self, uuid: str | None = None) -> list[str]:
        """Method names called (for uuid), events spelled "event:<name>:<phase>"."""
        out = []
        for method, call_uuid, details in self.calls:
            if uuid is not None and call_uuid != uuid:
                continue
            if method == "action_event":
                out.append(f"event:{details['event']}:{details['phase']}"
                           + (f":{details['result']}" if details.get("result") else ""))
            else:
                out.append(method)
        return out

    def last(self, method: str) -> dict[str, Any]:
        return [details for name, _, details in self.calls if name == method][-1]

    # ----------------------------------------------------------- the RPC methods
    def report_state(self, ctx, host, binary, topic=None):
        self._record("report_state", None, host=host, binary=binary, topic=topic)

    def update_compute_node(self, ctx, host, resources):
        self._record("update_compute_node", None, host=host, resources=resources)

    def instances_on_host(self, ctx, host):
        self._record("instances_on_host", None, host=host)
        if self.fail_listing:
            raise self.fail_listing
        return [{k: v for k, v in row.items() if k != "host"}
                for row in self.rows.values() if row["host"] == host]

    def instance_update(self, ctx, instance_uuid, updates, expected_task_state=None):
        if self.on_update:
            self.on_update(instance_uuid, updates)
        self._record("instance_update", instance_uuid, updates=dict(updates),
                     expected=expected_task_state, request_id=ctx.request_id)
        row = self.rows.get(instance_uuid)
        if row is None or row["deleted"]:
            return None
        if expected_task_state is not None and row["task_state"] not in expected_task_state:
            return None
        row.update(updates)
        return {k: row[k] for k in ("uuid", "vm_state", "task_state", "power_state",
                                    "deleted")}

    def instance_fault(self, ctx, instance_uuid, host, message, details=None, code=500):
        self._record("instance_fault", instance_uuid, message=message, code=code)

    def action_event(self, ctx, instance_uuid, event, host, phase, result=None,
                     traceback=None):
        self._record("action_event", instance_uuid, event=event, phase=phase, result=result,
                     request_id=ctx.request_id)

    def build_failed(self, ctx, instance_uuid, host, message, details=None, reschedule=True,
                     attempt=1):
        self._record("build_failed", instance_uuid, message=message, reschedule=reschedule,
                     attempt=attempt)

    def instance_deleted(self, ctx, instance_uuid, host):
        self._record("instance_deleted", instance_uuid)
        if instance_uuid in self.rows:
            self.rows[instance_uuid]["deleted"] = True

    def snapshot_finished(self, ctx, instance_uuid, image_id, error=None):
        self._record("snapshot_finished", instance_uuid, image_id=image_id, error=error)

    def resize_finished(self, ctx, instance_uuid, migration_uuid, step, error=None):
        self._record("resize_finished", instance_uuid, migration_uuid=migration_uuid,
                     step=step, error=error)
