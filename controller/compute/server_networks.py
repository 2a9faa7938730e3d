"""The networks of a server create request, checked the way Nova checks them.

``networks`` is "none" (no NIC), "auto" (2.37+: the project's only usable network, or
the shared one), absent (below 2.37: like auto, but no network at all is fine), or a
list of ``{"uuid"}``, ``{"uuid", "fixed_ip"}`` and ``{"port"}`` requests. Everything
the request names is checked here, before any row is written, so a bad request is a
4xx with Nova's wording and never an ERROR server: networks exist and may be used by
the project, ports are the caller's and free, fixed IPs lie in a subnet of their
network and are free, the security groups exist, and the project has room for the
ports. What passed is stored in the instance's system_metadata
(:data:`REQUESTED_KEY`) as ``[{"network_id", "fixed_ip"} | {"port_id"}]``; the
conductor allocates the ports from it once the scheduler has picked a host.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.db.models.network import IPAllocation, Network, Port, SecurityGroup, Subnet
from controller.network import addresses as network_addresses
from controller.network import common as network_common
from controller.network import quotas as network_quotas
from controller.network import security_groups as network_groups
from controller.runtime import Runtime

REQUESTED_KEY = "requested_networks"
KIND_KEY = "network_request"  # "none" | "auto" | "requested"


def stored_request(system_metadata: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The validated requests of a server (empty: no NIC)."""
    value = (system_metadata or {}).get(REQUESTED_KEY) or []
    return [dict(item) for item in value if isinstance(item, dict)]


