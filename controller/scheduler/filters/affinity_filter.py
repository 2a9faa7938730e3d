"""ServerGroupAffinityFilter: members of an affinity group share one host."""

from __future__ import annotations

from controller.scheduler.filters.base import BaseFilter
from controller.scheduler.host_state import HostState
from controller.scheduler.spec import RequestSpec


class ServerGroupAffinityFilter(BaseFilter):
    name = "ServerGroupAffinityFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        group = spec.group
        if group is None or group.policy != "affinity" or not group.hosts:
            return True  # the first member may go anywhere; the rest follow it
        return host.host in group.hosts

    def describe(self, spec: RequestSpec) -> str:
        group = spec.group
        where = ", ".join(sorted(group.hosts)) if group else ""
        return f"for affinity server group {group.uuid if group else ''} (members on {where})"
