"""DiskFilter: disk x disk_allocation_ratio - reserved - claimed leaves room for the flavor
(root + ephemeral + swap; a volume-backed root disk does not count)."""

from __future__ import annotations

from controller.scheduler.filters.base import BaseFilter
from controller.scheduler.host_state import HostState
from controller.scheduler.spec import RequestSpec


class DiskFilter(BaseFilter):
    name = "DiskFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return host.free_disk_gb >= spec.resources.disk_gb

    def describe(self, spec: RequestSpec) -> str:
        return f"for {spec.resources.disk_gb} GB disk"
