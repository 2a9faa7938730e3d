"""libvirt domain XML built from data with xml.etree.

Values only ever become attribute values or element text, which ElementTree escapes, so
a name or metadata value carrying ``'`` or ``<`` cannot change the document's shape.
The spec holds host-side facts (paths, tap names); ``libvirt_driver`` derives it from
an :class:`agents.compute.model.Instance`.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from agents.compute.exception import InvalidInput
from agents.compute.paths import domain_name

# Our <metadata> namespace: libvirt keeps one element per namespace URI.
METADATA_NS = "urn:stratus:libvirt:instance:1"
METADATA_PREFIX = "stratus"
ET.register_namespace(METADATA_PREFIX, METADATA_NS)

# Offloads that break traffic through the OVS userspace datapath (PLATFORM.md): packets
# leave a tap with partial checksums and arrive with bad ones.
HOST_OFFLOADS = ("csum", "gso", "tso4", "tso6", "ecn", "ufo")
GUEST_OFFLOADS = ("csum", "tso4", "tso6", "ecn", "ufo")


@dataclasses.dataclass(frozen=True)
class Disk:
    """A block device of the guest."""

    path: str
    target_dev: str  # vda, hdc...
    bus: str = "virtio"  # virtio | ide
    device: str = "disk"  # disk | cdrom
    driver_type: str = "qcow2"  # qcow2 | raw
    readonly: bool = False
    backing_file: str | None = None  # the cached base image under a qcow2 overlay
    backing_format: str = "qcow2"

    def __post_init__(self) -> None:
        if self.bus not in ("virtio", "ide") or self.device not in ("disk", "cdrom"):
            raise InvalidInput(f"disk {self.target_dev}: unsupported bus/device "
                               f"{self.bus}/{self.device}")
        if self.driver_type not in ("qcow2", "raw"):
            raise InvalidInput(f"disk {self.target_dev}: unsupported format {self.driver_type}")


@dataclasses.dataclass(frozen=True)
class Interface:
    """A virtio NIC on a host tap.

    kind ``ovs``: libvirt adds the tap to ``bridge`` with an OVS virtualport whose
    ``iface-id`` is the port id (what the OVS agent looks for); ``bridge``: a Linux
    bridge; ``ethernet``: a bare tap the OVS agent plugs itself.
    """

    mac: str
    target_dev: str
    kind: str = "ovs"
    bridge: str | None = None
    port_id: str | None = None
    mtu: int | None = None
    offloads: bool = False


@dataclasses.dataclass(frozen=True)
class DomainSpec:
    """Everything the domain XML says."""

    uuid: str
    display_name: str
    project_id: str
    memory_mib: int
    vcpus: int
    console_log: str
    disks: tuple[Disk, ...]
    interfaces: tuple[Interface, ...] = ()
    user_id: str | None = None
    flavor_name: str | None = None
    image_id: str | None = None
    virt_type: str = "kvm"
    machine: str = "pc"
    cpu_mode: str = "none"
    vnc_listen: str | None = "127.0.0.1"
    extra_metadata: tuple[tuple[str, str], ...] = ()
    owner_host: str | None = None  # the compute agent (conf.host) that owns the domain
    root_gb: int | None = None
    serial_port: int | None = None  # a local TCP port; None: a pty
    serial_listen: str = "127.0.0.1"
    # Volumes: <disk type='network'> elements (agents.compute.volumes), root first when
    # network_root (a volume-backed instance), which then goes before the file disks.
    network_disks: tuple[str, ...] = ()
    network_root: bool = False

    @property
    def name(self) -> str:
        return domain_name(self.uuid)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _metadata(parent: ET.Element, spec: DomainSpec) -> None:
    def tag(name: str) -> str:
        return f"{{{METADATA_NS}}}{name}"

    root = _sub(_sub(parent, "metadata"), tag("instance"))
    if spec.owner_host:
        _sub(root, tag("owner"), host=spec.owner_host)
    _sub(root, tag("name"), spec.display_name)
    _sub(root, tag("project"), uuid=spec.project_id)
    if spec.user_id:
        _sub(root, tag("user"), uuid=spec.user_id)
    if spec.flavor_name:
        _sub(root, tag("flavor"), name=spec.flavor_name, memory=str(spec.memory_mib),
             vcpus=str(spec.vcpus), disk=None if spec.root_gb is None else str(spec.root_gb))
    if spec.image_id:
        _sub(root, tag("image"), uuid=spec.image_id)
    for key, value in spec.extra_metadata:
        _sub(root, tag("meta"), value, key=key)


def _disk(devices: ET.Element, disk: Disk) -> None:
    element = _sub(devices, "disk", type="file", device=disk.device)
    # cache=none needs O_DIRECT, which tmpfs lacks; writeback is safe for qcow2 overlays
    # because QEMU flushes on guest flush requests.
    _sub(element, "driver", name="qemu", type=disk.driver_type, cache="writeback")
    _sub(element, "source", file=disk.path)
    if disk.backing_file:
        # Stated, not probed, and never relabelled: libvirt would otherwise chown the
        # shared base to the QEMU user and leave it so, letting any guest's QEMU (all
        # one uid without sVirt) rewrite the image every other instance boots from.
        backing = _sub(element, "backingStore", type="file")
        _sub(backing, "format", type=disk.backing_format)
        _sub(_sub(backing, "source", file=disk.backing_file), "seclabel", model="dac",
             relabel="no")
        _sub(backing, "backingStore")  # end of the chain
    _sub(element, "target", dev=disk.target_dev, bus=disk.bus)
    if disk.readonly:
        _sub(element, "readonly")


def _interface(devices: ET.Element, nic: Interface) -> None:
    kind = "ethernet" if nic.kind == "ethernet" else "bridge"
    element = _sub(devices, "interface", type=kind)
    _sub(element, "mac", address=nic.mac)
    if kind == "bridge":
        _sub(element, "source", bridge=nic.bridge)
    if nic.kind == "ovs":
        virtualport = _sub(element, "virtualport", type="openvswitch")
        if nic.port_id:
            _sub(virtualport, "parameters", interfaceid=nic.port_id)
    _sub(element, "target", dev=nic.target_dev)
    _sub(element, "model", type="virtio")
    if not nic.offloads:
        # name='qemu' (no vhost): the offload switches are virtio-net device properties.
        driver = _sub(element, "driver", name="qemu")
        _sub(driver, "host", **dict.fromkeys(HOST_OFFLOADS, "off"))
        _sub(driver, "guest", **dict.fromkeys(GUEST_OFFLOADS, "off"))
    if nic.mtu:
        _sub(element, "mtu", size=str(nic.mtu))


def interface(nic: Interface) -> str:
    """The ``<interface>`` element of nic alone, exactly as a domain document holds it
    (what a hot-plug attaches and a hot-unplug names)."""
    holder = ET.Element("devices")
    _interface(holder, nic)
    element = holder[0]
    ET.indent(element)
    return ET.tostring(element, encoding="unicode")


def interface_macs(xml: str) -> list[str]:
    """The MAC addresses of a domain document's interfaces, in order (lower case)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return []
    return [mac.get("address", "").lower() for mac in root.findall("devices/interface/mac")]


