"""IP address management: give ports addresses that no other port on the subnet holds.

Safety comes from the database, not from locks: ip_allocations has the primary key
(subnet_id, ip_address). A candidate is inserted inside a savepoint; if a concurrent
transaction took it first the insert fails (PostgreSQL waits for that transaction and
then reports the duplicate), the savepoint is rolled back, and another candidate is tried
among the free ones. SQLite serialises writers, so there a candidate never collides.

The caller must already hold a transaction with a write in it (the port row), so a
savepoint never starts the transaction (on SQLite its release would commit).
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from controller.db.models.network import IPAllocation, Network, Port, Subnet
from controller.network import addresses
from controller.network import exceptions as exc

_ATTEMPTS = 100
_SLAAC = ("slaac", "dhcpv6-stateless")
_ROUTER_INTERFACE = "network:router_interface"


def subnets_of(session: orm.Session, network_id: str) -> list[Subnet]:
    return list(session.scalars(sa.select(Subnet).where(Subnet.network_id == network_id)
                                .order_by(Subnet.created_at, Subnet.id)))


def used(session: orm.Session, subnet_id: str) -> set[str]:
    return set(session.scalars(sa.select(IPAllocation.ip_address)
                               .where(IPAllocation.subnet_id == subnet_id)))


def _insert(session: orm.Session, port: Port, subnet: Subnet, address: str) -> bool:
    try:
        with session.begin_nested():
            session.add(IPAllocation(subnet_id=subnet.id, ip_address=address,
                                     port_id=port.id, network_id=port.network_id))
            session.flush()
    except sa_exc.IntegrityError:
        return False
    return True


def _pick(subnet: Subnet, taken: set[str], attempt: int) -> str | None:
    """The lowest free pool address at first; after a collision a random one of the next
    few free addresses, so concurrent requests stop chasing the same address."""
    wanted = 1 if attempt == 0 else 8 * attempt
    free: list[str] = []
    for pool in subnet.allocation_pools:
        for candidate in addresses.iterate_pool(pool["start"], pool["end"]):
            text = str(candidate)
            if text not in taken and text != subnet.gateway_ip:
                free.append(text)
                if len(free) >= wanted:
                    break
        if len(free) >= wanted:
            break
    if not free:
        return None
    return free[0] if attempt == 0 else random.choice(free)


def _allocate_any(session: orm.Session, port: Port, subnet: Subnet) -> str | None:
    """An address from subnet's pools (SLAAC: the EUI-64 one), or None when full."""
    if subnet.ip_version == 6 and subnet.ipv6_address_mode in _SLAAC:
        network = ipaddress.ip_network(subnet.cidr)
        address = str(addresses.eui64(network, port.mac_address))
        return address if _insert(session, port, subnet, address) else None
    for attempt in range(_ATTEMPTS):
        candidate = _pick(subnet, used(session, subnet.id), attempt)
        if candidate is None:
            return None
        if _insert(session, port, subnet, candidate):
            return candidate
    return None


def _check_address(subnet: Subnet, address: str, device_owner: str) -> None:
    """:raises InvalidIpForSubnet / IpAddressInUse: address cannot be a port's on subnet."""
    network = ipaddress.ip_network(subnet.cidr)
    value = ipaddress.ip_address(address)
    bounds = addresses.usable_range(network)
    if value not in network or bounds is None or not bounds[0] <= value <= bounds[1]:
        raise exc.InvalidIpForSubnet(f"IP address {address} is not a valid IP for the "
                                     "specified subnet.")
    if address == subnet.gateway_ip and device_owner != _ROUTER_INTERFACE:
        raise exc.IpAddressInUse(f"Unable to complete operation for network "
                                 f"{subnet.network_id}. The IP address {address} is in use.")


