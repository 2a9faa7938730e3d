"""What the conductor daemon needs to serve the network agents' RPC.

    from controller.network import rpc_server
    server = messaging.rpc_server(conf, rpc_server.topic(conf), rpc_server.endpoints(rt))
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from common import messaging
from common.rpc import network as network_rpc
from controller.network.rpc import NetworkRpcManager
from controller.runtime import Runtime


def topic(conf: cfg.ConfigOpts) -> str:
    """The topic the agents' NetworkServerAPI calls ([network_rpc] server_topic)."""
    network_rpc.register(conf)
    return conf.network_rpc.server_topic


def endpoints(rt: Runtime) -> list[Any]:
    return [NetworkRpcManager(rt)]


def start(rt: Runtime) -> Any:
    """Start an RPC server for the agents on this host; the caller stops and waits it."""
    server = messaging.rpc_server(rt.conf, topic(rt.conf), endpoints(rt))
    server.start()
    return server
