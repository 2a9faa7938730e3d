"""JSON schemas of the Network API's request bodies.

Types and shapes are checked here; values that need context (a CIDR that overlaps, an
address outside its subnet, a protocol name) are the service layer's to refuse.
Unknown attributes are refused, as Neutron refuses attributes of extensions it lacks.
"""

from __future__ import annotations

from typing import Any

UUID = {"type": "string",
        "pattern": "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   "[0-9a-fA-F]{12}$"}
NULLABLE_UUID = {"anyOf": [UUID, {"type": "null"}]}
NAME = {"type": "string", "maxLength": 255}
DESCRIPTION = {"type": ["string", "null"], "maxLength": 255}
BOOL = {"type": "boolean"}
PROJECT = {"type": "string", "minLength": 1, "maxLength": 255}
ADDRESS = {"type": "string", "maxLength": 64}
NULLABLE_ADDRESS = {"type": ["string", "null"], "maxLength": 64}
SHORT = {"type": "string", "maxLength": 255}
STRINGS = {"type": "array", "items": ADDRESS, "maxItems": 100}
ROUTES = {"type": "array", "maxItems": 1000, "items": {
    "type": "object", "required": ["destination", "nexthop"], "additionalProperties": False,
    "properties": {"destination": ADDRESS, "nexthop": ADDRESS}}}


def _wrap(key: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "required": [key], "additionalProperties": False,
            "properties": {key: {"type": "object", "properties": properties,
                                 "required": list(required),
                                 "additionalProperties": False}}}


_OWNER = {"project_id": PROJECT, "tenant_id": PROJECT}

_NETWORK = {"name": NAME, "description": DESCRIPTION, "admin_state_up": BOOL,
            "shared": BOOL, "router:external": BOOL, "port_security_enabled": BOOL,
            "mtu": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 65535},
                              {"type": "string", "pattern": "^[0-9]{1,5}$"}]},
            "provider:network_type": {"type": ["string", "null"], "maxLength": 16},
            "provider:physical_network": {"type": ["string", "null"], "maxLength": 64,
                                          "pattern": "^[A-Za-z0-9_.-]*$"},
            # The CLI sends the segment as a string, as Neutron converts it.
            "provider:segmentation_id": {"anyOf": [
                {"type": ["integer", "null"], "minimum": 0, "maximum": 2 ** 24},
                {"type": "string", "pattern": "^[0-9]{1,8}$"}]}}
NETWORK_CREATE = _wrap("network", {**_NETWORK, **_OWNER})
NETWORK_UPDATE = _wrap("network", _NETWORK)

_POOLS = {"type": "array", "maxItems": 100, "items": {
    "type": "object", "required": ["start", "end"], "additionalProperties": False,
    "properties": {"start": ADDRESS, "end": ADDRESS}}}
_SUBNET = {"name": NAME, "description": DESCRIPTION, "gateway_ip": NULLABLE_ADDRESS,
           "enable_dhcp": BOOL, "allocation_pools": _POOLS, "dns_nameservers": STRINGS,
           "host_routes": ROUTES}
SUBNET_CREATE = _wrap("subnet", {
    **_SUBNET, **_OWNER, "network_id": UUID, "cidr": ADDRESS,
    "ip_version": {"type": "integer", "enum": [4, 6]},
    "ipv6_ra_mode": {"type": ["string", "null"],
                     "enum": ["slaac", "dhcpv6-stateful", "dhcpv6-stateless", None]},
    "ipv6_address_mode": {"type": ["string", "null"],
                          "enum": ["slaac", "dhcpv6-stateful", "dhcpv6-stateless", None]},
    "subnetpool_id": {"type": "null"}, "segment_id": {"type": "null"},
    "service_types": {"type": "array", "maxItems": 0}},
    ("network_id", "cidr"))
SUBNET_UPDATE = _wrap("subnet", _SUBNET)

_FIXED_IPS = {"type": "array", "maxItems": 100, "items": {
    "type": "object", "additionalProperties": False,
    "properties": {"subnet_id": UUID, "ip_address": ADDRESS}}}
