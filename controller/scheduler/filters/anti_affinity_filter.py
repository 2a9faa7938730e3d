"""ServerGroupAntiAffinityFilter: members of an anti-affinity group go to different hosts
(at most ``max_server_per_host`` per host, from the group's rules; 1 by default)."""

from __future__ import annotations

from controller.scheduler.filters.base import BaseFilter
from controller.scheduler.host_state import HostState
from controller.scheduler.spec import RequestSpec


class ServerGroupAntiAffinityFilter(BaseFilter):
    name = "ServerGroupAntiAffinityFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        group = spec.group
        if group is None or group.policy != "anti-affinity":
            return True
        return group.hosts[host.host] < group.max_server_per_host

    def describe(self, spec: RequestSpec) -> str:
        group = spec.group
        return (f"for anti-affinity server group {group.uuid if group else ''} "
                f"(at most {group.max_server_per_host if group else 1} member(s) per host)")
