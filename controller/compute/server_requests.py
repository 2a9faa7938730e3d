"""Checks of a create (or rebuild) request that need no rows written: the boot source,
networks, user data, zone, key pair, and the hostname derived from the name.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.compute import compute_services
from controller.db.models.compute import KeyPair
from controller.runtime import Runtime

if TYPE_CHECKING:
    from controller.compute.server_create import CreateRequest


def sanitize_hostname(name: str, default: str) -> str:
    """A DNS label from a display name, as Nova derives it (default if nothing is left)."""
    label = name.encode("ascii", "ignore").decode("ascii")[:63]
    label = re.sub(r"[ _.]", "-", label)
    label = re.sub(r"[^a-zA-Z0-9-]+", "", label).lower().strip(".-")
    return label or default[:63]


def network_request(networks: Any) -> str:
    """"none" or "auto" for what this cloud can do until networking lands.

    :raises BadRequest: specific networks, ports or fixed IPs.
    """
    if networks in (None, "auto") or networks == []:
        return "auto"
    if networks == "none":
        return "none"
    raise exceptions.BadRequest(
        "Networks are not available yet in this cloud: create the server with networks "
        "'none' or 'auto' (openstack server create --nic none).")


def boot_image_id(req: CreateRequest) -> str:
    """The image to boot from; only a local boot from an image is possible for now.

    :raises BadRequest: volumes, blank disks, snapshots, or no image at all.
    """
    if req.block_device_mapping:
        raise exceptions.BadRequest("Volumes are not available yet in this cloud: boot "
                                    "from an image (imageRef) without block devices.")
    image_id = req.image_ref or None
    bdms = req.block_device_mapping_v2 or []
    if bdms:
        bdm = bdms[0]
        bdm_image = bdm.get("uuid") or bdm.get("image_id")
        local_image = (len(bdms) == 1 and bdm.get("source_type") == "image"
                       and bdm.get("destination_type", "local") == "local"
                       and str(bdm.get("boot_index", "0")) == "0"
                       and not bdm.get("volume_size"))
        if not local_image or (image_id and bdm_image and bdm_image != image_id):
            raise exceptions.BadRequest(
                "Volumes are not available yet in this cloud: block_device_mapping_v2 may "
                "only describe the local boot disk from the image.")
        image_id = image_id or bdm_image
    if not image_id:
        raise exceptions.BadRequest("Invalid imageRef provided.")
    return image_id


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
