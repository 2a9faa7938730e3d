"""Default policy rules of the Network API, with Neutron's rule names.

Who may *see* a resource is the service layer's job (another project's resource is
404); these rules decide what a caller may *do*, including Neutron's attribute rules
(`create_network:shared`, `create_port:fixed_ips:ip_address`...), checked for each
attribute present in a request. Targets carry `project_id` (the resource's owner);
`network:project_id`, `network:shared` and `network:external` (the network a subnet
or port is on); `device_owner_is_network` (a port owned by network:*).
"""

from __future__ import annotations

from oslo_policy import policy

ADMIN = "rule:admin_required"
MEMBER = "rule:project_member"
READER = "rule:project_reader"
NET_OWNER = "rule:admin_required or rule:network_owner"
NET_OWNER_OR_SHARED = "rule:admin_required or rule:network_owner or rule:shared"

BASE = {
    "network_owner": ("project_id:%(network:project_id)s",
                      "The caller's project owns the target's network."),
    "shared": ("'True':%(network:shared)s", "The target's network is shared."),
    "network_device": ("'True':%(device_owner_is_network)s",
                       "The port belongs to the network service (network:*)."),
    "shared_network": ("'True':%(shared)s", "The target network is shared."),
    "external_network": ("'True':%(router:external)s", "The target network is external."),
}

