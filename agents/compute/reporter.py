"""How the agent reports to the conductor: this host's name filled in, calls retried.

Agents never touch the database; every result goes through ``common.rpc.conductor``.
States are reported as plain strings (agents do not import the controller's
``states``): vm_state ``active``, ``stopped``, ``paused``, ``suspended``, ``resized``,
``error``; task_state None when done.

Casts (events, faults, results) are best effort: a failure is logged and the operation
goes on (the periodic power-state sync repairs what a lost report leaves behind).
``instance_update`` is a call whose answer matters (the guard), so it is retried on a
timeout (it is idempotent) and raises :class:`ReportFailed` when the conductor stays
silent.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import traceback
from collections.abc import Iterator
from typing import Any

from agents.compute.power_state import PowerState
from common.context import RequestContext
from common.messaging import messaging as oslo_messaging
from common.rpc.conductor import ConductorAPI

LOG = logging.getLogger(__name__)

# What the guest's power state means for the instance, once no task is running.
VM_STATE_BY_POWER = {
    PowerState.RUNNING: "active",
    PowerState.PAUSED: "paused",
    PowerState.SUSPENDED: "suspended",
    PowerState.SHUTDOWN: "stopped",
    PowerState.CRASHED: "stopped",
    PowerState.NOSTATE: "stopped",
}


class ReportFailed(Exception):
    """The conductor did not answer an instance_update."""


def utcnow_iso() -> str:
    """Now, as the ISO 8601 UTC timestamp (no offset) the conductor stores."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None).isoformat()


class Reporter:
    """The conductor client, bound to this agent's host."""

    def __init__(self, conductor: ConductorAPI, host: str, attempts: int = 3):
        self.conductor = conductor
        self.host = host
        self._attempts = attempts

    def update(self, ctx: RequestContext, instance_uuid: str, updates: dict[str, Any],
               expected_task_state: list[str | None] | None = None) -> dict[str, Any] | None:
        """instance_update; None when the guard failed (deleted, or another task).

        :raises ReportFailed: the conductor did not answer after the retries.
        """
        for attempt in range(1, self._attempts + 1):
            try:
                return self.conductor.instance_update(ctx, instance_uuid, updates,
                                                      expected_task_state)
            except oslo_messaging.MessagingTimeout as exc:
                LOG.warning("instance_update of %s timed out (attempt %d of %d)",
                            instance_uuid, attempt, self._attempts)
                last = exc
        raise ReportFailed(f"the conductor did not answer instance_update of "
                           f"{instance_uuid}") from last

    def instances_on_host(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """The controller's view of this host (raises on any RPC error: never guess)."""
        return self.conductor.instances_on_host(ctx, self.host)

    @contextlib.contextmanager
    def event(self, ctx: RequestContext, instance_uuid: str, event: str) -> Iterator[None]:
        """action_event start, then finish Success, or Error with the traceback."""
        self._cast("action_event", ctx, instance_uuid, event, self.host, "start")
        try:
            yield
        except Exception:
            self._cast("action_event", ctx, instance_uuid, event, self.host, "finish",
                       result="Error", traceback=traceback.format_exc(limit=20))
            raise
        self._cast("action_event", ctx, instance_uuid, event, self.host, "finish",
                   result="Success")

    def fault(self, ctx: RequestContext, instance_uuid: str, message: str,
              details: str | None = None, code: int = 500) -> None:
        self._cast("instance_fault", ctx, instance_uuid, self.host, message, details, code)

    def build_failed(self, ctx: RequestContext, instance_uuid: str, message: str,
                     details: str | None, reschedule: bool, attempt: int) -> None:
        self._cast("build_failed", ctx, instance_uuid, self.host, message, details,
                   reschedule, attempt)

    def instance_deleted(self, ctx: RequestContext, instance_uuid: str) -> None:
        self._cast("instance_deleted", ctx, instance_uuid, self.host)

    def snapshot_finished(self, ctx: RequestContext, instance_uuid: str, image_id: str,
                          error: str | None = None) -> None:
        self._cast("snapshot_finished", ctx, instance_uuid, image_id, error)

    def resize_finished(self, ctx: RequestContext, instance_uuid: str, migration_uuid: str,
                        step: str, error: str | None = None) -> None:
        self._cast("resize_finished", ctx, instance_uuid, migration_uuid, step, error)

    def _cast(self, method: str, *args: Any, **kwargs: Any) -> None:
        try:
            getattr(self.conductor, method)(*args, **kwargs)
        except Exception:  # noqa: BLE001 - a lost report must not abort the work
            LOG.exception("could not send %s to the conductor", method)
