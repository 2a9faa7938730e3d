"""ComputeFilter: the host's compute agent is up, and its service is enabled."""

from __future__ import annotations

from controller.scheduler.filters.base import BaseFilter
from controller.scheduler.host_state import HostState
from controller.scheduler.spec import RequestSpec


class ComputeFilter(BaseFilter):
    name = "ComputeFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        if not host.service_up:
            return False
        # An admin who forces a host (zone:host) may use it while it is disabled, to try
        # it out before it takes regular work.
        return not host.service_disabled or host.host in spec.force_hosts

    def describe(self, spec: RequestSpec) -> str:
        return "with an enabled compute service that is up"
