"""AvailabilityZoneFilter: the host's compute service is in the requested zone."""

from __future__ import annotations

from controller.scheduler.filters.base import BaseFilter
from controller.scheduler.host_state import HostState
from controller.scheduler.spec import RequestSpec


class AvailabilityZoneFilter(BaseFilter):
    name = "AvailabilityZoneFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return spec.availability_zone is None or host.zone == spec.availability_zone

    def describe(self, spec: RequestSpec) -> str:
        return f"in availability zone {spec.availability_zone}"
