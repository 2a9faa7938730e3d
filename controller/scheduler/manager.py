"""The scheduler's RPC endpoint: thin, the work is in ``selector`` and ``claims``."""

from __future__ import annotations

import logging
from typing import Any

from common.context import RequestContext
from controller.runtime import Runtime
from controller.scheduler.selector import Selector

LOG = logging.getLogger(__name__)


class SchedulerManager:
    """Serves ``controller.scheduler.rpcapi.SchedulerAPI``."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        # Built now, so a typo in [scheduler] enabled_filters stops the daemon at start.
        self.selector = Selector(rt)

    def ping(self, ctxt: RequestContext, message: str) -> str:
        """Echo (call); used to prove the request ID crosses the bus."""
        LOG.info("ping: %s", message)
        return message

    def select_destinations(self, ctxt: RequestContext, request_spec: dict[str, Any],
                            instance_uuids: list[str], exclude_hosts: list[str] | None = None,
                            move_from: str | None = None) -> dict[str, Any]:
        """Pick and claim a host per instance (call); see the rpcapi for the contract.

        :raises ValueError: request_spec has no usable flavor.
        """
        LOG.info("Scheduling %d instance(s) (exclude %s, move_from %s)",
                 len(instance_uuids), exclude_hosts or [], move_from)
        return self.selector.select_destinations(request_spec, list(instance_uuids),
                                                 exclude_hosts, move_from)
