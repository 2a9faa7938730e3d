"""Checks of a create (or rebuild) request that need no rows written: user data, zone,
key pair, and the hostname derived from the name (networks are checked in
``server_networks``, block devices in ``block_devices``).
"""

from __future__ import annotations

import base64
import binascii
import re

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.compute import compute_services
from controller.db.models.compute import KeyPair
from controller.runtime import Runtime


def sanitize_hostname(name: str, default: str) -> str:
    """A DNS label from a display name, as Nova derives it (default if nothing is left)."""
    label = name.encode("ascii", "ignore").decode("ascii")[:63]
    label = re.sub(r"[ _.]", "-", label)
    label = re.sub(r"[^a-zA-Z0-9-]+", "", label).lower().strip(".-")
    return label or default[:63]


def check_user_data(user_data: str | None) -> None:
    """:raises BadRequest: user_data is not base64 (Nova decodes it leniently, so do we)."""
    if user_data is None:
        return
    try:
        base64.b64decode(user_data)
    except (binascii.Error, ValueError) as exc:
        raise exceptions.BadRequest("User data needs to be valid base 64.") from exc


def parse_zone(rt: Runtime, requested: str | None) -> tuple[str | None, list[str]]:
    """(zone, forced hosts) from Nova's "zone", "zone:host" or "zone:host:node".

    The caller checks the forced-host policy before a host is given.

    :raises BadRequest: a zone no compute host is in.
    """
    if not requested:
        return None, []
    zone, _, rest = requested.partition(":")
    host = rest.partition(":")[0]
    zone = zone or None
    if zone is not None and zone not in compute_services.zones(rt):
        raise exceptions.BadRequest("The requested availability zone is not available")
    return zone, [host] if host else []


def key_data_for(rt: Runtime, ctx: RequestContext, key_name: str | None) -> str | None:
    """The public key of the caller's key pair key_name (None for None).

    :raises BadRequest: the caller has no such key pair.
    """
    if key_name is None:
        return None
    with rt.db.session() as session:
        public_key = session.scalar(sa.select(KeyPair.public_key).where(
            KeyPair.user_id == ctx.user_id, KeyPair.name == key_name))
    if public_key is None:
        raise exceptions.BadRequest("Invalid key_name provided.")
    return public_key
