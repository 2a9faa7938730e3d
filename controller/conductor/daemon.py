"""stratus-conductor's entry point: the RPC endpoint plus the periodic reconciliation.

The conductor also serves the network and volume agents' reports: they need a
long-lived process with database access, and this one already is.
"""

from __future__ import annotations

import sys

from controller import daemon
from controller.conductor import reconcile
from controller.conductor.manager import ConductorManager
from controller.network import rpc_server as network_rpc_server
from controller.runtime import Runtime
from controller.volume import rpc_server as volume_rpc_server

__all__ = ["ConductorManager", "main"]


def agent_servers(rt: Runtime) -> list[tuple[str, list]]:
    """(topic, endpoints) of the network and volume agents' server side."""
    return [(module.topic(rt.conf), module.endpoints(rt))
            for module in (network_rpc_server, volume_rpc_server)]


def main(argv: list[str] | None = None) -> int:
    return daemon.run("stratus-conductor", lambda conf: conf.conductor.topic,
                      lambda rt: [ConductorManager(rt)],
                      sys.argv[1:] if argv is None else argv,
                      periodic=daemon.Periodic(reconcile.run_once,
                                               lambda conf: conf.conductor.periodic_interval),
                      extra=agent_servers)
