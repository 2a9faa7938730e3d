"""Converging this host on the controller's view: at start-up, on request, and the
periodic power-state report.

Start-up (``full_sync(startup=True)``), only once the controller answered
``instances_on_host`` (an RPC error must never make every guest look orphaned):

- instances this host was *building* when the agent stopped: their build cast is lost
  (casts are acknowledged on receipt), so whatever exists is destroyed and
  ``build_failed(reschedule=True)`` sent: they end ACTIVE elsewhere or ERROR, never
  stuck in BUILD;
- instances being *deleted* (task deleting): the delete is finished here;
- then :func:`reconcile.converge`: orphans (domains and files of deleted instances or
  of instances the controller does not place here) are destroyed, and the power state
  of every other instance is reported (NOSTATE for a missing domain).

Domains other agents own on the same libvirtd never appear (``list_instances`` only
returns this agent's). Instances with an operation in flight are skipped.
"""

from __future__ import annotations

import logging
from typing import Any

from agents.compute import reconcile
from agents.compute.driver import ComputeDriver
from agents.compute.exception import ComputeError
from agents.compute.locks import InstanceLocks
from agents.compute.power_state import PowerState
from agents.compute.reporter import Reporter
from common.context import RequestContext

LOG = logging.getLogger(__name__)


class HostSync:
    """Start-up reconciliation and power-state reports for one agent."""

    def __init__(self, driver: ComputeDriver, reporter: Reporter, locks: InstanceLocks):
        self.driver = driver
        self.reporter = reporter
        self.locks = locks

    def full_sync(self, ctx: RequestContext, startup: bool = False) -> dict[str, int] | None:
        """Reconcile; None when the controller's view could not be had (try later).

        :raises HypervisorUnavailable: the host's domains cannot be listed.
        """
        try:
            rows = self.reporter.instances_on_host(ctx)
        except Exception as exc:  # noqa: BLE001 - any RPC error: do not reconcile
            LOG.warning("reconciliation postponed: the conductor did not list this host's "
                        "instances (%s)", exc)
            return None
        busy = self.locks.busy()
        stats = {"build_failed": 0, "deleted": 0, "destroyed": 0, "reported": 0}
        settled = set(busy)
        for row in rows:
            uuid = row["uuid"]
            if row.get("deleted") or uuid in busy:
                continue
            if row.get("task_state") == "deleting":  # a lost delete cast, whatever state
                self._finish_delete(ctx, uuid)
                stats["deleted"] += 1
                settled.add(uuid)
            elif startup and row.get("vm_state") == "building":
                self._fail_interrupted_build(ctx, uuid)
                stats["build_failed"] += 1
                settled.add(uuid)
        expected = [reconcile.Expected(row["uuid"], bool(row.get("deleted")))
                    for row in rows if row["uuid"] not in settled]
        # Busy instances and those just settled count as expected: never orphans here.
        expected += [reconcile.Expected(uuid) for uuid in settled]
        for action in reconcile.converge(self.driver, expected):
            if action.kind is reconcile.Kind.DESTROY:
                stats["destroyed"] += 1
            elif action.uuid not in settled:
                self._report_power(ctx, action.uuid, action.power_state)
                stats["reported"] += 1
        LOG.info("reconciliation done: %s", stats)
        return stats

    def sync_power_states(self, ctx: RequestContext) -> int:
        """Report every idle guest's power state; the conductor decides what follows.

        :raises HypervisorUnavailable: the host's domains cannot be listed.
        """
        reported = 0
        for info in self.driver.list_instances():
            with self.locks.hold(info.uuid, blocking=False) as idle:
                if not idle:
                    continue
                try:  # re-read under the lock: the listing may predate an operation
                    state = self.driver.get_info(info.uuid).power_state
                except ComputeError:
                    continue
                self._report_power(ctx, info.uuid, state)
                reported += 1
        return reported

    def _report_power(self, ctx: RequestContext, uuid: str, state: PowerState) -> None:
        try:
            self.reporter.update(ctx, uuid, {"power_state": int(state)})
        except Exception as exc:  # noqa: BLE001 - next sync retries
            LOG.warning("could not report the power state of %s: %s", uuid, exc)

    def _fail_interrupted_build(self, ctx: RequestContext, uuid: str) -> None:
        LOG.warning("instance %s was being built when the agent stopped; removing what "
                    "exists and asking for a reschedule", uuid)
        message = (f"The compute agent on {self.reporter.host} restarted while building "
                   "the instance; it is rescheduled.")
        try:
            self.driver.destroy(uuid)
        except ComputeError as exc:
            LOG.error("could not remove the interrupted build of %s: %s", uuid, exc)
            message += f" Removing what was built failed ({exc}); it is removed at the " \
                       "next start of the agent."
        self.reporter.build_failed(ctx, uuid, message, None, reschedule=True, attempt=1)

    def _finish_delete(self, ctx: RequestContext, uuid: str) -> None:
        try:
            self.driver.destroy(uuid)
        except ComputeError as exc:
            LOG.error("could not finish the delete of %s: %s", uuid, exc)
            return
        self.reporter.instance_deleted(ctx, uuid)


def rows_by_uuid(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """instances_on_host rows keyed by uuid (the live ones)."""
    return {row["uuid"]: row for row in rows if not row.get("deleted")}