def _resolve(network: Network, subnets: list[Subnet],
             request: dict[str, Any]) -> tuple[Subnet, str | None]:
    """The subnet (and address, if any) one fixed_ips entry asks for.

    :raises InvalidInput: the entry names neither, or a subnet of another network.
    :raises InvalidIpForNetwork: the address is in none of the network's subnets.
    """
    by_id = {s.id: s for s in subnets}
    subnet_id, address = request.get("subnet_id"), request.get("ip_address")
    if address is not None:
        address = str(addresses.ip(address))
    if subnet_id is not None:
        if subnet_id not in by_id:
            raise exc.InvalidInput(f"Invalid input for operation: Failed to create port on "
                                   f"network {network.id}, because fixed_ips included "
                                   f"invalid subnet {subnet_id}.")
        subnet = by_id[subnet_id]
        if address is not None and ipaddress.ip_address(address) not in \
                ipaddress.ip_network(subnet.cidr):
            raise exc.InvalidIpForSubnet(f"IP address {address} is not a valid IP for the "
                                         "specified subnet.")
        return subnet, address
    if address is None:
        raise exc.InvalidInput("Invalid input for fixed_ips. Reason: each entry needs "
                               "subnet_id or ip_address.")
    for subnet in subnets:
        if ipaddress.ip_address(address) in ipaddress.ip_network(subnet.cidr):
            return subnet, address
    raise exc.InvalidIpForNetwork(f"IP address {address} is not a valid IP for any of the "
                                  "subnets on the specified network.")


def allocate(session: orm.Session, conf: cfg.ConfigOpts, port: Port, network: Network,
             requests: list[dict[str, Any]] | None, ip_version: int | None = None) -> None:
    """Give port the addresses requested, or by default one IPv4 address plus one from
    each IPv6 subnet (the SLAAC address where the subnet uses SLAAC); ip_version limits
    the default to one family.

    :raises InvalidInput / InvalidIpForSubnet / InvalidIpForNetwork: a bad request.
    :raises IpAddressInUse: a requested address belongs to another port.
    :raises IpAddressGenerationFailure: no free address left.
    """
    subnets = subnets_of(session, network.id)
    if requests is not None:
        if len(requests) > conf.network.max_fixed_ips_per_port:
            raise exc.InvalidInput("Exceeded maximum amount of fixed ips per port.")
        for request in requests:
            subnet, address = _resolve(network, subnets, request)
            _allocate_one(session, port, subnet, address)
        return
    if ip_version is not None:
        subnets = [s for s in subnets if s.ip_version == ip_version]
    v4 = [s for s in subnets if s.ip_version == 4]
    if v4 and not any(_allocate_any(session, port, s) for s in v4):
        raise exc.IpAddressGenerationFailure(f"No more IP addresses available on network "
                                             f"{network.id}.")
    stateful_v6_done = False
    for subnet in (s for s in subnets if s.ip_version == 6):
        if subnet.ipv6_address_mode in _SLAAC:
            _allocate_any(session, port, subnet)
        elif not stateful_v6_done:
            stateful_v6_done = _allocate_any(session, port, subnet) is not None


def _allocate_one(session: orm.Session, port: Port, subnet: Subnet,
                  address: str | None) -> str:
    if address is None:
        taken = _allocate_any(session, port, subnet)
        if taken is None:
            raise exc.IpAddressGenerationFailure(f"No more IP addresses available on "
                                                 f"network {subnet.network_id}.")
        return taken
    _check_address(subnet, address, port.device_owner)
    if not _insert(session, port, subnet, address):
        raise exc.IpAddressInUse(f"Unable to complete operation for network "
                                 f"{subnet.network_id}. The IP address {address} is in use.")
    return address


def reallocate(session: orm.Session, conf: cfg.ConfigOpts, port: Port, network: Network,
               requests: list[dict[str, Any]]) -> bool:
    """Make port's addresses what an update asks for: keep those still requested (an
    entry with only a subnet_id keeps the port's address on that subnet), release the
    rest, allocate the new ones. Returns whether anything changed.

    :raises: as :func:`allocate`.
    """
    if len(requests) > conf.network.max_fixed_ips_per_port:
        raise exc.InvalidInput("Exceeded maximum amount of fixed ips per port.")
    subnets = subnets_of(session, network.id)
    current = list(port.fixed_ips)
    keep: list[IPAllocation] = []
    new: list[tuple[Subnet, str | None]] = []
    for request in requests:
        subnet, address = _resolve(network, subnets, request)
        match = next((a for a in current if a not in keep and a.subnet_id == subnet.id
                      and (address is None or a.ip_address == address)), None)
        if match is not None:
            keep.append(match)
        else:
            new.append((subnet, address))
    released = [a for a in current if a not in keep]
    for allocation in released:
        session.delete(allocation)
    session.flush()
    for subnet, address in new:
        _allocate_one(session, port, subnet, address)
    return bool(released or new)
