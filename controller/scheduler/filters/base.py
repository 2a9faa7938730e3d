"""What every scheduler filter is: a name, a yes/no per host, and what it checked."""

from __future__ import annotations

from typing import ClassVar

from controller.scheduler.host_state import HostState
from controller.scheduler.spec import RequestSpec


class BaseFilter:
    """A host filter; enabled by listing its ``name`` in ``[scheduler] enabled_filters``."""

    name: ClassVar[str]

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        """True when host can take one more instance of spec."""
        raise NotImplementedError

    def describe(self, spec: RequestSpec) -> str:
        """What was asked, for the "No valid host" message ("for 4096 MB RAM")."""
        return ""
