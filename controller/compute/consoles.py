"""Consoles: console output, and single-use tokens for the noVNC and serial proxies.

A console URL carries a random token; only its sha256 is stored, with the host and port
the proxy must connect to. The proxy exchanges the token once (``consume``): a second
use, or a use after ``[console] token_ttl``, finds nothing.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import secrets
import urllib.parse

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.compute import rpc, states
from controller.db.base import utcnow
from controller.db.models.servers import ConsoleAuthToken, Instance
from controller.runtime import Runtime

# API console type -> (protocol, what the agent calls it)
TYPES = {"novnc": ("vnc", "novnc"), "serial": ("serial", "serial")}


@dataclasses.dataclass(frozen=True)
class ConsoleTarget:
    """Where the proxy connects for a consumed token."""

    instance_uuid: str
    console_type: str
    host: str
    port: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(rt: Runtime, ctx: RequestContext, instance_uuid: str, console_type: str,
           host: str, port: int) -> str:
    """A new single-use token for instance_uuid's console at host:port; expired tokens
    are swept on the way."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with rt.db.session() as session:
        session.execute(sa.delete(ConsoleAuthToken).where(ConsoleAuthToken.expires_at < now))
        session.add(ConsoleAuthToken(
            token_hash=_hash(token), console_type=console_type, host=host, port=int(port),
            instance_uuid=instance_uuid, created_at=now,
            expires_at=now + datetime.timedelta(seconds=rt.conf.console.token_ttl)))
    return token


def consume(rt: Runtime, token: str) -> ConsoleTarget | None:
    """The target of token, exactly once; None if unknown, used or expired.

    Atomic: of two concurrent consumers only the one whose DELETE removes the row wins.
    """
    if not isinstance(token, str) or not token or len(token) > 256:
        return None
    digest = _hash(token)
    with rt.db.session() as session:
        row = session.scalars(sa.select(ConsoleAuthToken).where(
            ConsoleAuthToken.token_hash == digest)).first()
        if row is None:
            return None
        removed = session.execute(sa.delete(ConsoleAuthToken).where(
            ConsoleAuthToken.id == row.id)).rowcount
        if removed != 1 or row.expires_at <= utcnow():
            return None
        return ConsoleTarget(row.instance_uuid, row.console_type, row.host, row.port)


def _needs_host(instance: Instance) -> str:
    if not instance.host:
        raise exceptions.Conflict(f"Instance {instance.uuid} is not ready: it has no host "
                                  "yet.")
    return instance.host


def output(rt: Runtime, ctx: RequestContext, instance: Instance,
           length: int | None) -> str:
    """The tail of the serial console log (length lines, None for all the agent keeps).

    :raises Conflict: no host yet, or being deleted. :raises ServiceUnavailable: the
        agent does not answer.
    """
    if instance.task_state == states.DELETING:
        raise exceptions.Conflict(f"Cannot 'get_console_output' instance {instance.uuid} "
                                  f"while it is in task_state deleting")
    host = _needs_host(instance)
    text = rpc.call("return the console output", host, rt.compute_api.get_console_output,
                    ctx, host, instance.uuid, length)
    # Nova strips characters JSON and terminals cannot carry.
    return "".join(ch for ch in (text or "") if ch in "\n\r\t" or ord(ch) >= 32)


def url(rt: Runtime, ctx: RequestContext, instance: Instance, console_type: str) -> str:
    """A one-time console URL for console_type (novnc | serial).

    :raises BadRequest: another console type. :raises Conflict: the server is not
        ACTIVE or has no host. :raises ServiceUnavailable: the agent does not answer.
    """
    if console_type not in TYPES:
        raise exceptions.BadRequest(f"Unavailable console type {console_type[:32]}.")
    states.check("console", instance.uuid, instance.vm_state, instance.task_state)
    host = _needs_host(instance)
    endpoint = rpc.call("give the console endpoint", host, rt.compute_api.get_console_endpoint,
                        ctx, host, instance.uuid, console_type)
    try:
        target_host, target_port = str(endpoint["host"]), int(endpoint["port"])
    except (KeyError, TypeError, ValueError) as exc:
        raise exceptions.Conflict(f"The compute agent on {host} has no {console_type} "
                                  f"console for instance {instance.uuid}.") from exc
    token = create(rt, ctx, instance.uuid, console_type, target_host, target_port)
    if console_type == "novnc":
        path = urllib.parse.quote(f"?token={token}", safe="")
        return f"{rt.conf.console.novncproxy_base_url}?path={path}"
    return f"{rt.conf.console.serialproxy_base_url}?token={token}"
