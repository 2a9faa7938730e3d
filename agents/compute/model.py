"""What the RPC manager hands to a driver: instance, flavor, image and ports.

Everything is validated on construction, because these values end up in file names,
libvirt XML and qemu-img argv: a bad uuid must fail here, not inside a shell-out.
"""

from __future__ import annotations

import dataclasses
import re
import uuid as uuidlib
from collections.abc import Mapping

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
    image: ImageRef
    user_id: str | None = None
    hostname: str | None = None
    availability_zone: str | None = None
    config_drive: bool = False
    user_data: bytes | None = None
    public_keys: Mapping[str, str] = dataclasses.field(default_factory=dict)
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    launch_index: int = 0
    vifs: tuple[Vif, ...] = ()

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
