"""Build: schedule, hand the instance to its host's agent, reschedule on failure.

scheduling --select_destinations--> spawning (host set, claim held) --agent--> ACTIVE.
A spawn that fails on a host comes back as ``build_failed``: that host's claim is
released and the instance is scheduled again, excluding every host tried so far, until
``[scheduler] max_attempts`` hosts were tried; then it goes to ERROR with the fault.
Every step is guarded on the task it expects, so a delete that arrives at any point
wins and the claim made for a deleted instance is given back.
"""

from __future__ import annotations

import logging
from typing import Any

from oslo_config import cfg

from common.context import RequestContext
from controller.compute import states
from controller.conductor import (
    actions,
    boot_volumes,
    hosts,
    instances,
    machine,
    networking,
    spec,
)
from controller.db.models.servers import Instance
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

EVENT = "conductor_schedule_and_build_instances"
# system_metadata keys: the request spec (for reschedules) and the hosts tried so far.
SPEC_KEY = "request_spec"
TRIED_KEY = "build_hosts_tried"
_FALLBACK_MAX_ATTEMPTS = 3


def max_attempts(conf: cfg.ConfigOpts) -> int:
    """``[scheduler] max_attempts`` (3 where the scheduler's options are not registered)."""
    try:
        return int(conf.scheduler.max_attempts)
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, AttributeError):
        return _FALLBACK_MAX_ATTEMPTS


def tried_hosts(row) -> list[str]:
    """Hosts this instance's build was already sent to, oldest first."""
    value = (row.system_metadata or {}).get(TRIED_KEY) or ""
    return [host for host in value.split(",") if host]


def build_instances(rt: Runtime, ctx: RequestContext, instance_uuids: list[str],
                    request_spec: dict[str, Any]) -> None:
    """Schedule instance_uuids together (groups, counts) and send each to its host."""
    live = []
    for uuid in instance_uuids:
        row = instances.get(rt, uuid)
        if row is None or row.deleted or row.task_state != states.SCHEDULING:
            LOG.info("instance %s is no longer waiting to be scheduled; skipped", uuid)
            continue
        actions.event(rt, ctx, uuid, EVENT, "start")
        own_spec = {**request_spec, "num_instances": 1}
        metadata = {**(row.system_metadata or {}), SPEC_KEY: own_spec, TRIED_KEY: ""}
        if instances.update(rt, ctx, uuid, {"system_metadata": metadata},
                            [states.SCHEDULING]) is not None:
            live.append(uuid)
    if not live:
        return
    result = _select(rt, ctx, request_spec, live, [])
    for uuid, message in result["failed"].items():
        fail(rt, ctx, uuid, message, code=500)
    _launch_all(rt, ctx, result["selections"])


def _launch_all(rt: Runtime, ctx: RequestContext, selections: list[dict[str, Any]]) -> None:
    """Launch each selection; an unexpected failure fails that build alone."""
    for selection in selections:
        try:
            launch(rt, ctx, selection)
        except Exception:  # noqa: BLE001 - one bad launch must not strand the others
            LOG.exception("launching instance %s on %s failed", selection["instance_uuid"],
                          selection["host"])
            hosts.release_on_host(rt, selection["instance_uuid"], selection["host"])
            fail(rt, ctx, selection["instance_uuid"],
                 "The build could not be sent to the compute host; see the conductor log "
                 "under this request ID.", code=500)


def _select(rt: Runtime, ctx: RequestContext, request_spec: dict[str, Any],
            uuids: list[str], exclude: list[str]) -> dict[str, Any]:
    try:
        return rt.scheduler_api.select_destinations(ctx, request_spec, uuids,
                                                    exclude_hosts=exclude)
    except Exception as exc:  # noqa: BLE001 - any RPC failure fails these builds
        LOG.exception("select_destinations failed for %s", uuids)
        reason = f"No valid host was found. The scheduler could not be asked: {exc}"
        return {"selections": [], "failed": dict.fromkeys(uuids, reason)}


def launch(rt: Runtime, ctx: RequestContext, selection: dict[str, Any]) -> None:
    """Record the chosen host and cast the build to it (the claim is already made)."""
    uuid, host = selection["instance_uuid"], selection["host"]
    row = instances.get(rt, uuid)
    tried = tried_hosts(row) if row is not None else []
    metadata = {**((row.system_metadata if row else None) or {}),
                TRIED_KEY: ",".join([*tried, host])}
    placed = {"host": host, "node": selection.get("node") or host, "launched_on": host,
              "system_metadata": metadata}
    if row is not None and not row.availability_zone:
        # As Nova does: a server booted without a zone belongs to its host's zone.
        placed["availability_zone"] = hosts.zone_of(rt, host)
    row = instances.apply(rt, ctx, uuid, "build.placed", placed)
    if row is None:
        # Deleted (or otherwise taken over) while we were scheduling: give the claim back.
        LOG.info("instance %s left scheduling meanwhile; releasing its claim on %s",
                 uuid, host)
        hosts.release_on_host(rt, uuid, host)
        return
    attempt = len(tried) + 1
    row = _allocate_networks(rt, ctx, row, host)
    if row is None:
        return
    row = _prepare_volumes(rt, ctx, row, host)
    if row is None:
        return
    try:
        instance_spec = spec.build(rt, ctx, row)
    except spec.SpecError as exc:
        hosts.release_on_host(rt, uuid, host)
        fail(rt, ctx, uuid, exc.message, code=400)
        return
    # (instance.create.start was emitted by the API when it wrote the row.)
    actions.event(rt, ctx, uuid, EVENT, "finish", result=actions.SUCCESS)
    try:
        rt.compute_api.build_and_run_instance(ctx, host, instance_spec, attempt=attempt)
    except Exception as exc:  # noqa: BLE001 - the bus refused the cast
        LOG.exception("could not send the build of %s to %s", uuid, host)
        hosts.release_on_host(rt, uuid, host)
        fail(rt, ctx, uuid, f"Could not send the build request to host {host}: {exc}",
             host=host)


