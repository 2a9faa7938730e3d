"""What the server views and list filters know about a server's network: its addresses
(fixed and floating, per network name), its security groups (those of its ports), and
the ``ip``/``ip6`` list filters, all read from the network service's tables in a few
queries for a whole page of servers.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from controller.db.models.network import IPAllocation, Port, SecurityGroup
from controller.db.models.network import SecurityGroupPortBinding as Binding
from controller.db.models.servers import Instance
from controller.network import common as network_common
from controller.network import compute_ports
from controller.runtime import Runtime


@dataclasses.dataclass
class Networking:
    """One server's network facts for its view."""

    addresses: dict[str, list[dict]] = dataclasses.field(default_factory=dict)
    # Names of the groups on its ports; None when it has no port (the view omits them).
    security_groups: list[str] | None = None


def describe(rt: Runtime, uuids: list[str]) -> dict[str, Networking]:
    """{server uuid: Networking} for the servers uuids (three queries in all)."""
    result = {uuid: Networking() for uuid in uuids}
    if not uuids:
        return result
    for uuid, addresses in compute_ports.addresses(rt, uuids).items():
        result[uuid].addresses = addresses
    with rt.db.session() as session:
        with_ports = set(session.scalars(sa.select(Port.device_id).where(
            Port.device_id.in_(uuids),
            Port.device_owner.startswith(network_common.COMPUTE_PREFIX)).distinct()))
        groups = session.execute(
            sa.select(Port.device_id, SecurityGroup.name)
            .join(Binding, Binding.port_id == Port.id)
            .join(SecurityGroup, SecurityGroup.id == Binding.security_group_id)
            .where(Port.device_id.in_(uuids),
                   Port.device_owner.startswith(network_common.COMPUTE_PREFIX))).all()
    for uuid in with_ports:
        result[uuid].security_groups = []
    for uuid, name in groups:
        names = result[uuid].security_groups
        if names is not None and name not in names:
            names.append(name)
    for facts in result.values():
        if facts.security_groups:
            facts.security_groups.sort()
    return result


def _address_pattern(value: str) -> str:
    """Nova's handling of the ip filter: the regex anchors and escaped dots it gets
    from clients are dropped and the rest matched as a substring."""
    text = value.strip()
    text = text[1:] if text.startswith("^") else text
    text = text[:-1] if text.endswith("$") else text
    text = text.replace("\\.", ".")
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def ip_condition(value: str, version: int) -> sa.ColumnElement[bool]:
    """Servers with a fixed IPv<version> address containing value (``ip``/``ip6``)."""
    family = ~IPAllocation.ip_address.contains(":") if version == 4 \
        else IPAllocation.ip_address.contains(":")
    return sa.exists(sa.select(IPAllocation.port_id)
                     .join(Port, Port.id == IPAllocation.port_id)
                     .where(Port.device_id == Instance.uuid,
                            Port.device_owner.startswith(network_common.COMPUTE_PREFIX),
                            IPAllocation.ip_address.like(_address_pattern(value),
                                                         escape="\\"),
                            family))
