"""stratus-scheduler's entry point."""

from __future__ import annotations

import logging
import sys

from controller import daemon
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)


class SchedulerManager:
    """RPC endpoint of the scheduler (host selection arrives with compute)."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    def ping(self, ctxt, message: str) -> str:
        LOG.info("ping: %s", message)
        return message


def main(argv: list[str] | None = None) -> int:
    return daemon.run("stratus-scheduler", lambda conf: conf.scheduler.topic,
                      lambda rt: [SchedulerManager(rt)],
                      sys.argv[1:] if argv is None else argv)