def _devices(root: ET.Element, spec: DomainSpec) -> None:
    devices = _sub(root, "devices")
    # Guests name virtio disks in PCI order, which follows this order: the root first.
    volumes = [ET.fromstring(fragment) for fragment in spec.network_disks]
    if spec.network_root and volumes:
        devices.append(volumes.pop(0))
    for disk in spec.disks:
        _disk(devices, disk)
    devices.extend(volumes)
    for nic in spec.interfaces:
        _interface(devices, nic)
    # The serial port listens on a local TCP port (raw) that the console proxy connects
    # to, or is a pty (virDomainOpenConsole, `virsh console`). Either way virtlogd
    # appends its output to console_log, which the console-output API reads; append
    # keeps earlier boots across power cycles.
    for element in ("serial", "console"):
        chardev = _sub(devices, element, type="tcp" if spec.serial_port else "pty")
        if spec.serial_port:
            _sub(chardev, "source", mode="bind", host=spec.serial_listen,
                 service=str(spec.serial_port))
            _sub(chardev, "protocol", type="raw")
        if element == "serial":
            _sub(chardev, "log", file=spec.console_log, append="on")
            _sub(chardev, "target", port="0")
        else:
            _sub(chardev, "target", type="serial", port="0")
    if spec.vnc_listen:
        graphics = _sub(devices, "graphics", type="vnc", autoport="yes", listen=spec.vnc_listen)
        _sub(graphics, "listen", type="address", address=spec.vnc_listen)
        _sub(_sub(devices, "video"), "model", type="vga")
    rng = _sub(devices, "rng", model="virtio")
    _sub(rng, "backend", "/dev/urandom", model="random")
    _sub(devices, "memballoon", model="virtio")