def _allocate_networks(rt: Runtime, ctx: RequestContext, row: Instance,
                       host: str) -> Instance | None:
    """Give row its ports on host (task networking), then move it to spawning.

    Returns the updated row, or None when the build stops here: the allocation failed
    (ERROR with the fault; as in Nova this is not rescheduled, another host would not
    change the answer) or the instance was deleted meanwhile (its ports are released
    here, as the delete may have run before they existed).
    """
    try:
        networking.allocate(rt, ctx, row, host)
    except Exception as exc:  # noqa: BLE001 - whatever failed, this build cannot go on
        LOG.warning("instance %s: network allocation on %s failed: %s", row.uuid, host, exc)
        hosts.release_on_host(rt, row.uuid, host)
        fail(rt, ctx, row.uuid, networking.failure_message(exc), host=host)
        return None
    spawning = instances.apply(rt, ctx, row.uuid, "build.spawning")
    if spawning is None:
        LOG.info("instance %s left networking meanwhile; releasing its ports", row.uuid)
        networking.release(rt, ctx, row.uuid)
    return spawning


def _prepare_volumes(rt: Runtime, ctx: RequestContext, row: Instance,
                     host: str) -> Instance | None:
    """Make the build's volumes ready on host (task block_device_mapping), then back to
    spawning. None when the build stops here: a volume failed (ERROR with the fault, the
    volumes unwound by fail) or the instance was deleted meanwhile."""
    if not boot_volumes.has_volumes(rt, row.uuid):
        return row
    try:
        if not boot_volumes.prepare(rt, ctx, row, host):
            return None
    except boot_volumes.BlockDeviceError as exc:
        hosts.release_on_host(rt, row.uuid, host)
        fail(rt, ctx, row.uuid, exc.message, host=host, code=exc.code)
        return None
    return instances.apply(rt, ctx, row.uuid, "build.spawning")


def build_failed(rt: Runtime, ctx: RequestContext, uuid: str, host: str, message: str,
                 details: str | None = None, reschedule: bool = True,
                 attempt: int = 1) -> None:
    """The spawn on host failed (and was cleaned up there): reschedule or ERROR."""
    row = instances.get(rt, uuid)
    if (row is None or row.deleted or row.host != host
            or row.task_state not in machine.BUILD_ON_HOST):
        # A late report: the instance moved on (deleted, or already rescheduled).
        LOG.info("build_failed for %s on %s ignored: the instance moved on", uuid, host)
        if row is None or row.deleted or row.host != host:
            hosts.release_on_host(rt, uuid, host)
        return
    hosts.release_on_host(rt, uuid, host)
    tried = tried_hosts(row)
    limit = max_attempts(rt.conf)
    if not reschedule:
        fail(rt, ctx, uuid, message, details, host=host)
        return
    if max(len(tried), attempt) >= limit:
        fail(rt, ctx, uuid, f"Exceeded maximum number of retries. Exhausted all hosts "
             f"available for retrying build failures for instance {uuid} ({limit} "
             f"attempts). Last error: {message}", details, host=host)
        return
    if instances.apply(rt, ctx, uuid, "build.reschedule") is None:
        return
    boot_volumes.unplug(rt, ctx, uuid, host)  # the next host gets its own exports
    # Each failed host leaves its fault behind, so the history says why it moved.
    actions.add_fault(rt, uuid, message, details, host=host)
    LOG.info("rescheduling %s away from %s (attempt %d of %d)", uuid, ", ".join(tried),
             len(tried) + 1, limit)
    actions.event(rt, ctx, uuid, EVENT, "start")
    request_spec = (row.system_metadata or {}).get(SPEC_KEY) or _spec_from_row(row)
    result = _select(rt, ctx, request_spec, [uuid], tried)
    if uuid in result["failed"]:
        fail(rt, ctx, uuid, result["failed"][uuid])
        return
    _launch_all(rt, ctx, result["selections"])


def _spec_from_row(row) -> dict[str, Any]:
    """A request spec for an instance whose saved one is missing (built before it was)."""
    return {"flavor": row.flavor, "image": {"id": row.image_ref} if row.image_ref else None,
            "availability_zone": row.availability_zone, "group_uuid": None,
            "force_hosts": [], "num_instances": 1, "project_id": row.project_id}


def fail(rt: Runtime, ctx: RequestContext, uuid: str, message: str,
         details: str | None = None, host: str | None = None, code: int = 500) -> None:
    """Put a building instance in ERROR with a fault; its claims go (nothing runs)."""
    row = instances.apply(rt, ctx, uuid, "build.error")
    if row is None:
        current = instances.get(rt, uuid)
        if current is not None and current.deleted:
            hosts.release_all(rt, uuid, [])  # a delete won meanwhile; claims are moot
            networking.release(rt, ctx, uuid)
        return  # otherwise the build moved on (e.g. it became ACTIVE): keep its claim
    hosts.release_all(rt, uuid, [])
    networking.release(rt, ctx, uuid)  # ports made for it deleted, the user's unbound
    boot_volumes.unwind(rt, ctx, uuid)  # attachments released, volumes it made deleted
    actions.add_fault(rt, uuid, message, details, host=host, code=code)
    actions.event(rt, ctx, uuid, EVENT, "finish", result=actions.ERROR, traceback=message)
    actions.finish(rt, ctx, uuid, error=True)
    instances.notify(rt, ctx, uuid, "instance.create.error", {"fault": message})
