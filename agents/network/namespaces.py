"""Names of the namespaces and devices the agents create, and mark-and-sweep of ours.

Host resources are named after their owner: ``qdhcp-<network id>``, ``qrouter-<router
id>``, devices ``tap<port id[:11]>`` (DHCP), ``qr-<port id[:11]>`` (router interfaces),
``qg-<port id[:11]>`` (router gateway). A namespace also carries a marker, the alias of
its loopback device (``stratus:<integration bridge>``), so an agent sweeps only the
namespaces wired to its own bridge: on a host shared by several deployments (or test
runs) nobody deletes somebody else's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable

from agents.network import ip_lib, validate
from agents.network.exception import HostCommandError, InvalidInput

LOG = logging.getLogger(__name__)

DHCP_PREFIX = "qdhcp-"
ROUTER_PREFIX = "qrouter-"
DEVICE_PREFIXES = ("tap", "qr-", "qg-")


def dhcp_namespace(network_id: str) -> str:
    """:raises InvalidInput: network_id is not a UUID."""
    return DHCP_PREFIX + validate.uuid(network_id, "network id")


def router_namespace(router_id: str) -> str:
    """:raises InvalidInput: router_id is not a UUID."""
    return ROUTER_PREFIX + validate.uuid(router_id, "router id")


def device_name(prefix: str, port_id: str) -> str:
    """``<prefix><port id[:11]>``, at most 14 characters.

    :raises InvalidInput: unknown prefix or port_id not a UUID.
    """
    if prefix not in DEVICE_PREFIXES:
        raise InvalidInput(f"unknown device prefix {prefix!r}")
    return prefix + validate.uuid(port_id, "port id")[:11]


def owner(ns: str, prefix: str) -> str | None:
    """The id in a namespace name of ours, or None when it is not one."""
    if not ns.startswith(prefix):
        return None
    try:
        return validate.uuid(ns[len(prefix):])
    except InvalidInput:
        return None


def marker(integration_bridge: str) -> str:
    return f"stratus:{validate.ifname(integration_bridge, 'bridge name')}"


def create(ns: str, mark: str) -> bool:
    """Create ns (lo up) with mark on its loopback; True when it was created.

    :raises HostCommandError: ip failed.
    """
    created = ip_lib.ensure_namespace(ns)
    if created or read_marker(ns) != mark:
        ip_lib.execute_in(None, ["ip", "-n", ns, "link", "set", "lo", "alias", mark])
    return created


def read_marker(ns: str) -> str | None:
    """The marker on ns's loopback (None when absent or ns is gone)."""
    try:
        out = ip_lib.execute_in(None, ["ip", "-n", validate.nsname(ns), "-j", "link",
                                       "show", "lo"])
        return (json.loads(out) or [{}])[0].get("ifalias")
    except (HostCommandError, ValueError):
        return None


def owned(prefix: str, mark: str) -> dict[str, str]:
    """{owner id: namespace} of the namespaces with prefix that carry mark.

    :raises HostCommandError: ip failed.
    """
    out = {}
    for ns in ip_lib.list_namespaces():
        ident = owner(ns, prefix)
        if ident and read_marker(ns) == mark:
            out[ident] = ns
    return out


def sweep(prefix: str, mark: str, keep: Iterable[str],
          destroy: Callable[[str], None]) -> list[str]:
    """Call destroy(owner id) for every namespace of ours whose owner is not in keep.

    A failure to destroy one is logged and the others still go.

    :raises HostCommandError: the namespaces could not be listed.
    """
    keep = set(keep)
    removed = []
    for ident in sorted(owned(prefix, mark)):
        if ident in keep:
            continue
        LOG.info("removing orphan namespace %s%s", prefix, ident)
        try:
            destroy(ident)
            removed.append(ident)
        except HostCommandError:
            LOG.exception("could not remove namespace %s%s", prefix, ident)
    return removed