def metadata(kind: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
    """The system_metadata entries recording a validated request."""
    return {KIND_KEY: kind, REQUESTED_KEY: requests}


def available(session: orm.Session, project_id: str) -> list[Network]:
    """The networks "auto" chooses from (Nova's list): the project's own networks
    that are not shared, then every shared network."""
    own = session.scalars(sa.select(Network).where(
        Network.project_id == project_id, Network.shared.is_(False)).order_by(Network.id))
    shared = session.scalars(sa.select(Network).where(Network.shared.is_(True))
                             .order_by(Network.id))
    return [*own, *shared]


def _ambiguous() -> exceptions.Conflict:
    return exceptions.Conflict("Multiple possible networks found, use a Network ID to be "
                               "more specific.")


def _automatic(session: orm.Session, project_id: str, explicit: bool) -> list[dict]:
    nets = available(session, project_id)
    if len(nets) > 1:
        raise _ambiguous()
    if nets:
        _require_subnet(session, nets[0])
        return [{"network_id": nets[0].id}]
    if explicit:
        raise exceptions.BadRequest(
            f"Unable to automatically allocate a network for project {project_id}: it has "
            "no network and none is shared. Create one (openstack network create) or "
            "boot with --nic none.")
    return []


def _require_subnet(session: orm.Session, network: Network) -> list[Subnet]:
    subnets = list(session.scalars(sa.select(Subnet).where(Subnet.network_id == network.id)))
    if not subnets:
        raise exceptions.BadRequest(f"Network {network.id} requires a subnet in order to "
                                    "boot instances on.")
    return subnets


# What a network or port the request names but the caller cannot see is: 400 in a
# create (Nova's), 404 in an interface attach.
Missing = type[exceptions.StratusError]


def _network(session: orm.Session, ctx: RequestContext, project_id: str,
             network_id: str, missing: Missing = exceptions.BadRequest) -> Network:
    if not network_common.is_uuid(network_id):
        raise exceptions.BadRequest(f"Bad networks format: network uuid is not in proper "
                                    f"format ({str(network_id)[:64]})")
    row = session.get(Network, network_id)
    usable = row is not None and (ctx.is_admin or row.project_id == project_id
                                  or row.shared or row.external)
    if not usable:
        raise missing(f"Network {network_id} could not be found.")
    if row.external and not row.shared and not ctx.is_admin \
            and row.project_id != project_id:
        raise exceptions.Forbidden(f"It is not allowed to create an interface on external "
                                   f"network {network_id}")
    return row


def _fixed_ip(session: orm.Session, network: Network, subnets: list[Subnet],
              address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError as exc:
        raise exceptions.BadRequest(f"Invalid fixed IP address ({str(address)[:64]})") \
            from exc
    subnet = next((s for s in subnets if ip in ipaddress.ip_network(s.cidr)), None)
    if subnet is None:
        raise exceptions.BadRequest(f"Fixed IP address {ip} is not in a subnet of network "
                                    f"{network.id}.")
    bounds = network_addresses.usable_range(ipaddress.ip_network(subnet.cidr))
    if bounds is None or not bounds[0] <= ip <= bounds[1]:
        raise exceptions.BadRequest(f"Fixed IP address {ip} is not a usable address of "
                                    f"subnet {subnet.id} ({subnet.cidr}).")
    holder = session.scalar(sa.select(Port.device_id).join(
        IPAllocation, IPAllocation.port_id == Port.id).where(
        IPAllocation.network_id == network.id, IPAllocation.ip_address == str(ip)))
    if holder is not None or str(ip) == subnet.gateway_ip:
        raise exceptions.BadRequest(f"Fixed IP address {ip} is already in use"
                                    + (f" on instance {holder}." if holder else "."))
    return str(ip)


def _port(session: orm.Session, ctx: RequestContext, port_id: str,
          missing: Missing = exceptions.BadRequest) -> Port:
    port = session.get(Port, port_id) if network_common.is_uuid(port_id) else None
    if port is None or not (ctx.is_admin or port.project_id == ctx.project_id):
        raise missing(f"Port id {str(port_id)[:64]} could not be found.")
    if port.device_id:
        raise exceptions.Conflict(f"Port {port_id} is still in use.")
    if not port.fixed_ips:
        raise exceptions.BadRequest(f"Port {port_id} requires a FixedIP in order to be "
                                    "used.")
    return port


def _listed(session: orm.Session, ctx: RequestContext, project_id: str,
            items: list[dict[str, Any]], count: int,
            missing: Missing = exceptions.BadRequest) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            raise exceptions.BadRequest("Bad networks format")
        port_id, address = item.get("port"), item.get("fixed_ip")
        if port_id:
            if address is not None:
                raise exceptions.BadRequest(
                    f"Specified Fixed IP '{address}' cannot be used with port '{port_id}': "
                    "the two cannot be specified together.")
            if count > 1:
                raise exceptions.BadRequest(
                    "Unable to launch multiple instances with a single configured port ID. "
                    "Please launch your instance one by one with different ports.")
            if any(r.get("port_id") == port_id for r in requests):
                raise exceptions.BadRequest(f"Port {port_id} is requested more than once.")
            requests.append({"port_id": _port(session, ctx, port_id, missing).id})
            continue
        if "uuid" not in item:
            raise exceptions.BadRequest("Bad network format: missing 'uuid'")
        network = _network(session, ctx, project_id, item["uuid"], missing)
        subnets = _require_subnet(session, network)
        request: dict[str, Any] = {"network_id": network.id}
        if address is not None:
            if count > 1:
                raise exceptions.BadRequest("max_count cannot be greater than 1 if an "
                                            "fixed_ip is specified.")
            request["fixed_ip"] = _fixed_ip(session, network, subnets, address)
            if any(r.get("fixed_ip") == request["fixed_ip"] for r in requests):
                raise exceptions.BadRequest(f"Fixed IP address {request['fixed_ip']} is "
                                            "requested more than once.")
        requests.append(request)
    return requests


def _check_groups(session: orm.Session, project_id: str, names: list[str]) -> None:
    for name in dict.fromkeys(names):
        if name == network_groups.DEFAULT:
            continue
        found = session.scalar(sa.select(sa.func.count()).select_from(SecurityGroup).where(
            SecurityGroup.project_id == project_id,
            sa.or_(SecurityGroup.name == name, SecurityGroup.id == name)))
        if not found:
            raise exceptions.BadRequest(f"Security group {name} not found.")
        if found > 1:
            raise exceptions.Conflict(f"Multiple security groups found matching '{name}'. "
                                      "Use an ID to be more specific.")


def _check_port_quota(rt: Runtime, session: orm.Session, project_id: str,
                      needed: int) -> None:
    limit = network_quotas.limits(rt, project_id).get("port", -1)
    if needed <= 0 or limit < 0:
        return
    used = session.scalar(sa.select(sa.func.count()).select_from(Port)
                          .where(Port.project_id == project_id)) or 0
    if used + needed > limit:
        raise exceptions.OverQuota(f"Maximum number of ports exceeded: the servers need "
                                   f"{needed} more, the project holds {used} of {limit}.")


def validate(rt: Runtime, ctx: RequestContext, networks: Any, count: int,
             security_groups: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """(kind, requests) of a create request for count servers of ctx's project.

    networks: "none", "auto", None/[] (below 2.37: like "auto", no NIC if the project
    has no network) or the list of {"uuid"|"port", "fixed_ip"?} from the body.

    :raises BadRequest: a network or port that is not found, a bad fixed IP, a network
        without subnet, an unknown security group, ports or fixed IPs with count > 1.
    :raises Conflict: several networks for "auto", a port in use. :raises Forbidden:
        another project's external network. :raises OverQuota: not enough port quota.
    """
    project_id = ctx.project_id or ""
    if networks == "none":
        return "none", []
    with rt.db.session() as session:
        if networks in (None, "auto") or networks == []:
            kind, requests = "auto", _automatic(session, project_id, networks == "auto")
        elif isinstance(networks, list):
            kind, requests = "requested", _listed(session, ctx, project_id, networks,
                                                  count)
        else:
            raise exceptions.BadRequest("Bad networks format")
        if requests:
            _check_groups(session, project_id, security_groups)
            created = sum(1 for request in requests if "network_id" in request)
            _check_port_quota(rt, session, project_id, created * count)
    return kind, requests


def interface_request(rt: Runtime, ctx: RequestContext, project_id: str,
                      network_id: str | None, port_id: str | None,
                      fixed_ip: str | None) -> dict[str, Any]:
    """The one port request of an interface attach (os-interface POST), checked as a
    create's are; neither network nor port: the project's only usable network.

    :raises NotFound: no such network or port. :raises BadRequest: both given, a fixed
        IP without a network or a bad one, no network available.
    :raises Conflict: the port is in use, several networks could be meant.
    :raises Forbidden: another project's external network.
    """
    if network_id and port_id:
        raise exceptions.BadRequest("Must not input both network_id and port_id")
    if fixed_ip and not network_id:
        raise exceptions.BadRequest("Must input network_id when request IP address")
    with rt.db.session() as session:
        if not network_id and not port_id:
            nets = available(session, project_id)
            if len(nets) > 1:
                raise _ambiguous()
            if not nets:
                raise exceptions.BadRequest("No specific network was requested and none "
                                            f"are available for project '{project_id}'.")
            network_id = nets[0].id
        item: dict[str, Any] = {"port": port_id} if port_id else {"uuid": network_id}
        if fixed_ip:
            item["fixed_ip"] = fixed_ip
        return _listed(session, ctx, project_id, [item], 1, exceptions.NotFound)[0]