_PAIRS = {"type": "array", "maxItems": 100, "items": {
    "type": "object", "required": ["ip_address"], "additionalProperties": False,
    "properties": {"ip_address": ADDRESS, "mac_address": ADDRESS}}}
_PORT = {"name": NAME, "description": DESCRIPTION, "admin_state_up": BOOL,
         "mac_address": ADDRESS, "fixed_ips": _FIXED_IPS, "device_id": SHORT,
         "device_owner": SHORT, "security_groups": {"type": "array", "items": UUID,
                                                    "maxItems": 100},
         "port_security_enabled": BOOL, "allowed_address_pairs": _PAIRS,
         "binding:host_id": {"type": ["string", "null"], "maxLength": 255},
         "binding:vnic_type": {"type": "string", "enum": ["normal"]},
         "binding:profile": {"type": ["object", "null"], "maxProperties": 32},
         "extra_dhcp_opts": {"type": "array", "maxItems": 0}}
PORT_CREATE = _wrap("port", {**_PORT, **_OWNER, "network_id": UUID}, ("network_id",))
PORT_UPDATE = _wrap("port", _PORT)

_GATEWAY = {"type": ["object", "null"], "additionalProperties": False, "properties": {
    "network_id": UUID, "enable_snat": BOOL, "external_fixed_ips": _FIXED_IPS}}
_ROUTER = {"name": NAME, "description": DESCRIPTION, "admin_state_up": BOOL,
           "external_gateway_info": _GATEWAY}
ROUTER_CREATE = _wrap("router", {**_ROUTER, **_OWNER})
ROUTER_UPDATE = _wrap("router", {**_ROUTER, "routes": ROUTES})
ROUTER_ROUTES = _wrap("router", {"routes": ROUTES}, ("routes",))
ROUTER_INTERFACE = {"type": "object", "additionalProperties": False, "properties": {
    "subnet_id": UUID, "port_id": UUID}}

FLOATINGIP_CREATE = _wrap("floatingip", {
    **_OWNER, "floating_network_id": UUID, "floating_ip_address": ADDRESS,
    "subnet_id": UUID, "port_id": NULLABLE_UUID, "fixed_ip_address": NULLABLE_ADDRESS,
    "description": DESCRIPTION}, ("floating_network_id",))
FLOATINGIP_UPDATE = _wrap("floatingip", {
    "port_id": NULLABLE_UUID, "fixed_ip_address": NULLABLE_ADDRESS,
    "description": DESCRIPTION})

SECURITY_GROUP_CREATE = _wrap("security_group", {
    **_OWNER, "name": NAME, "description": DESCRIPTION, "stateful": BOOL})
SECURITY_GROUP_UPDATE = _wrap("security_group", {
    "name": NAME, "description": DESCRIPTION, "stateful": BOOL})
SECURITY_GROUP_RULE_CREATE = _wrap("security_group_rule", {
    **_OWNER, "security_group_id": UUID,
    "direction": {"type": "string", "enum": ["ingress", "egress"]},
    "ethertype": {"type": "string", "enum": ["IPv4", "IPv6"]},
    "protocol": {"type": ["string", "integer", "null"], "maxLength": 40},
    "port_range_min": {"type": ["integer", "null"], "minimum": 0, "maximum": 65535},
    "port_range_max": {"type": ["integer", "null"], "minimum": 0, "maximum": 65535},
    "remote_ip_prefix": NULLABLE_ADDRESS, "remote_group_id": NULLABLE_UUID,
    "remote_address_group_id": {"type": "null"}, "description": DESCRIPTION},
    ("security_group_id", "direction"))

_LIMIT = {"type": ["integer", "string"], "maxLength": 20}
QUOTA_UPDATE = {"type": "object", "required": ["quota"], "additionalProperties": False,
                "properties": {"quota": {"type": "object", "maxProperties": 20,
                                         "additionalProperties": _LIMIT,
                                         "properties": {"force": BOOL,
                                                        "check_limit": BOOL}}}}

AGENT_UPDATE = _wrap("agent", {"admin_state_up": BOOL, "description": DESCRIPTION})
