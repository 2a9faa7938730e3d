"""Hosting VolumeRpcManager: the conductor daemon serves these endpoints on this topic."""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from common import messaging
from common.rpc import volume as volume_rpc
from controller.runtime import Runtime
from controller.volume.rpc import VolumeRpcManager


def topic(conf: cfg.ConfigOpts) -> str:
    """``[volume_rpc] server_topic``: where the volume agents send their reports."""
    volume_rpc.register(conf)
    return conf.volume_rpc.server_topic


def endpoints(rt: Runtime) -> list[Any]:
    return [VolumeRpcManager(rt)]


def server(rt: Runtime, host: str | None = None):
    """An RPC server (not started) for the agents' reports; start() and, at the end,
    stop() and wait() it."""
    return messaging.rpc_server(rt.conf, topic(rt.conf), endpoints(rt), server=host)