def _metadata_element(xml: str) -> tuple[ET.Element | None, str]:
    """Our <stratus:instance> element in a domain document, or the element alone as
    virDomainGetMetadata returns it (namespace stripped); and its children's prefix."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None, ""
    namespaced = f"{{{METADATA_NS}}}"
    if root.tag == "instance":
        return root, ""
    if root.tag == f"{namespaced}instance":
        return root, namespaced
    return root.find(f"metadata/{namespaced}instance"), namespaced


def _metadata_child(xml: str, name: str) -> ET.Element | None:
    element, prefix = _metadata_element(xml)
    return None if element is None else element.find(prefix + name)


def owner_host(xml: str) -> str | None:
    """The agent host a domain document (or our metadata element) names as its owner."""
    owner = _metadata_child(xml, "owner")
    return None if owner is None else owner.get("host")


def flavor_of(xml: str) -> dict[str, int | str] | None:
    """The flavor recorded in a domain's metadata: {name, memory_mb, vcpus, root_gb?}."""
    flavor = _metadata_child(xml, "flavor")
    if flavor is None:
        return None
    found: dict[str, int | str] = {"name": flavor.get("name", ""),
                                   "memory_mb": int(flavor.get("memory", "0")),
                                   "vcpus": int(flavor.get("vcpus", "0"))}
    if flavor.get("disk") is not None:
        found["root_gb"] = int(flavor.get("disk", "0"))
    return found


def serial_port(xml: str) -> int | None:
    """The TCP port of the domain's first serial port, None when it is not TCP."""
    return _port(xml, "devices/serial[@type='tcp']/source", "service")


def vnc_port(xml: str) -> int | None:
    """The VNC port of a running domain (libvirt fills in autoport), else None."""
    port = _port(xml, "devices/graphics[@type='vnc']", "port")
    return port if port and port > 0 else None


def _port(xml: str, path: str, attribute: str) -> int | None:
    try:
        element = ET.fromstring(xml).find(path)
    except ET.ParseError:
        return None
    try:
        return None if element is None else int(element.get(attribute, ""))
    except ValueError:
        return None


def build(spec: DomainSpec) -> str:
    """The domain XML document for spec.

    :raises InvalidInput: the spec is inconsistent (no disk, unknown virt type...).
    """
    if spec.virt_type not in ("kvm", "qemu"):
        raise InvalidInput(f"virt_type {spec.virt_type!r} is not kvm or qemu")
    if (not spec.disks and not spec.network_root) or \
            (spec.network_root and not spec.network_disks):
        raise InvalidInput(f"domain {spec.name} has no disk to boot from")
    if spec.serial_port is not None and not 1 <= spec.serial_port <= 65535:
        raise InvalidInput(f"domain {spec.name}: serial port {spec.serial_port} is not a "
                           "TCP port")
    if spec.memory_mib < 16 or spec.vcpus < 1:
        raise InvalidInput(f"domain {spec.name}: memory {spec.memory_mib} MiB, "
                           f"{spec.vcpus} vCPUs is not a machine")
    root = ET.Element("domain", type=spec.virt_type)
    _sub(root, "name", spec.name)
    _sub(root, "uuid", spec.uuid)
    # libvirt rejects a title with a newline; the metadata keeps the name verbatim.
    _sub(root, "title", " ".join(spec.display_name.splitlines())[:255])
    _metadata(root, spec)
    _sub(root, "memory", str(spec.memory_mib), unit="MiB")
    _sub(root, "currentMemory", str(spec.memory_mib), unit="MiB")
    _sub(root, "vcpu", str(spec.vcpus), placement="static")
    os_element = _sub(root, "os")
    _sub(os_element, "type", "hvm", arch="x86_64", machine=spec.machine)
    _sub(os_element, "boot", dev="hd")
    features = _sub(root, "features")
    _sub(features, "acpi")  # the power button graceful shutdown presses
    _sub(features, "apic")
    if spec.cpu_mode != "none":
        _sub(root, "cpu", mode=spec.cpu_mode)
    _sub(_sub(root, "clock", offset="utc"), "timer", name="rtc", tickpolicy="catchup")
    _sub(root, "on_poweroff", "destroy")
    _sub(root, "on_reboot", "restart")
    _sub(root, "on_crash", "destroy")
    _devices(root, spec)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")
