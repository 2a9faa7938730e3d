"""What a router's namespace must hold, computed from the network service's view.

Pure: a router dict in (the shape of ``get_routers``), a plan out (devices with their
addresses, routes, iptables rules). The L3 agent applies plans.

NAT, in the router namespace (``qg-`` is the gateway device):
- PREROUTING: 169.254.169.254:80 from the internal interfaces is redirected to the
  metadata proxy's port; each floating IP is DNATed to its fixed IP (OUTPUT too, for
  traffic the namespace itself sends).
- POSTROUTING: traffic between internal networks is not NATed; a port with a floating
  IP leaves as its floating IP; the rest leaves as the gateway IP (``enable_snat``), and
  so does traffic DNATed from inside (hairpin: a VM reaching another VM's floating IP),
  which mangle tells apart from traffic that came in through the gateway (mark 0x2).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import Any

from agents.network import iptables, namespaces, validate

METADATA_IP = "169.254.169.254"
GATEWAY_MARK = "0x2/0xffff"


@dataclasses.dataclass(frozen=True)
class Device:
    """One router port as a namespace device."""

    name: str
    port: Mapping[str, Any]
    addresses: tuple[str, ...]
    mtu: int | None


@dataclasses.dataclass(frozen=True)
class Plan:
    router_id: str
    namespace: str
    interfaces: tuple[Device, ...]
    gateway: Device | None
    routes: tuple[tuple[str, str], ...]
    rules: iptables.Rules
    floating_ips: tuple[tuple[str, str], ...]  # (floating, fixed)


def _addresses(port: Mapping[str, Any], extra: list[str] | None = None) -> list[str]:
    prefixes = {s["id"]: ipaddress.ip_network(validate.cidr(s["cidr"], "subnet CIDR"))
                for s in port.get("subnets") or []}
    out = []
    for fixed in port.get("fixed_ips") or []:
        net = prefixes.get(fixed.get("subnet_id"))
        if net is None:
            continue
        out.append(f"{validate.ip(fixed['ip_address'], version=net.version)}/{net.prefixlen}")
    return out + (extra or [])


def _mtu(port: Mapping[str, Any]) -> int | None:
    return int(port["mtu"]) if port.get("mtu") else None


def _gateway_ip(port: Mapping[str, Any]) -> str | None:
    for fixed in port.get("fixed_ips") or []:
        addr = ipaddress.ip_address(validate.ip(fixed["ip_address"]))
        if addr.version == 4:
            return str(addr)
    return None


def plan(router: Mapping[str, Any], metadata_port: int) -> Plan:
    """The namespace contents of router.

    :raises InvalidInput: an id, address or CIDR in router is malformed.
    :raises KeyError: a required field is missing.
    """
    router_id = validate.uuid(router["id"], "router id")
    interfaces = tuple(
        Device(namespaces.device_name("qr-", p["id"]), p, tuple(_addresses(p)), _mtu(p))
        for p in sorted(router.get("interfaces") or [], key=lambda p: str(p["id"])))
    gw_port = router.get("gw_port")
    floating = []
    for fip in router.get("floating_ips") or []:
        if fip.get("fixed_ip_address") and fip.get("floating_ip_address"):
            floating.append((validate.ip(fip["floating_ip_address"], "floating IP", 4),
                             validate.ip(fip["fixed_ip_address"], "fixed IP", 4)))
    floating.sort()
    gateway = None
    routes = [(validate.cidr(r["destination"], "route destination"),
               validate.ip(r["nexthop"], "route nexthop")) for r in router.get("routes") or []]
    if gw_port:
        gateway = Device(namespaces.device_name("qg-", gw_port["id"]), gw_port,
                         tuple(_addresses(gw_port, [f"{f}/32" for f, _ in floating])),
                         _mtu(gw_port))
        for subnet in gw_port.get("subnets") or []:
            if subnet.get("gateway_ip") and int(subnet.get("ip_version", 4)) == 4:
                routes.append(("default", validate.ip(subnet["gateway_ip"], "gateway")))
                break
    else:
        floating = []  # without a gateway there is nowhere to put them
    return Plan(router_id=router_id, namespace=namespaces.router_namespace(router_id),
                interfaces=interfaces, gateway=gateway, routes=tuple(routes),
                rules=_rules(router, gateway, floating, metadata_port),
                floating_ips=tuple(floating))


def _rules(router: Mapping[str, Any], gateway: Device | None,
           floating: list[tuple[str, str]], metadata_port: int) -> iptables.Rules:
    pre = [["-d", f"{METADATA_IP}/32", "-i", "qr-+", "-p", "tcp", "-m", "tcp",
            "--dport", "80", "-j", "REDIRECT", "--to-ports", str(int(metadata_port))]]
    out: list[list[str]] = []
    post: list[list[str]] = []
    mangle: dict[str, list[list[str]]] = {}
    for fip, fixed in floating:
        pre.append(["-d", f"{fip}/32", "-j", "DNAT", "--to-destination", fixed])
        out.append(["-d", f"{fip}/32", "-j", "DNAT", "--to-destination", fixed])
    if gateway is not None:
        qg = gateway.name
        post.append(["!", "-o", qg, "-m", "conntrack", "!", "--ctstate", "DNAT",
                     "-j", "ACCEPT"])
        post += [["-s", f"{fixed}/32", "-j", "SNAT", "--to-source", fip]
                 for fip, fixed in floating]
        gw_ip = _gateway_ip(gateway.port)
        if gw_ip and router.get("enable_snat", True):
            post.append(["-o", qg, "-j", "SNAT", "--to-source", gw_ip])
            post.append(["-m", "mark", "!", "--mark", GATEWAY_MARK, "-m", "conntrack",
                         "--ctstate", "DNAT", "-j", "SNAT", "--to-source", gw_ip])
        mangle["PREROUTING"] = [["-i", qg, "-j", "MARK", "--set-xmark", GATEWAY_MARK]]
    nat = {"PREROUTING": pre}
    if out:
        nat["OUTPUT"] = out
    if post:
        nat["POSTROUTING"] = post
    # Only the internal side may talk to the metadata proxy's port.
    rules: dict[str, dict[str, list[list[str]]]] = {
        "nat": nat,
        "filter": {"INPUT": [["!", "-i", "qr-+", "-p", "tcp", "-m", "tcp", "--dport",
                              str(int(metadata_port)), "-j", "DROP"]]},
    }
    if mangle:
        rules["mangle"] = mangle
    return rules
