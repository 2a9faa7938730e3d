"""What the RPC manager hands to a driver: instance, flavor, image and ports.

Everything is validated on construction, because these values end up in file names,
libvirt XML and qemu-img argv: a bad uuid must fail here, not inside a shell-out.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

from agents.compute.block_device import VolumeDevice
from agents.compute.exception import InvalidInput
from agents.compute.power_state import PowerState

MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
# Linux interface names: at most 15 bytes, no '/', whitespace or ':'.
IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
HOSTNAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                         r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
HASH_ALGOS = ("sha256", "sha384", "sha512")
VIF_TYPES = ("ovs", "bridge", "ethernet")
DISK_FORMATS = ("qcow2", "raw")


def canonical_uuid(value: str, what: str = "uuid") -> str:
    """value as a lower-case dashed UUID string.

    :raises InvalidInput: value is not a UUID.
    """
    try:
        return str(uuidlib.UUID(str(value)))
    except ValueError as exc:
        raise InvalidInput(f"{what} {value!r} is not a UUID") from exc


@dataclasses.dataclass(frozen=True)
class Flavor:
    """The sizes an instance gets. root_gb 0 means: the image's own virtual size."""

    name: str
    memory_mb: int
    vcpus: int
    root_gb: int = 0

    def __post_init__(self) -> None:
        if self.memory_mb < 16 or self.vcpus < 1 or self.root_gb < 0:
            raise InvalidInput(f"flavor {self.name!r} needs memory_mb >= 16, vcpus >= 1 "
                               "and root_gb >= 0")


@dataclasses.dataclass(frozen=True)
class ImageRef:
    """A base image as the image service describes it (enough to fetch and verify it)."""

    id: str
    disk_format: str = "qcow2"
    os_hash_algo: str | None = None
    os_hash_value: str | None = None
    checksum: str | None = None  # legacy MD5, used only when no os_hash_value is known

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", canonical_uuid(self.id, "image id"))
        if self.disk_format not in DISK_FORMATS:
            raise InvalidInput(f"image {self.id}: disk_format {self.disk_format!r} is not "
                               f"bootable here; use one of {', '.join(DISK_FORMATS)}")
        if self.os_hash_value and self.os_hash_algo not in HASH_ALGOS:
            raise InvalidInput(f"image {self.id}: os_hash_algo {self.os_hash_algo!r} is not "
                               f"one of {', '.join(HASH_ALGOS)}")


@dataclasses.dataclass(frozen=True)
class Vif:
    """One port plugged into the instance.

    type: ``ovs`` (a tap the libvirt OVS virtualport adds to ``bridge``), ``bridge`` (a
    Linux bridge) or ``ethernet`` (a bare tap that the OVS agent wires up itself).
    """

    id: str
    mac: str
    type: str = "ovs"
    bridge: str | None = "br-int"
    mtu: int | None = None
    network_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", canonical_uuid(self.id, "port id"))
        object.__setattr__(self, "mac", str(self.mac).lower())
        if not MAC_RE.match(self.mac):
            raise InvalidInput(f"port {self.id}: {self.mac!r} is not a MAC address")
        if self.type not in VIF_TYPES:
            raise InvalidInput(f"port {self.id}: vif type {self.type!r} is not one of "
                               f"{', '.join(VIF_TYPES)}")
        if self.type != "ethernet" and not (self.bridge and IFNAME_RE.match(self.bridge)):
            raise InvalidInput(f"port {self.id}: bridge {self.bridge!r} is not a valid "
                               "interface name")
        if self.mtu is not None and not 68 <= self.mtu <= 65535:
            raise InvalidInput(f"port {self.id}: MTU {self.mtu} is outside 68..65535")
        if self.network_id is not None:
            object.__setattr__(self, "network_id",
                               canonical_uuid(self.network_id, "network id"))

    @property
    def devname(self) -> str:
        """Host tap name, after the port it carries (found again by the OVS agent)."""
        return f"tap{self.id[:11]}"


