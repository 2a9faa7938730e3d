"""Names of host resources, derived from their owner's id, and input validation.

Every file, LV, target and CHAP account the agent creates is named after the volume or
snapshot it belongs to (``volume-<uuid>``, ``snapshot-<uuid>``,
``<prefix>volume-<uuid>``), so start-up reconciliation can map what it finds on the host
back to its owner and remove what nobody owns.
"""

from __future__ import annotations

import ipaddress
import re
import uuid

from agents.volume.exception import InvalidInput

VOLUME_PREFIX = "volume-"
SNAPSHOT_PREFIX = "snapshot-"
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# RFC 3720 iSCSI qualified names; prefixes end with ':' (or '.') before our suffix.
_IQN_RE = re.compile(r"^iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:[A-Za-z0-9.:_-]+)?$")
_PREFIX_RE = re.compile(r"^iqn\.\d{4}-\d{2}\.[a-z0-9.-]+[:.][A-Za-z0-9.:_-]*$")
MAX_SIZE_GB = 64 * 1024


def canonical_uuid(value: object, what: str = "id") -> str:
    """value as a lower-case dashed uuid.

    :raises InvalidInput: value is not a uuid.
    """
    if isinstance(value, str) and _UUID_RE.match(value):
        return value
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} {value!r} is not a uuid") from exc


def size_gb(value: object, what: str = "size") -> int:
    """value as a positive whole number of GiB.

    :raises InvalidInput: not an int in 1..MAX_SIZE_GB.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SIZE_GB:
        raise InvalidInput(f"{what} {value!r} must be a whole number of GiB in 1..{MAX_SIZE_GB}")
    return value


def volume_name(volume_id: str) -> str:
    return VOLUME_PREFIX + canonical_uuid(volume_id, "volume id")


def snapshot_name(snapshot_id: str) -> str:
    return SNAPSHOT_PREFIX + canonical_uuid(snapshot_id, "snapshot id")


def owner_of(name: str) -> tuple[str, str] | None:
    """("volume" | "snapshot", uuid) for a resource name we create, else None."""
    for kind, prefix in (("volume", VOLUME_PREFIX), ("snapshot", SNAPSHOT_PREFIX)):
        if name.startswith(prefix) and _UUID_RE.match(name[len(prefix):]):
            return kind, name[len(prefix):]
    return None


def target_prefix(prefix: str) -> str:
    """prefix validated as an IQN prefix ending in ':' or '.'.

    :raises InvalidInput: not an RFC 3720 iqn prefix.
    """
    if not _PREFIX_RE.match(prefix) or prefix[-1] not in ":.":
        raise InvalidInput(f"target prefix {prefix!r} must look like iqn.YYYY-MM.domain: "
                           "and end with ':' or '.'")
    return prefix


def target_iqn(prefix: str, volume_id: str) -> str:
    """The IQN of a volume's target: <prefix>volume-<uuid>."""
    return target_prefix(prefix) + volume_name(volume_id)


def volume_of_iqn(prefix: str, iqn: str) -> str | None:
    """The volume id an IQN of ours names, else None."""
    if not iqn.startswith(prefix):
        return None
    owner = owner_of(iqn[len(prefix):])
    return owner[1] if owner and owner[0] == "volume" else None


def ip_address(value: object, what: str = "address") -> str:
    """value as a normalised IPv4/IPv6 address.

    :raises InvalidInput: not an IP address.
    """
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError as exc:
        raise InvalidInput(f"{what} {value!r} is not an IP address") from exc


def initiator_iqn(value: object) -> str | None:
    """value as an initiator IQN, None when empty.

    :raises InvalidInput: set, but not an iqn. name.
    """
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 223 or not _IQN_RE.match(value):
        raise InvalidInput(f"initiator {value!r} is not an iSCSI qualified name (iqn.)")
    return value
