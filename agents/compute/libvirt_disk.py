"""libvirt side of a volume: the iSCSI network disk XML and the CHAP secret object.

The block storage service's ``connection_info`` (the volume agent's
``initialize_connection``) names a target, LUN and CHAP account. The password goes into a
libvirt secret (one per volume, usage ``stratus-volume-<uuid>``, so a sweep knows whose
it is) and the disk references the secret by usage, so the password never appears in a
domain definition. QEMU's own iSCSI initiator (libiscsi) logs in to the target with the
connector's initiator name: the host needs no kernel initiator. Nothing here imports
libvirt; the connection is passed in.
"""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import quoteattr

from agents.compute.exception import InvalidInput
from agents.compute.model import canonical_uuid

DEV_RE = re.compile(r"^(vd|sd|hd)[a-z]{1,2}$")
IQN_RE = re.compile(r"^iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:[A-Za-z0-9.:_-]+)?$")
SERIAL_LENGTH = 20  # virtio-blk serials hold at most 20 bytes
SECRET_PREFIX = "stratus-volume-"
VIR_SECRET_USAGE_TYPE_ISCSI = 3


def secret_usage(volume_id: str) -> str:
    """The usage name of a volume's CHAP secret (one secret per volume)."""
    return f"{SECRET_PREFIX}{canonical_uuid(volume_id, 'volume id')}"


def volume_of_usage(usage: str) -> str | None:
    """The volume id a secret usage name of ours names, else None."""
    if not usage.startswith(SECRET_PREFIX):
        return None
    try:
        return canonical_uuid(usage[len(SECRET_PREFIX):])
    except InvalidInput:
        return None


def secret_xml(volume_id: str) -> str:
    """A private, persistent iSCSI secret definition for the volume."""
    usage = secret_usage(volume_id)
    return ("<secret ephemeral='no' private='yes'>"
            f"<description>CHAP secret of volume {canonical_uuid(volume_id)}</description>"
            f"<usage type='iscsi'><target>{usage}</target></usage></secret>")


def iqn(value: Any, what: str) -> str:
    """value as an IQN. :raises InvalidInput: it is not one."""
    if not isinstance(value, str) or len(value) > 223 or not IQN_RE.match(value):
        raise InvalidInput(f"{what} {value!r} is not an IQN")
    return value


def split_portal(portal: str) -> tuple[str, int]:
    """("ip", port) of "ip:port" or "[v6]:port".

    :raises InvalidInput: not an address with a port.
    """
    host, _, port = str(portal).rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(f"target portal {portal!r} has no valid port")
    try:
        return str(ipaddress.ip_address(host)), int(port)
    except ValueError as exc:
        raise InvalidInput(f"target portal {portal!r} is not an IP address") from exc


