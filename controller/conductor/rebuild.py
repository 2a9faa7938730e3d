"""Rebuild: a fresh root disk from a (possibly new) image, same host, same flavor.

task rebuilding -> (image, name, metadata recorded; cast) rebuild_spawning -> the
agent reports the end through ``instance_update`` (None, or ERROR with a fault).
Before the cast nothing on the host changed, so a failure up to there clears the task
and restores what was recorded: the server is exactly as it was, plus a fault.
"""

from __future__ import annotations

import logging
from typing import Any

from common.context import RequestContext
from controller.compute import states
from controller.conductor import actions, hosts, instances, power, spec
from controller.db.models.servers import Instance
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)


def run(rt: Runtime, ctx: RequestContext, row: Instance, params: dict[str, Any]) -> None:
    """Rebuild row from params {"image_id", "name"?, "metadata"?}."""
    if row.task_state != states.REBUILDING:
        LOG.warning("rebuild of %s ignored: task_state is %s", row.uuid, row.task_state)
        return
    image_id = params.get("image_id") or row.image_ref
    instances.notify(rt, ctx, row.uuid, "instance.rebuild.start", {"image_id": image_id})
    try:
        spec.image_facts(rt, ctx, image_id)
    except spec.SpecError as exc:
        _fail(rt, ctx, row, exc.message, code=400)
        return
    if not hosts.compute_up(rt, row.host):
        _fail(rt, ctx, row, power.host_unreachable(row.host), code=409)
        return
    updates: dict[str, Any] = {"image_ref": image_id}
    if params.get("name"):
        updates["display_name"] = params["name"]
    if params.get("metadata") is not None:
        updates["metadata"] = dict(params["metadata"])
    if instances.apply(rt, ctx, row.uuid, "rebuild.spawning", updates) is None:
        return
    fresh = instances.get(rt, row.uuid)
    try:
        rt.compute_api.rebuild_instance(ctx, row.host, spec.build(rt, ctx, fresh))
    except spec.SpecError as exc:
        _fail(rt, ctx, row, exc.message, code=400)
    except Exception as exc:  # noqa: BLE001 - the bus refused the cast
        LOG.exception("could not send the rebuild of %s to %s", row.uuid, row.host)
        _fail(rt, ctx, row, f"Could not send the rebuild request to host {row.host}: {exc}")


def _fail(rt: Runtime, ctx: RequestContext, before: Instance, message: str,
          code: int = 500) -> None:
    """Nothing reached the host: restore image, name and metadata, clear the task."""
    restore = {"image_ref": before.image_ref, "display_name": before.display_name,
               "metadata": {item.key: item.value for item in before.metadata_items}}
    if instances.apply(rt, ctx, before.uuid, "rebuild.failed", restore) is None:
        return
    actions.add_fault(rt, before.uuid, message, host=before.host, code=code)
    actions.finish(rt, ctx, before.uuid, error=True)
    instances.notify(rt, ctx, before.uuid, "instance.rebuild.error", {"fault": message})
