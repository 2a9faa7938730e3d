"""RPC to the scheduler (topic ``[scheduler] topic``), sent by the conductor.

Served by ``controller.scheduler.manager.SchedulerManager``. Every method is a *call*:
the conductor waits for the hosts it must use.
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from common import messaging
from common.context import RequestContext


class SchedulerAPI:
    """Client side of the scheduler's RPC interface."""

    def __init__(self, conf: cfg.ConfigOpts):
        self._client = messaging.rpc_client(conf, conf.scheduler.topic)

    def select_destinations(self, ctx: RequestContext, request_spec: dict[str, Any],
                            instance_uuids: list[str],
                            exclude_hosts: list[str] | None = None,
                            move_from: str | None = None) -> dict[str, Any]:
        """Pick a host per instance and claim the resources there, atomically.

        request_spec: see ``common.rpc.conductor.ConductorAPI.build_instances``.
        exclude_hosts: hosts already tried (reschedules). move_from: for a resize, the
        migration uuid that takes over the source host's allocation (the instance's
        own uuid then holds the new flavor on the chosen host).

        Returns ``{"selections": [{"instance_uuid", "host", "node", "compute_node_id"}],
        "failed": {instance_uuid: "No valid host was found. <which filter emptied the
        list>"}}``: every instance is in exactly one of the two. A claim is made for
        each selection before this returns; the conductor releases it (in SQL, through
        ``controller.scheduler.claims``) if the build is abandoned.
        """
        return self._client.call(ctx, "select_destinations", request_spec=request_spec,
                                 instance_uuids=instance_uuids,
                                 exclude_hosts=list(exclude_hosts or []),
                                 move_from=move_from)
