"""Host filters, chosen by name in ``[scheduler] enabled_filters``."""

from __future__ import annotations

from controller.scheduler.filters.affinity_filter import ServerGroupAffinityFilter
from controller.scheduler.filters.anti_affinity_filter import ServerGroupAntiAffinityFilter
from controller.scheduler.filters.availability_zone_filter import AvailabilityZoneFilter
from controller.scheduler.filters.base import BaseFilter
from controller.scheduler.filters.compute_filter import ComputeFilter
from controller.scheduler.filters.core_filter import CoreFilter
from controller.scheduler.filters.disk_filter import DiskFilter
from controller.scheduler.filters.ram_filter import RamFilter

ALL: dict[str, type[BaseFilter]] = {cls.name: cls for cls in (
    ComputeFilter, AvailabilityZoneFilter, RamFilter, CoreFilter, DiskFilter,
    ServerGroupAffinityFilter, ServerGroupAntiAffinityFilter)}


def load(names: list[str]) -> list[BaseFilter]:
    """One instance of each named filter, in the order given.

    :raises ValueError: a name is not a known filter.
    """
    unknown = [name for name in names if name not in ALL]
    if unknown:
        raise ValueError(f"[scheduler] enabled_filters names unknown filter(s) "
                         f"{', '.join(unknown)}; known: {', '.join(ALL)}")
    return [ALL[name]() for name in names]
