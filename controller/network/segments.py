"""A network's L2 segment: flat, vlan or vxlan, chosen by an admin or allocated.

Segmentation ids stay unique through the network_segments primary key: pick the lowest
free id, insert, and pick again if a concurrent request took it first.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from controller.db.models.network import NetworkSegment
from controller.network import exceptions as exc

TYPES = ("flat", "vlan", "vxlan")
MAX_ID = {"vlan": 4094, "vxlan": 2 ** 24 - 1}
_ATTEMPTS = 20


def mtu_for(conf: cfg.ConfigOpts, network_type: str) -> int:
    """The largest MTU a network of this type can carry."""
    mtu = conf.network.global_physnet_mtu
    return mtu - conf.network.vxlan_overhead if network_type == "vxlan" else mtu


def _ranges(entries: list[str]) -> list[tuple[int, int]]:
    result = []
    for entry in entries:
        first, _, last = entry.partition(":")
        result.append((int(first), int(last or first)))
    return result


def vlan_ranges(conf: cfg.ConfigOpts) -> dict[str, list[tuple[int, int]]]:
    """{physical network: [(first, last)]} from [network] network_vlan_ranges."""
    result: dict[str, list[tuple[int, int]]] = {}
    for entry in conf.network.network_vlan_ranges:
        name, _, span = entry.partition(":")
        result.setdefault(name, [])
        if span:
            result[name].extend(_ranges([span]))
    return result


def view(segment: NetworkSegment | None) -> dict[str, Any]:
    """The provider:* attributes of a network."""
    if segment is None:
        return {"provider:network_type": None, "provider:physical_network": None,
                "provider:segmentation_id": None}
    return {"provider:network_type": segment.network_type,
            "provider:physical_network": segment.physical_network or None,
            "provider:segmentation_id": segment.segmentation_id or None}


def _validate(conf: cfg.ConfigOpts, kind: Any, physnet: Any, seg_id: Any) -> None:
    if kind not in TYPES:
        raise exc.InvalidInput(f"Invalid input for operation: network_type value '{kind}' "
                               f"not supported; use one of {', '.join(TYPES)}.")
    if kind == "vxlan" and physnet:
        raise exc.InvalidInput("Invalid input for operation: provider:physical_network "
                               "specified for vxlan network.")
    if kind in ("flat", "vlan") and not physnet:
        raise exc.InvalidInput(f"Invalid input for operation: provider:physical_network "
                               f"required for {kind} provider network.")
    if kind == "flat":
        if seg_id is not None:
            raise exc.InvalidInput("Invalid input for operation: provider:segmentation_id "
                                   "specified for flat network.")
        allowed = conf.network.flat_networks
        if "*" not in allowed and physnet not in allowed:
            raise exc.InvalidInput(f"Invalid input for operation: physical_network "
                                   f"'{physnet}' unknown for flat provider network.")
    if kind == "vlan" and physnet not in vlan_ranges(conf):
        raise exc.InvalidInput(f"Invalid input for operation: physical_network '{physnet}' "
                               "unknown for VLAN provider network.")
    if seg_id is not None and kind in MAX_ID and not 1 <= seg_id <= MAX_ID[kind]:
        raise exc.InvalidInput(f"Invalid input for operation: segmentation_id {seg_id} out "
                               f"of range for {kind} (1 to {MAX_ID[kind]}).")


def _insert(session: orm.Session, segment: NetworkSegment) -> bool:
    try:
        with session.begin_nested():
            session.add(segment)
            session.flush()
    except sa_exc.IntegrityError:
        return False
    return True


def _pick(session: orm.Session, kind: str, physnet: str,
          ranges: list[tuple[int, int]]) -> int | None:
    used = set(session.scalars(sa.select(NetworkSegment.segmentation_id).where(
        NetworkSegment.network_type == kind, NetworkSegment.physical_network == physnet)))
    for first, last in ranges:
        for candidate in range(first, last + 1):
            if candidate not in used:
                return candidate
    return None


def allocate(session: orm.Session, conf: cfg.ConfigOpts, network_id: str,
             provider: dict[str, Any]) -> NetworkSegment:
    """Give network_id its segment: the one the admin asked for, else a project one.

    :raises InvalidInput: provider attributes that do not fit the configuration.
    :raises SegmentationIdInUse: the requested segment belongs to another network.
    :raises NoNetworkAvailable: every project segment is taken.
    """
    kind = provider.get("provider:network_type")
    physnet = provider.get("provider:physical_network")
    seg_id = provider.get("provider:segmentation_id")
    if kind is None and (physnet is not None or seg_id is not None):
        raise exc.InvalidInput("Invalid input for operation: provider:network_type is "
                               "required with provider attributes.")
    if kind is not None:
        _validate(conf, kind, physnet, seg_id)
        if kind == "flat" or seg_id is not None:
            segment = NetworkSegment(network_type=kind, physical_network=physnet or "",
                                     segmentation_id=seg_id or 0, network_id=network_id)
            if not _insert(session, segment):
                what = (f"physical network {physnet}" if kind == "flat"
                        else f"{kind} segmentation id {seg_id}")
                raise exc.SegmentationIdInUse(f"Unable to create the network. The {what} "
                                              "is in use.")
            return segment
        candidates = [(kind, physnet or "")]
    else:
        candidates = [(t, p) for t in conf.network.tenant_network_types
                      for p in (vlan_ranges(conf) if t == "vlan" else [""])]
    for kind, physnet in candidates:
        ranges = (_ranges(conf.network.vni_ranges) if kind == "vxlan"
                  else vlan_ranges(conf).get(physnet, []) if kind == "vlan" else [])
        for _ in range(_ATTEMPTS):
            candidate = _pick(session, kind, physnet, ranges)
            if candidate is None:
                break
            segment = NetworkSegment(network_type=kind, physical_network=physnet,
                                     segmentation_id=candidate, network_id=network_id)
            if _insert(session, segment):
                return segment
    raise exc.NoNetworkAvailable()