@dataclasses.dataclass(frozen=True)
class Instance:
    """An instance as the controller wants it on this host."""

    uuid: str
    name: str
    project_id: str
    flavor: Flavor
    image: ImageRef | None  # None: volume-backed (a volume with boot_index 0 is the root)
    user_id: str | None = None
    hostname: str | None = None
    availability_zone: str | None = None
    config_drive: bool = False
    user_data: bytes | None = None
    public_keys: Mapping[str, str] = dataclasses.field(default_factory=dict)
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    launch_index: int = 0
    vifs: tuple[Vif, ...] = ()
    # network_data.json as the metadata service serves it (the conductor renders it from
    # the ports, so the config drive and the metadata API agree); None: derive from vifs.
    network_data: Mapping[str, Any] | None = None
    volumes: tuple[VolumeDevice, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "uuid", canonical_uuid(self.uuid, "instance uuid"))
        if self.hostname is not None and not HOSTNAME_RE.match(self.hostname):
            raise InvalidInput(f"instance {self.uuid}: hostname {self.hostname!r} is not a "
                               "valid DNS name")
        if isinstance(self.user_data, str):
            object.__setattr__(self, "user_data", self.user_data.encode())
        object.__setattr__(self, "vifs", tuple(self.vifs))
        devnames = [vif.devname for vif in self.vifs]
        if len(set(devnames)) != len(devnames):
            raise InvalidInput(f"instance {self.uuid}: the same port is plugged twice")
        object.__setattr__(self, "volumes", tuple(self.volumes))
        _check_volumes(self)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Instance:
        """The instance an *instance spec* (``common.rpc.compute``) describes.

        user_data arrives base64-encoded, as the API got it, and is decoded here.

        :raises InvalidInput: a field is missing, of the wrong type or invalid (or the
            instance has no image and no root volume).
        """
        try:
            return cls._from_spec(spec)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise InvalidInput(f"instance spec {_spec_uuid(spec)} is malformed ({what}); "
                               "this is a bug in the conductor that sent it") from exc

    @classmethod
    def _from_spec(cls, spec: Mapping[str, Any]) -> Instance:
        uuid = _spec_uuid(spec)
        image = spec.get("image")
        flavor = spec["flavor"]
        return cls(
            uuid=uuid, name=str(spec["name"]), project_id=str(spec["project_id"]),
            user_id=spec.get("user_id"), hostname=spec.get("hostname") or None,
            availability_zone=spec.get("availability_zone"),
            config_drive=bool(spec.get("config_drive")),
            user_data=_decode_user_data(uuid, spec.get("user_data")),
            public_keys={str(k): str(v) for k, v in (spec.get("public_keys") or {}).items()},
            metadata={str(k): str(v) for k, v in (spec.get("metadata") or {}).items()},
            launch_index=int(spec.get("launch_index") or 0),
            flavor=Flavor(name=str(flavor["name"]), memory_mb=int(flavor["memory_mb"]),
                          vcpus=int(flavor["vcpus"]), root_gb=int(flavor.get("root_gb") or 0)),
            image=ImageRef(id=image["id"], disk_format=image.get("disk_format") or "qcow2",
                           os_hash_algo=image.get("os_hash_algo"),
                           os_hash_value=image.get("os_hash_value"),
                           checksum=image.get("checksum")) if image else None,
            vifs=tuple(_vif(vif) for vif in spec.get("vifs") or ()),
            network_data=_network_data(uuid, spec.get("network_data")),
            volumes=tuple(VolumeDevice.from_spec(volume)
                          for volume in spec.get("volumes") or ()))


def _check_volumes(instance: Instance) -> None:
    """:raises InvalidInput: no root disk at all, two roots, or a device or volume twice."""
    roots = [volume for volume in instance.volumes if volume.is_root]
    if instance.image is None and not roots:
        raise InvalidInput(f"instance {instance.uuid} has neither an image nor a root volume")
    if len(roots) > 1 or (roots and instance.image is not None):
        raise InvalidInput(f"instance {instance.uuid} has more than one root disk")
    for attr in ("device", "volume_id"):
        values = [getattr(volume, attr) for volume in instance.volumes]
        if len(set(values)) != len(values):
            raise InvalidInput(f"instance {instance.uuid}: the same volume {attr} twice")


def _spec_uuid(spec: Mapping[str, Any]) -> str:
    if not isinstance(spec, Mapping):
        raise InvalidInput(f"an instance spec must be a mapping, not {type(spec).__name__}")
    return canonical_uuid(spec.get("uuid"), "instance uuid")


def vif_from_spec(spec: Mapping[str, Any]) -> Vif:
    """The Vif a vif dict of an instance spec (``common.rpc.compute``) describes.

    :raises InvalidInput: a field is missing or invalid.
    """
    try:
        return _vif(spec)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"vif {spec!r:.200} is malformed ({exc}); this is a bug in the "
                           "sender") from exc


def _vif(spec: Mapping[str, Any]) -> Vif:
    kind = spec.get("type") or "ovs"
    bridge = spec.get("bridge") or ("br-int" if kind == "ovs" else None)
    return Vif(id=spec["id"], mac=spec["mac"], type=kind, bridge=bridge, mtu=spec.get("mtu"),
               network_id=spec.get("network_id"))


def _network_data(uuid: str, value: Any) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInput(f"instance {uuid}: network_data must be a mapping")
    return dict(value)


def _decode_user_data(uuid: str, value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"instance {uuid}: user_data is not valid base64") from exc


@dataclasses.dataclass(frozen=True)
class InstanceInfo:
    """What the hypervisor reports about one instance's domain."""

    uuid: str
    power_state: PowerState
    state_reason: str = ""
    memory_kib: int = 0
    vcpus: int = 0
    cpu_time_ns: int = 0


@dataclasses.dataclass(frozen=True)
class HostResources:
    """This host's capacity, as the scheduler's inventory needs it."""

    vcpus: int
    memory_mb: int
    disk_gb: int  # size of the filesystem holding instances_path
    disk_free_gb: int
    hypervisor_type: str = "QEMU"
    hypervisor_version: int = 0  # e.g. 7002000 for QEMU 7.2.0
    cpu_model: str = ""
