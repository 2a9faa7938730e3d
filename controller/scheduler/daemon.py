"""stratus-scheduler's entry point."""

from __future__ import annotations

import sys

from controller import daemon
from controller.scheduler.manager import SchedulerManager

__all__ = ["SchedulerManager", "main"]


def main(argv: list[str] | None = None) -> int:
    return daemon.run("stratus-scheduler", lambda conf: conf.scheduler.topic,
                      lambda rt: [SchedulerManager(rt)],
                      sys.argv[1:] if argv is None else argv)
