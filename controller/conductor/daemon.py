"""stratus-conductor's entry point: the RPC endpoint plus the periodic reconciliation."""

from __future__ import annotations

import sys

from controller import daemon
from controller.conductor import reconcile
from controller.conductor.manager import ConductorManager

__all__ = ["ConductorManager", "main"]


def main(argv: list[str] | None = None) -> int:
    return daemon.run("stratus-conductor", lambda conf: conf.conductor.topic,
                      lambda rt: [ConductorManager(rt)],
                      sys.argv[1:] if argv is None else argv,
                      periodic=daemon.Periodic(reconcile.run_once,
                                               lambda conf: conf.conductor.periodic_interval))
