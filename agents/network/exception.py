"""The network agents' own errors.

The host libraries (ovs, ip_lib, iptables, dnsmasq) translate failures of the commands
they run into these at their edge, raising ``from`` the original, so the agents deal with
one vocabulary.
"""

from __future__ import annotations


class NetworkAgentError(Exception):
    """Base of every network agent error."""


class InvalidInput(NetworkAgentError, ValueError):
    """A name, address, CIDR or MAC failed validation before reaching a command line."""


class HostCommandError(NetworkAgentError):
    """A host command (ovs-vsctl, ip, iptables-restore, dnsmasq...) failed."""
