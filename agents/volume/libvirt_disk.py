"""libvirt side of a volume attach: the network disk XML and the CHAP secret object.

The compute agent calls these when it attaches a volume: it gets ``connection_info``
from the block storage service (the volume agent's ``initialize_connection``), stores the
CHAP password in a libvirt secret (:func:`ensure_secret`), and hot-plugs the disk
(:func:`disk_xml`) into the domain; QEMU's own iSCSI initiator (libiscsi) logs in to the
target, so the host needs no kernel initiator. After a detach, :func:`remove_secret`.
It lives here until the compute agent's volume attach lands (the lead moves it to
``agents/compute``); it imports libvirt nowhere: the connection is passed in.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import quoteattr

from agents.volume import names
from agents.volume.exception import InvalidInput

_DEV_RE = re.compile(r"^(vd|sd|hd)[a-z]{1,2}$")
SERIAL_LENGTH = 20  # virtio-blk serials hold at most 20 bytes


def secret_usage(volume_id: str) -> str:
    """The usage name of a volume's CHAP secret (one secret per volume)."""
    return f"stratus-{names.volume_name(volume_id)}"


def secret_xml(volume_id: str) -> str:
    """A private, persistent iSCSI secret definition for the volume."""
    usage = secret_usage(volume_id)
    return ("<secret ephemeral='no' private='yes'>"
            f"<description>CHAP secret of {names.volume_name(volume_id)}</description>"
            f"<usage type='iscsi'><target>{usage}</target></usage></secret>")


def split_portal(portal: str) -> tuple[str, int]:
    """("ip", port) of "ip:port" or "[v6]:port".

    :raises InvalidInput: not an address with a port.
    """
    host, _, port = portal.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(f"target portal {portal!r} has no valid port")
    return names.ip_address(host, "target portal"), int(port)


def disk_xml(connection_info: dict[str, Any], target_dev: str, bus: str = "virtio") -> str:
    """The ``<disk type='network'>`` element for connection_info, as target_dev.

    :raises InvalidInput: connection_info is not an iSCSI one, or target_dev is odd.
    """
    if connection_info.get("driver_volume_type") != "iscsi":
        raise InvalidInput("only iSCSI connection_info can be attached")
    if not _DEV_RE.match(target_dev) or bus not in ("virtio", "scsi"):
        raise InvalidInput(f"target device {target_dev!r} on bus {bus!r} is not usable")
    data = connection_info["data"]
    volume_id = names.canonical_uuid(data["volume_id"], "volume id")
    iqn, lun = str(data["target_iqn"]), int(data["target_lun"])
    if not names.initiator_iqn(iqn):  # the same syntax check as initiators
        raise InvalidInput(f"target {iqn!r} is not an IQN")
    host, port = split_portal(str(data["target_portal"]))
    auth = ""
    if data.get("auth_method") == "CHAP":
        auth = (f"<auth username={quoteattr(str(data['auth_username']))}>"
                f"<secret type='iscsi' usage={quoteattr(secret_usage(volume_id))}/></auth>")
    readonly = "<readonly/>" if data.get("access_mode") == "ro" else ""
    return ("<disk type='network' device='disk'>"
            "<driver name='qemu' type='raw' cache='none' discard='unmap'/>"
            f"<source protocol='iscsi' name={quoteattr(f'{iqn}/{lun}')}>"
            f"<host name={quoteattr(host)} port='{port}'/>{auth}</source>"
            f"<target dev='{target_dev}' bus='{bus}'/>"
            f"<serial>{volume_id[:SERIAL_LENGTH]}</serial>{readonly}</disk>")


def ensure_secret(conn: Any, connection_info: dict[str, Any]) -> str | None:
    """Define (or update) the volume's CHAP secret on conn; return its usage name.

    None when connection_info asks for no authentication.
    """
    data = connection_info["data"]
    if data.get("auth_method") != "CHAP":
        return None
    volume_id = names.canonical_uuid(data["volume_id"], "volume id")
    usage = secret_usage(volume_id)
    secret = _lookup(conn, usage)
    if secret is None:
        secret = conn.secretDefineXML(secret_xml(volume_id))
    secret.setValue(str(data["auth_password"]).encode())
    return usage


def remove_secret(conn: Any, volume_id: str) -> None:
    """Undefine the volume's CHAP secret (nothing to do when it does not exist)."""
    secret = _lookup(conn, secret_usage(volume_id))
    if secret is not None:
        secret.undefine()


def _lookup(conn: Any, usage: str) -> Any:
    # VIR_SECRET_USAGE_TYPE_ISCSI = 3; libvirt raises when there is no such secret.
    try:
        return conn.secretLookupByUsage(3, usage)
    except Exception:  # noqa: BLE001 - libvirt.libvirtError without importing libvirt
        return None
