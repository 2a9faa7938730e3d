"""The compute API's edge to RPC: bus and agent failures become API errors here, once.

A cast that cannot be sent (RabbitMQ down, no route) is a 503 the client may retry; a
call that times out means the agent on that host is not answering (503); an error the
agent raised and sent back is a 409 carrying its message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import oslo_messaging

from controller import exceptions

LOG = logging.getLogger(__name__)
T = TypeVar("T")


def cast(what: str, send: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Send a cast; what names it for the message.

    :raises ServiceUnavailable: the message could not be sent.
    """
    try:
        send(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any transport failure means the same here
        LOG.warning("could not send %s: %s", what, exc)
        raise exceptions.ServiceUnavailable(
            f"The request was accepted but could not be passed on ({what}): the message "
            f"bus is not reachable. Try again later.") from exc


def call(what: str, host: str, send: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Make a call to the agent on host and return its answer.

    :raises ServiceUnavailable: no answer in time, or the bus is down.
    :raises Conflict: the agent answered with an error.
    """
    try:
        return send(*args, **kwargs)
    except oslo_messaging.MessagingTimeout as exc:
        raise exceptions.ServiceUnavailable(
            f"The compute agent on host {host} did not answer {what} in time; it may be "
            f"down. Try again later.") from exc
    except oslo_messaging.RemoteError as exc:
        raise exceptions.Conflict(f"The compute agent on host {host} could not {what}: "
                                  f"{exc.value or exc.exc_type}") from exc
    except Exception as exc:  # noqa: BLE001 - transport failures
        LOG.warning("could not call %s on %s: %s", what, host, exc)
        raise exceptions.ServiceUnavailable(
            f"Could not reach the compute agent on host {host} for {what}; try again "
            f"later.") from exc
