"""Parsing and arithmetic on IP addresses, CIDRs, pools and MAC addresses.

Every value from a request passes through here before it reaches the database or an
agent, so the agents can trust what they are given.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Iterator

from controller.network import exceptions as exc

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Net = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def ip(value: object, field: str = "ip_address") -> Address:
    """An IP address from a request.

    :raises InvalidInput: value is not an IPv4 or IPv6 address.
    """
    if not isinstance(value, str) or "/" in value or "%" in value:
        raise exc.InvalidInput(f"Invalid input for {field}. Reason: '{value}' is not a valid "
                               "IP address.")
    try:
        return ipaddress.ip_address(value)
    except ValueError as error:
        raise exc.InvalidInput(f"Invalid input for {field}. Reason: '{value}' is not a "
                               "valid IP address.") from error


def cidr(value: object, field: str = "cidr", strict: bool = True) -> Net:
    """A network in CIDR notation; strict refuses host bits (10.0.0.5/24).

    :raises InvalidInput: value is not a CIDR (or has host bits set when strict).
    """
    if not isinstance(value, str) or "/" not in value:
        raise exc.InvalidInput(f"Invalid input for {field}. Reason: '{value}' is not a valid "
                               "IP subnet.")
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError as error:
        raise exc.InvalidInput(f"Invalid input for {field}. Reason: '{value}' is not a "
                               "valid IP subnet.") from error
    if strict and network.network_address != ipaddress.ip_interface(value).ip:
        raise exc.InvalidInput(f"Invalid input for {field}. Reason: '{value}' isn't a "
                               f"recommended CIDR, it should be '{network}'.")
    return network


def first_host(network: Net) -> Address:
    """The gateway Neutron picks by default: the first address after the network's."""
    return network.network_address + 1 if network.num_addresses > 1 else network.network_address


def usable_range(network: Net) -> tuple[Address, Address] | None:
    """First and last address a pool may hold: IPv4 skips network and broadcast."""
    if network.version == 4:
        if network.prefixlen >= 31:
            return network.network_address, network.broadcast_address
        return network.network_address + 1, network.broadcast_address - 1
    # IPv6 has no broadcast; the subnet-router anycast address (all zeros) is skipped.
    if network.num_addresses <= 1:
        return None
    return network.network_address + 1, network.broadcast_address


def default_pools(network: Net, gateway: Address | None) -> list[tuple[Address, Address]]:
    """The allocation pools of a subnet created without any: the usable range less the
    gateway, which splits it in two when it sits inside."""
    bounds = usable_range(network)
    if bounds is None:
        return []
    first, last = bounds
    if gateway is None or not first <= gateway <= last:
        return [(first, last)]
    pools = []
    if gateway > first:
        pools.append((first, gateway - 1))
    if gateway < last:
        pools.append((gateway + 1, last))
    return pools


def pool_size(start: str, end: str) -> int:
    return int(ipaddress.ip_address(end)) - int(ipaddress.ip_address(start)) + 1


def iterate_pool(start: str, end: str) -> Iterator[Address]:
    first, last = ipaddress.ip_address(start), ipaddress.ip_address(end)
    current = first
    while current <= last:
        yield current
        current += 1


def in_pools(address: Address, pools: list[dict[str, str]]) -> bool:
    return any(ipaddress.ip_address(p["start"]) <= address <= ipaddress.ip_address(p["end"])
               for p in pools)


def mac(value: object) -> str:
    """A unicast MAC address, normalised to lower case.

    :raises InvalidInput: not six colon-separated octets, or a multicast/zero address.
    """
    text = value.lower().replace("-", ":") if isinstance(value, str) else ""
    if not _MAC_RE.match(text) or int(text[:2], 16) & 1 or text == "00:00:00:00:00:00":
        raise exc.InvalidInput(f"Invalid input for mac_address. Reason: '{value}' is not a "
                               "valid MAC address.")
    return text


def random_mac(base_mac: str) -> str:
    """base_mac's first three octets, then three random ones (Neutron's scheme)."""
    prefix = base_mac.lower().split(":")[:3]
    return ":".join(prefix + [f"{secrets.randbelow(256):02x}" for _ in range(3)])


def eui64(network: Net, mac_address: str) -> Address:
    """The SLAAC address a host with mac_address takes on a /64."""
    octets = [int(part, 16) for part in mac_address.split(":")]
    octets[0] ^= 0x02
    interface_id = octets[:3] + [0xFF, 0xFE] + octets[3:]
    return network.network_address + int.from_bytes(bytes(interface_id), "big")
