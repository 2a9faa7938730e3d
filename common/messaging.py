"""RPC and notification helpers on oslo.messaging.

The request context (and so the request ID) rides along with every message: the
server side puts it back into the logging context before the endpoint runs.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

# oslo.messaging pulls in oslo.service's eventlet backend, which warns on import although
# Stratus never runs eventlet (the RPC servers use the threading executor).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import oslo_messaging as messaging  # noqa: E402
from oslo_config import cfg  # noqa: E402

from common.context import RequestContext, current_request_id  # noqa: E402

LOG = logging.getLogger(__name__)

_transports: dict[tuple[str, str], messaging.Transport] = {}

# [messaging] send_retry in the API process: with the bus down, a request fails in about
# ten seconds (a 503 the user can retry) instead of hanging. Daemons keep the default of
# retrying until the bus is back, so their messages are not lost to a short outage.
API_RETRY = 3


class ContextSerializer(messaging.Serializer):
    """Carries RequestContext across the bus as a plain dict."""

    def serialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return entity

    def deserialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return entity

    def serialize_context(self, ctxt: RequestContext | dict) -> dict:
        return ctxt.to_dict() if isinstance(ctxt, RequestContext) else dict(ctxt)

    def deserialize_context(self, ctxt: dict) -> RequestContext:
        context = RequestContext.from_dict(ctxt)
        current_request_id.set(context.request_id)
        return context


def _register_library_opts(conf: cfg.ConfigOpts) -> None:
    # oslo.messaging registers its metrics and tracing options on the global cfg.CONF
    # only, yet reads them from whichever ConfigOpts the transport was built with.
    import importlib

    for module_name, group in (("oslo_messaging._metrics.client", "oslo_messaging_metrics"),
                               ("oslo_messaging._tracing.client", "oslo_messaging_tracing")):
        try:
            module = importlib.import_module(module_name)
            conf.register_opts(getattr(module, group), group=group)
        except (ImportError, AttributeError, cfg.DuplicateOptError):
            continue


def _transport(conf: cfg.ConfigOpts, kind: str) -> messaging.Transport:
    key = (kind, conf.messaging.transport_url)
    if key not in _transports:
        _register_library_opts(conf)
        messaging.set_transport_defaults(conf.messaging.control_exchange)
        getter = (messaging.get_rpc_transport if kind == "rpc"
                  else messaging.get_notification_transport)
        _transports[key] = getter(conf, url=conf.messaging.transport_url)
    return _transports[key]


def _retry(conf: cfg.ConfigOpts) -> int | None:
    return None if conf.messaging.send_retry < 0 else conf.messaging.send_retry


def rpc_client(conf: cfg.ConfigOpts, topic: str, version: str = "1.0") -> messaging.RPCClient:
    """A client for topic; `.prepare(server=host)` targets one host."""
    target = messaging.Target(topic=topic, version=version)
    return messaging.get_rpc_client(_transport(conf, "rpc"), target,
                                    serializer=ContextSerializer(),
                                    timeout=conf.messaging.rpc_timeout, retry=_retry(conf))


def rpc_server(conf: cfg.ConfigOpts, topic: str, endpoints: list[Any],
               server: str | None = None) -> messaging.MessageHandlingServer:
    """A threaded RPC server listening on topic (and topic.server for direct calls)."""
    target = messaging.Target(topic=topic, server=server or conf.host)
    return messaging.get_rpc_server(_transport(conf, "rpc"), target, endpoints,
                                    executor="threading", serializer=ContextSerializer())


def notifier(conf: cfg.ConfigOpts, publisher_id: str) -> messaging.Notifier:
    """A notifier publishing versioned notifications on the `notifications` topic."""
    return messaging.Notifier(_transport(conf, "notification"), publisher_id=publisher_id,
                              driver=conf.messaging.notification_driver,
                              topics=["notifications"], serializer=ContextSerializer(),
                              retry=_retry(conf))


def cleanup() -> None:
    """Close every transport this process opened."""
    for transport in _transports.values():
        transport.cleanup()
    _transports.clear()
