"""Namespaces, links, addresses and routes through iproute2 (``ip -j``), argv only.

Every function takes the namespace it acts in (None: the host's own). Names, addresses
and CIDRs are validated before they reach a command line; failures of the commands
become ``HostCommandError`` here.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterable
from typing import Any

from agents.network import validate
from agents.network.exception import HostCommandError
from common import processutils

LOG = logging.getLogger(__name__)


def _ip(args: list[str], ns: str | None = None, check: bool = True) -> str:
    argv = ["ip"] + (["-n", validate.nsname(ns)] if ns else []) + args
    try:
        return processutils.execute(argv, check=check)
    except processutils.ProcessExecutionError as exc:
        raise HostCommandError(f"ip failed: {exc}") from exc


def netns_cmd(ns: str | None, argv: list[str]) -> list[str]:
    """argv run inside namespace ns (as is when ns is None)."""
    return (["ip", "netns", "exec", validate.nsname(ns)] if ns else []) + argv


def execute_in(ns: str | None, argv: list[str], **kwargs: Any) -> str:
    """Run argv inside namespace ns.

    :raises HostCommandError: the command failed.
    """
    try:
        return processutils.execute(netns_cmd(ns, argv), **kwargs)
    except processutils.ProcessExecutionError as exc:
        raise HostCommandError(f"{argv[0]} failed in {ns or 'the host namespace'}: "
                               f"{exc}") from exc


# -- namespaces ----------------------------------------------------------------------

def list_namespaces() -> list[str]:
    """Names of the named network namespaces.

    :raises HostCommandError: ip failed.
    """
    return [line.split()[0] for line in _ip(["netns", "list"]).splitlines() if line.strip()]


def ensure_namespace(ns: str) -> bool:
    """Create namespace ns (with lo up) when missing; True when it was created.

    :raises HostCommandError: ip failed.
    """
    if validate.nsname(ns) in list_namespaces():
        return False
    _ip(["netns", "add", ns])
    _ip(["link", "set", "lo", "up"], ns=ns)
    return True


def namespace_pids(ns: str) -> list[int]:
    """Processes running inside namespace ns.

    :raises HostCommandError: ip failed.
    """
    return [int(p) for p in _ip(["netns", "pids", validate.nsname(ns)]).split()]


def delete_namespace(ns: str) -> None:
    """Delete namespace ns (nothing when it is gone). Its devices go with it: veth
    pairs die whole, so their host ends leave the bridges' datapath too.

    :raises HostCommandError: ip failed.
    """
    if validate.nsname(ns) in list_namespaces():
        _ip(["netns", "delete", ns])


def sysctl(ns: str | None, key: str, value: str) -> None:
    """Set a sysctl inside ns (net.* sysctls are per namespace).

    :raises HostCommandError: the sysctl is unknown or refused.
    """
    if not key.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise HostCommandError(f"refusing sysctl key {key!r}")
    execute_in(ns, ["sysctl", "-q", "-w", f"{key}={value}"])


# -- links ---------------------------------------------------------------------------

def links(ns: str | None = None) -> dict[str, dict[str, Any]]:
    """Links of namespace ns by name, as ``ip -j link`` reports them.

    :raises HostCommandError: ip failed.
    """
    return {link["ifname"]: link for link in json.loads(_ip(["-j", "link", "show"], ns)
                                                        or "[]")}


def link_exists(dev: str, ns: str | None = None) -> bool:
    """:raises HostCommandError: ip failed."""
    return validate.ifname(dev) in links(ns)


def add_veth(host_dev: str, ns_dev: str, ns: str, mtu: int | None = None) -> None:
    """A veth pair: host_dev in the host namespace, its peer ns_dev created inside ns
    (both may carry the same name). Checksum offload is turned off on the namespace end,
    which the userspace datapath otherwise forwards with incomplete checksums.

    :raises HostCommandError: ip or ethtool failed.
    """
    args = ["link", "add", validate.ifname(host_dev)]
    if mtu:
        args += ["mtu", str(int(mtu))]
    args += ["type", "veth", "peer", "name", validate.ifname(ns_dev),
             "netns", validate.nsname(ns)]
    if mtu:
        args += ["mtu", str(int(mtu))]
    _ip(args)
    _ip(["link", "set", host_dev, "up"])
    disable_tx_offload(ns_dev, ns)


def disable_tx_offload(dev: str, ns: str | None = None) -> None:
    """``ethtool -K dev tx off``: make the kernel fill in checksums itself.

    :raises HostCommandError: ethtool failed.
    """
    execute_in(ns, ["ethtool", "-K", validate.ifname(dev), "tx", "off"])


def set_link(dev: str, ns: str | None = None, *, up: bool | None = None,
             mtu: int | None = None, mac: str | None = None) -> None:
    """Change a link's MAC, MTU and state (in that order: a MAC changes while down).

    :raises HostCommandError: ip failed.
    """
    dev = validate.ifname(dev)
    if mac:
        _ip(["link", "set", dev, "address", validate.mac(mac)], ns)
    if mtu:
        _ip(["link", "set", dev, "mtu", str(int(mtu))], ns)
    if up is not None:
        _ip(["link", "set", dev, "up" if up else "down"], ns)


def delete_link(dev: str, ns: str | None = None) -> None:
    """Delete a link (nothing when it is gone).

    :raises HostCommandError: ip failed.
    """
    if link_exists(dev, ns):
        _ip(["link", "delete", dev], ns)


# -- addresses -----------------------------------------------------------------------

def addresses(dev: str, ns: str | None = None) -> list[str]:
    """Global-scope addresses of dev as ``address/prefixlen``.

    :raises HostCommandError: ip failed.
    """
    out = json.loads(_ip(["-j", "addr", "show", "dev", validate.ifname(dev)], ns) or "[]")
    return [f"{a['local']}/{a['prefixlen']}" for link in out
            for a in link.get("addr_info", []) if a.get("scope") == "global"]


def sync_addresses(dev: str, ns: str | None, wanted: Iterable[str]) -> bool:
    """Make dev's global addresses exactly wanted (``address/prefixlen``); True when
    something changed.

    :raises HostCommandError: ip failed or an address is invalid.
    """
    want = {str(ipaddress.ip_interface(_checked_interface(a))) for a in wanted}
    have = {str(ipaddress.ip_interface(a)) for a in addresses(dev, ns)}
    for addr in sorted(have - want):
        _ip(["addr", "del", addr, "dev", dev], ns)
    for addr in sorted(want - have):
        _ip(["addr", "add", addr, "dev", dev], ns)
    return bool(have ^ want)


def _checked_interface(value: str) -> str:
    try:
        return str(ipaddress.ip_interface(value))
    except ValueError as exc:
        raise HostCommandError(f"{value!r} is not an address/prefixlen") from exc


# -- routes --------------------------------------------------------------------------

def routes(ns: str | None = None, version: int = 4) -> list[dict[str, Any]]:
    """Main-table routes of ns as ``ip -j route`` reports them.

    :raises HostCommandError: ip failed.
    """
    return json.loads(_ip([f"-{version}", "-j", "route", "show", "table", "main"], ns)
                      or "[]")


def sync_routes(ns: str, wanted: Iterable[tuple[str, str]], version: int = 4) -> bool:
    """Make the gateway routes (``destination``, ``nexthop``) of ns exactly wanted; the
    kernel's own on-link routes are left alone. True when something changed.

    :raises HostCommandError: ip failed or a value is invalid.
    """
    want = {(_route_dst(d), validate.ip(n, "route nexthop")) for d, n in wanted}
    have = set()
    for route in routes(ns, version):
        if "gateway" in route:
            have.add((_route_dst(route["dst"]), route["gateway"]))
    for dst, via in sorted(have - want):
        _ip(["route", "del", dst, "via", via], ns, check=False)
    for dst, via in sorted(want - have):
        _ip(["route", "replace", dst, "via", via], ns)
    return bool(have ^ want)


def _route_dst(dst: str) -> str:
    if dst == "default":
        return "default"
    cidr = validate.cidr(dst, "route destination")
    return "default" if cidr in ("0.0.0.0/0", "::/0") else cidr
