"""stratus-conductor's entry point and RPC endpoint."""

from __future__ import annotations

import logging
import sys

from controller import daemon, services
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)


class ConductorManager:
    """RPC endpoint: agents report here, since agents never touch the database."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    def report_state(self, ctxt, host: str, binary: str, topic: str | None = None) -> None:
        """Heartbeat on behalf of an agent (cast)."""
        services.report(self.rt, host, binary, topic)

    def ping(self, ctxt, message: str) -> str:
        """Echo (call); used to prove the request ID crosses the bus."""
        LOG.info("ping: %s", message)
        return message


def main(argv: list[str] | None = None) -> int:
    return daemon.run("stratus-conductor", lambda conf: conf.conductor.topic,
                      lambda rt: [ConductorManager(rt)],
                      sys.argv[1:] if argv is None else argv)