def disk_xml(connection_info: dict[str, Any], target_dev: str, bus: str = "virtio",
             initiator: str | None = None) -> str:
    """The ``<disk type='network'>`` element for connection_info, as target_dev.

    :raises InvalidInput: connection_info is not an iSCSI one, or a value is odd.
    """
    if not isinstance(connection_info, dict) or \
            connection_info.get("driver_volume_type") != "iscsi":
        raise InvalidInput("only iSCSI connection_info can be attached")
    if not DEV_RE.match(str(target_dev)) or bus not in ("virtio", "scsi"):
        raise InvalidInput(f"target device {target_dev!r} on bus {bus!r} is not usable")
    data = connection_info.get("data") or {}
    try:
        volume_id = canonical_uuid(data["volume_id"], "volume id")
        target, lun = iqn(data["target_iqn"], "target"), int(data["target_lun"])
        host, port = split_portal(str(data["target_portal"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"connection_info is incomplete ({exc})") from exc
    auth = ""
    if data.get("auth_method") == "CHAP":
        auth = (f"<auth username={quoteattr(str(data.get('auth_username', '')))}>"
                f"<secret type='iscsi' usage={quoteattr(secret_usage(volume_id))}/></auth>")
    login = f"<initiator><iqn name={quoteattr(iqn(initiator, 'initiator'))}/></initiator>" \
        if initiator else ""
    readonly = "<readonly/>" if data.get("access_mode") == "ro" else ""
    return ("<disk type='network' device='disk'>"
            "<driver name='qemu' type='raw' cache='none' discard='unmap'/>"
            f"<source protocol='iscsi' name={quoteattr(f'{target}/{lun}')}>"
            f"<host name={quoteattr(host)} port='{port}'/>{auth}{login}</source>"
            f"<target dev='{target_dev}' bus='{bus}'/>"
            f"<serial>{volume_id[:SERIAL_LENGTH]}</serial>{readonly}</disk>")


def ensure_secret(conn: Any, connection_info: dict[str, Any]) -> str | None:
    """Define (or update) the volume's CHAP secret on conn; return its usage name.

    None when connection_info asks for no authentication.
    """
    data = connection_info.get("data") or {}
    if data.get("auth_method") != "CHAP":
        return None
    volume_id = canonical_uuid(data.get("volume_id"), "volume id")
    usage = secret_usage(volume_id)
    secret = _lookup(conn, usage)
    if secret is None:
        secret = conn.secretDefineXML(secret_xml(volume_id))
    secret.setValue(str(data.get("auth_password", "")).encode())
    return usage


def remove_secret(conn: Any, volume_id: str) -> None:
    """Undefine the volume's CHAP secret (nothing to do when it does not exist)."""
    secret = _lookup(conn, secret_usage(volume_id))
    if secret is not None:
        secret.undefine()


def our_secrets(conn: Any) -> list[str]:
    """Volume ids of the CHAP secrets of ours defined on conn."""
    found = []
    for secret in conn.listAllSecrets(0):
        if secret.usageType() == VIR_SECRET_USAGE_TYPE_ISCSI:
            volume_id = volume_of_usage(secret.usageID() or "")
            if volume_id:
                found.append(volume_id)
    return found


def _lookup(conn: Any, usage: str) -> Any:
    try:
        return conn.secretLookupByUsage(VIR_SECRET_USAGE_TYPE_ISCSI, usage)
    except Exception:  # noqa: BLE001 - libvirt.libvirtError without importing libvirt
        return None


# ------------------------------------------------------------ domain documents
def _volume_of_disk(disk: ET.Element) -> str | None:
    source = disk.find("source")
    if disk.get("type") != "network" or source is None or source.get("protocol") != "iscsi":
        return None
    match = re.search(r"volume-([0-9a-f-]{36})/", source.get("name", ""))
    return match.group(1) if match else None


def volume_disks(xml: str) -> dict[str, tuple[str, str]]:
    """{volume id: (target dev, the disk element as XML)} of a domain document's iSCSI
    volumes (found by the volume id in the target IQN)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return {}
    found = {}
    for disk in root.findall("devices/disk"):
        volume_id = _volume_of_disk(disk)
        target = disk.find("target")
        if volume_id and target is not None:
            found[volume_id] = (target.get("dev", ""), ET.tostring(disk, encoding="unicode"))
    return found


def target_devs(xml: str) -> set[str]:
    """Every disk target device of a domain document."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return set()
    return {target.get("dev", "") for target in root.findall("devices/disk/target")}


def free_dev(used: Iterable[str], wanted: str | None) -> str:
    """wanted if it is a free virtio name, else the first free ``vdX`` after vda.

    :raises InvalidInput: no name is left.
    """
    taken = set(used)
    if wanted and wanted.startswith("vd") and DEV_RE.match(wanted) and wanted not in taken:
        return wanted
    for letter in "bcdefghijklmnopqrstuvwxyz":
        if f"vd{letter}" not in taken:
            return f"vd{letter}"
    raise InvalidInput("no free virtio disk name is left on this instance")
