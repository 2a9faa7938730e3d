"""Errors of the network service, named as Neutron names them.

The Network API renders an error as {"NeutronError": {"type": <class name>, ...}}, so
each class name here is the type string clients (and Tempest) know.
"""

from __future__ import annotations

from controller import exceptions


# 400
class InvalidInput(exceptions.BadRequest):
    message = "Invalid input for operation."


class BadRequest(exceptions.BadRequest):
    pass


class InvalidAllocationPool(exceptions.BadRequest):
    pass


class OutOfBoundsAllocationPool(exceptions.BadRequest):
    pass


class InvalidIpForSubnet(exceptions.BadRequest):
    pass


class InvalidIpForNetwork(exceptions.BadRequest):
    pass


class InvalidRoutes(exceptions.BadRequest):
    pass


class DNSNameServersExhausted(exceptions.BadRequest):
    pass


class HostRoutesExhausted(exceptions.BadRequest):
    pass


class RoutesExhausted(exceptions.BadRequest):
    pass


class SecurityGroupRuleInvalidProtocol(exceptions.BadRequest):
    pass


class SecurityGroupInvalidPortRange(exceptions.BadRequest):
    pass


class SecurityGroupInvalidPortValue(exceptions.BadRequest):
    pass


class SecurityGroupInvalidIcmpValue(exceptions.BadRequest):
    pass


class SecurityGroupRemoteGroupAndRemoteIpPrefix(exceptions.BadRequest):
    pass


class SecurityGroupRuleParameterConflict(exceptions.BadRequest):
    pass


class PortSecurityAndIPRequiredForSecurityGroups(exceptions.BadRequest):
    pass


# 403
class NotAuthorized(exceptions.Forbidden):
    pass


class PolicyNotAuthorized(exceptions.Forbidden):
    pass


# 404
class NetworkNotFound(exceptions.NotFound):
    pass


class SubnetNotFound(exceptions.NotFound):
    pass


class PortNotFound(exceptions.NotFound):
    pass


class RouterNotFound(exceptions.NotFound):
    pass


class FloatingIPNotFound(exceptions.NotFound):
    pass


class SecurityGroupNotFound(exceptions.NotFound):
    pass


class SecurityGroupRuleNotFound(exceptions.NotFound):
    pass


class AgentNotFound(exceptions.NotFound):
    pass


class ExtensionNotFound(exceptions.NotFound):
    pass


class RouterInterfaceNotFound(exceptions.NotFound):
    pass


class RouterInterfaceNotFoundForSubnet(exceptions.NotFound):
    pass


class ExternalGatewayForFloatingIPNotFound(exceptions.NotFound):
    pass


class InstanceNotFound(exceptions.NotFound):
    pass


# 409
class NetworkInUse(exceptions.Conflict):
    pass


class InvalidSharedSetting(exceptions.Conflict):
    pass


class SubnetInUse(exceptions.Conflict):
    pass


class PortInUse(exceptions.Conflict):
    pass


class ServicePortInUse(exceptions.Conflict):
    pass


class RouterInUse(exceptions.Conflict):
    pass


class RouterInterfaceInUseByFloatingIP(exceptions.Conflict):
    pass


class RouterInterfaceInUseByRoute(exceptions.Conflict):
    pass


class RouterExternalGatewayInUseByFloatingIp(exceptions.Conflict):
    pass


class IpAddressInUse(exceptions.Conflict):
    pass


class IpAddressGenerationFailure(exceptions.Conflict):
    pass


class MacAddressInUse(exceptions.Conflict):
    pass


class FloatingIPPortAlreadyAssociated(exceptions.Conflict):
    pass


class OverlappingAllocationPools(exceptions.Conflict):
    pass


class GatewayConflictWithAllocationPools(exceptions.Conflict):
    pass


class SegmentationIdInUse(exceptions.Conflict):
    pass


class SecurityGroupInUse(exceptions.Conflict):
    pass


class SecurityGroupRuleExists(exceptions.Conflict):
    pass


class SecurityGroupCannotRemoveDefault(exceptions.Conflict):
    pass


class SecurityGroupCannotUpdateDefault(exceptions.Conflict):
    pass


class SecurityGroupDefaultAlreadyExists(exceptions.Conflict):
    pass


class AddressPairAndPortSecurityRequired(exceptions.Conflict):
    pass


class OverQuota(exceptions.Conflict):
    """Neutron's OverQuota is a 409 (Nova's is a 403)."""

    message = "Quota exceeded."


# 503
class NoNetworkAvailable(exceptions.StratusError):
    code = 503
    title = "Service Unavailable"
    message = ("Unable to create the network. No tenant network is available for "
               "allocation.")
