"""Neutron's JSON shape of each resource."""

from __future__ import annotations

import datetime
from typing import Any

from controller.network import segments

_TIME = "%Y-%m-%dT%H:%M:%SZ"


def _time(value: datetime.datetime | None) -> str | None:
    return value.strftime(_TIME) if value else None


def _standard(row: Any) -> dict[str, Any]:
    return {"description": row.description or "", "tags": [],
            "created_at": _time(row.created_at), "updated_at": _time(row.updated_at),
            "revision_number": row.revision_number}


def _owner(project_id: str) -> dict[str, str]:
    return {"tenant_id": project_id, "project_id": project_id}


def network(row: Any, provider: bool) -> dict[str, Any]:
    """provider: whether the caller may see provider:* attributes (admins)."""
    body = {"id": row.id, "name": row.name, **_owner(row.project_id),
            "admin_state_up": row.admin_state_up, "mtu": row.mtu, "status": row.status,
            "subnets": [s.id for s in row.subnets], "shared": row.shared,
            "availability_zone_hints": [], "availability_zones": ["nova"],
            "ipv4_address_scope": None, "ipv6_address_scope": None,
            "router:external": row.external, "port_security_enabled":
                row.port_security_enabled, "l2_adjacency": True, **_standard(row)}
    if provider:
        body.update(segments.view(row.segment))
    return body


def subnet(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, **_owner(row.project_id),
            "network_id": row.network_id, "ip_version": row.ip_version,
            "subnetpool_id": None, "enable_dhcp": row.enable_dhcp,
            "ipv6_ra_mode": row.ipv6_ra_mode, "ipv6_address_mode": row.ipv6_address_mode,
            "gateway_ip": row.gateway_ip, "cidr": row.cidr,
            "allocation_pools": [dict(p) for p in row.allocation_pools],
            "host_routes": [dict(r) for r in row.host_routes],
            "dns_nameservers": list(row.dns_nameservers), "service_types": [],
            "segment_id": None, **_standard(row)}


def port(row: Any, binding: bool) -> dict[str, Any]:
    """binding: whether the caller may see the binding details (admins)."""
    body = {"id": row.id, "name": row.name, **_owner(row.project_id),
            "network_id": row.network_id, "mac_address": row.mac_address,
            "admin_state_up": row.admin_state_up, "status": row.status,
            "device_id": row.device_id, "device_owner": row.device_owner,
            "fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address}
                          for a in row.fixed_ips],
            "allowed_address_pairs": [dict(p) for p in row.allowed_address_pairs],
            "extra_dhcp_opts": [],
            "security_groups": [b.security_group_id for b in row.security_group_bindings],
            "port_security_enabled": row.port_security_enabled,
            "binding:vnic_type": row.binding_vnic_type, **_standard(row)}
    if binding:
        body.update({"binding:host_id": row.binding_host_id,
                     "binding:vif_type": row.binding_vif_type,
                     "binding:vif_details": dict(row.binding_vif_details or {}),
                     "binding:profile": dict(row.binding_profile or {})})
    return body


def router(row: Any) -> dict[str, Any]:
    gateway = None
    if row.gw_port is not None:
        gateway = {"network_id": row.gw_port.network_id, "enable_snat": row.enable_snat,
                   "external_fixed_ips": [{"subnet_id": a.subnet_id,
                                           "ip_address": a.ip_address}
                                          for a in row.gw_port.fixed_ips]}
    return {"id": row.id, "name": row.name, **_owner(row.project_id),
            "admin_state_up": row.admin_state_up, "status": row.status,
            "external_gateway_info": gateway,
            "routes": [{"destination": r.destination, "nexthop": r.nexthop}
                       for r in row.routes],
            "availability_zone_hints": [], "availability_zones": ["nova"],
            **_standard(row)}


def floating_ip(row: Any) -> dict[str, Any]:
    return {"id": row.id, **_owner(row.project_id),
            "floating_network_id": row.floating_network_id, "router_id": row.router_id,
            "fixed_ip_address": row.fixed_ip_address,
            "floating_ip_address": row.floating_ip_address, "port_id": row.fixed_port_id,
            "status": row.status, **_standard(row)}


def security_group_rule(row: Any) -> dict[str, Any]:
    return {"id": row.id, **_owner(row.project_id),
            "security_group_id": row.security_group_id, "direction": row.direction,
            "ethertype": row.ethertype, "protocol": row.protocol,
            "port_range_min": row.port_range_min, "port_range_max": row.port_range_max,
            "remote_ip_prefix": row.remote_ip_prefix, "remote_group_id": row.remote_group_id,
            "remote_address_group_id": None, **_standard(row)}


def security_group(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, **_owner(row.project_id),
            "stateful": row.stateful, "shared": False,
            "security_group_rules": [security_group_rule(r) for r in row.rules],
            **_standard(row)}


def agent(row: Any, alive: bool) -> dict[str, Any]:
    return {"id": row.id, "agent_type": row.agent_type, "binary": row.binary,
            "host": row.host, "topic": row.topic, "admin_state_up": row.admin_state_up,
            "alive": alive, "availability_zone": row.availability_zone,
            "configurations": dict(row.configurations or {}),
            "description": row.description, "created_at": _time(row.created_at),
            "started_at": _time(row.started_at),
            "heartbeat_timestamp": _time(row.heartbeat_timestamp),
            "resources_synced": None}