_RULES: dict[str, tuple[str, str]] = {
    "create_network": (MEMBER, "Create a network."),
    "create_network:shared": (ADMIN, "Create a shared network."),
    "create_network:router:external": (ADMIN, "Create an external network."),
    "create_network:provider:network_type": (ADMIN, "Choose a network's segment type."),
    "create_network:provider:physical_network": (ADMIN, "Choose a physical network."),
    "create_network:provider:segmentation_id": (ADMIN, "Choose a VLAN or VNI."),
    "get_network": (READER + " or rule:shared_network or rule:external_network",
                    "Show a network."),
    "get_network:provider:network_type": (ADMIN, "See a network's segment type."),
    "get_network:provider:physical_network": (ADMIN, "See a network's physical network."),
    "get_network:provider:segmentation_id": (ADMIN, "See a network's VLAN or VNI."),
    "update_network": (MEMBER, "Update a network."),
    "update_network:shared": (ADMIN, "Share or unshare a network."),
    "update_network:router:external": (ADMIN, "Make a network external or not."),
    "update_network:provider:network_type": (ADMIN, "Change a segment type."),
    "update_network:provider:physical_network": (ADMIN, "Change a physical network."),
    "update_network:provider:segmentation_id": (ADMIN, "Change a VLAN or VNI."),
    "delete_network": (MEMBER, "Delete a network."),
    "create_subnet": ("rule:admin_required or (rule:member and rule:network_owner)",
                      "Create a subnet on a network the project owns."),
    "get_subnet": (READER + " or rule:shared or 'True':%(network:external)s",
                   "Show a subnet."),
    "update_subnet": ("rule:admin_required or (rule:member and rule:network_owner)",
                      "Update a subnet."),
    "delete_subnet": ("rule:admin_required or (rule:member and rule:network_owner)",
                      "Delete a subnet."),
    "create_port": (MEMBER, "Create a port."),
    "create_port:device_owner": (NET_OWNER + " or not rule:network_device",
                                 "Create a port owned by the network service."),
    "create_port:mac_address": (NET_OWNER, "Choose a port's MAC address."),
    "create_port:fixed_ips": (NET_OWNER_OR_SHARED, "Choose a port's fixed IPs."),
    "create_port:fixed_ips:ip_address": (NET_OWNER, "Choose a port's IP address."),
    "create_port:fixed_ips:subnet_id": (NET_OWNER_OR_SHARED, "Choose a port's subnet."),
    "create_port:port_security_enabled": (NET_OWNER, "Turn port security on or off."),
    "create_port:binding:host_id": (ADMIN, "Bind a port to a host."),
    "create_port:binding:profile": (ADMIN, "Set a port's binding profile."),
    "create_port:binding:vnic_type": (MEMBER, "Choose a port's VNIC type."),
    "create_port:allowed_address_pairs": (NET_OWNER, "Allow extra addresses on a port."),
    "get_port": (READER, "Show a port."),
    "get_port:binding:vif_type": (ADMIN, "See a port's VIF type."),
    "get_port:binding:vif_details": (ADMIN, "See a port's VIF details."),
    "get_port:binding:host_id": (ADMIN, "See the host a port is bound to."),
    "get_port:binding:profile": (ADMIN, "See a port's binding profile."),
    "update_port": (MEMBER, "Update a port."),
    "update_port:device_owner": (NET_OWNER + " or not rule:network_device",
                                 "Give a port to the network service."),
    "update_port:mac_address": (ADMIN, "Change a port's MAC address."),
    "update_port:fixed_ips": (NET_OWNER_OR_SHARED, "Change a port's fixed IPs."),
    "update_port:fixed_ips:ip_address": (NET_OWNER, "Change a port's IP address."),
    "update_port:fixed_ips:subnet_id": (NET_OWNER_OR_SHARED, "Change a port's subnet."),
    "update_port:port_security_enabled": (NET_OWNER, "Turn port security on or off."),
    "update_port:binding:host_id": (ADMIN, "Bind a port to a host."),
    "update_port:binding:profile": (ADMIN, "Set a port's binding profile."),
    "update_port:binding:vnic_type": (MEMBER, "Change a port's VNIC type."),
    "update_port:allowed_address_pairs": (NET_OWNER, "Allow extra addresses on a port."),
    "delete_port": (MEMBER, "Delete a port."),
    "create_router": (MEMBER, "Create a router."),
    "create_router:external_gateway_info": (MEMBER, "Create a router with a gateway."),
    "create_router:external_gateway_info:enable_snat": (ADMIN, "Choose SNAT."),
    "create_router:external_gateway_info:external_fixed_ips": (ADMIN, "Choose gateway "
                                                                      "addresses."),
    "get_router": (READER, "Show a router."),
    "update_router": (MEMBER, "Update a router."),
    "update_router:external_gateway_info": (MEMBER, "Set a router's gateway."),
    "update_router:external_gateway_info:enable_snat": (ADMIN, "Choose SNAT."),
    "update_router:external_gateway_info:external_fixed_ips": (ADMIN, "Choose gateway "
                                                                      "addresses."),
    "delete_router": (MEMBER, "Delete a router."),
    "add_router_interface": (MEMBER, "Attach a router to a subnet or port."),
    "remove_router_interface": (MEMBER, "Detach a router from a subnet or port."),
    "add_extraroutes": (MEMBER, "Add static routes to a router."),
    "remove_extraroutes": (MEMBER, "Remove static routes from a router."),
    "create_floatingip": (MEMBER, "Allocate a floating IP."),
    "create_floatingip:floating_ip_address": (ADMIN, "Choose a floating IP address."),
    "get_floatingip": (READER, "Show a floating IP."),
    "update_floatingip": (MEMBER, "Associate or disassociate a floating IP."),
    "delete_floatingip": (MEMBER, "Release a floating IP."),
    "create_security_group": (MEMBER, "Create a security group."),
    "get_security_group": (READER, "Show a security group."),
    "update_security_group": (MEMBER, "Update a security group."),
    "delete_security_group": (MEMBER, "Delete a security group."),
    "create_security_group_rule": (MEMBER, "Add a rule to a security group."),
    "get_security_group_rule": (READER, "Show a security group rule."),
    "delete_security_group_rule": (MEMBER, "Delete a security group rule."),
    "get_quota": (READER, "Show a project's network quotas."),
    "update_quota": (ADMIN, "Set a project's network quotas."),
    "delete_quota": (ADMIN, "Reset a project's network quotas."),
    "get_agent": (ADMIN, "List or show network agents."),
    "update_agent": (ADMIN, "Enable or disable a network agent."),
    "delete_agent": (ADMIN, "Delete a network agent."),
    "get_network_ip_availability": (ADMIN, "Show network IP availability."),
}

NAMES = frozenset(_RULES)


def list_rules() -> list[policy.RuleDefault]:
    """The Network API's default rules, for the enforcer and the sample generator."""
    return ([policy.RuleDefault(name, check, description)
             for name, (check, description) in sorted(BASE.items())]
            + [policy.RuleDefault(name, check, f"Network API: {description}")
               for name, (check, description) in sorted(_RULES.items())])
