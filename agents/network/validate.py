"""Validation of every value that reaches a command line, a config file or a flow.

The agents receive ids, addresses and names over RPC; nothing from there reaches an argv
list, a dnsmasq file or an OpenFlow rule before passing one of these checks. Each returns
the canonical form (lower-case MAC, compressed IP) so comparisons with what the host
reports are exact.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid as _uuid

from agents.network.exception import InvalidInput

LOG = logging.getLogger(__name__)

MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
# Linux interface names: at most 15 bytes, no slash, colon or whitespace; we also refuse
# anything that could look like an option to a command (leading dash).
IFNAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$")
# Namespace names become file names under /run/netns.
NSNAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                         r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def uuid(value: object, what: str = "id") -> str:
    """The canonical dashed lower-case form of a UUID.

    :raises InvalidInput: value is not a UUID.
    """
    try:
        return str(_uuid.UUID(str(value)))
    except ValueError as exc:
        raise InvalidInput(f"{what} {value!r} is not a UUID") from exc


def notified_uuids(values: set[str] | None, what: str) -> set[str] | None:
    """The valid UUIDs among the ids a notification named (None: a full resync).

    A malformed id is logged and dropped: one bad message must not stop the rest.
    """
    if values is None:
        return None
    valid = set()
    for value in values:
        try:
            valid.add(uuid(value, what))
        except InvalidInput:
            LOG.warning("ignoring a notification about %r", value)
    return valid


def mac(value: object, what: str = "MAC address") -> str:
    """A MAC address in lower-case colon form.

    :raises InvalidInput: value is not a 48-bit MAC address.
    """
    text = str(value).lower()
    if not MAC_RE.match(text):
        raise InvalidInput(f"{what} {value!r} is not a MAC address")
    return text


def ip(value: object, what: str = "IP address", version: int | None = None) -> str:
    """A compressed IPv4/IPv6 address.

    :raises InvalidInput: value is not an address (of version, when given).
    """
    try:
        addr = ipaddress.ip_address(str(value))
    except ValueError as exc:
        raise InvalidInput(f"{what} {value!r} is not an IP address") from exc
    if version is not None and addr.version != version:
        raise InvalidInput(f"{what} {value!r} is not an IPv{version} address")
    return str(addr)


def cidr(value: object, what: str = "CIDR", version: int | None = None) -> str:
    """A network in CIDR form (host bits cleared); a bare address becomes a /32 or /128.

    :raises InvalidInput: value is not a network (of version, when given).
    """
    try:
        net = ipaddress.ip_network(str(value), strict=False)
    except ValueError as exc:
        raise InvalidInput(f"{what} {value!r} is not a CIDR") from exc
    if version is not None and net.version != version:
        raise InvalidInput(f"{what} {value!r} is not an IPv{version} CIDR")
    return str(net)


def ifname(value: object, what: str = "interface name") -> str:
    """A Linux network device name.

    :raises InvalidInput: too long, empty, or with characters devices cannot carry.
    """
    text = str(value)
    if not IFNAME_RE.match(text):
        raise InvalidInput(f"{what} {value!r} is not a valid interface name")
    return text


def nsname(value: object) -> str:
    """A network namespace name.

    :raises InvalidInput: value cannot be a namespace name.
    """
    text = str(value)
    if not NSNAME_RE.match(text):
        raise InvalidInput(f"namespace name {value!r} is not valid")
    return text


def hostname(value: object) -> str:
    """A DNS host name (labels of letters, digits and dashes).

    :raises InvalidInput: value is not a valid host name.
    """
    text = str(value)
    if not HOSTNAME_RE.match(text):
        raise InvalidInput(f"host name {value!r} is not valid")
    return text


def vlan(value: object, what: str = "VLAN id") -> int:
    """A VLAN id 1..4094.

    :raises InvalidInput: out of range or not an integer.
    """
    try:
        number = int(str(value))
    except ValueError as exc:
        raise InvalidInput(f"{what} {value!r} is not an integer") from exc
    if not 1 <= number <= 4094:
        raise InvalidInput(f"{what} {number} is outside 1..4094")
    return number


def vni(value: object) -> int:
    """A VXLAN network identifier 1..2^24-1.

    :raises InvalidInput: out of range or not an integer.
    """
    try:
        number = int(str(value))
    except ValueError as exc:
        raise InvalidInput(f"VNI {value!r} is not an integer") from exc
    if not 1 <= number < 2 ** 24:
        raise InvalidInput(f"VNI {number} is outside 1..16777215")
    return number
