"""Device directories of a node and which ring devices are this node's."""

from __future__ import annotations

import os
import re
import socket
from typing import Any

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class DeviceUnavailable(Exception):
    """The device is unknown here or not mounted (the node answers 507)."""


class Devices:
    """The device directories under one root (``[object_server] devices``)."""

    def __init__(self, root: str, names: list[str] | None = None, mount_check: bool = False):
        self.root = root
        self.names = set(names or [])
        self.mount_check = mount_check
        self._valid: dict[str, str] = {}  # names already checked (not the mount state)

    def path(self, device: str) -> str:
        """The directory of device.

        :raises DeviceUnavailable: bad name, not served here, or not mounted.
        """
        path = self._valid.get(device)
        if path is None:
            if not _NAME_RE.match(device) or (self.names and device not in self.names):
                raise DeviceUnavailable(device)
            path = os.path.join(self.root, device)
            if len(self._valid) < 4096:
                self._valid[device] = path
        if self.mount_check and not os.path.ismount(path):
            raise DeviceUnavailable(device)
        return path

    def local(self) -> list[str]:
        """Device names present under the root that this node serves."""
        try:
            entries = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []
        out = []
        for name in entries:
            try:
                path = self.path(name)
            except DeviceUnavailable:
                continue
            if os.path.isdir(path):
                out.append(name)
        return out


def my_ips(bind_host: str, ring_ips: list[str]) -> set[str]:
    """The addresses under which the rings may name this node."""
    if ring_ips:
        return set(ring_ips)
    if bind_host not in ("0.0.0.0", "::", ""):
        return {bind_host}
    ips = {"127.0.0.1", "::1"}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            ips.add(str(info[4][0]))
    except OSError:
        pass
    return ips


def ring_devices(ring, ips: set[str], port: int) -> list[dict[str, Any]]:
    """This node's entries in a ring (same port, one of our addresses)."""
    return [d for d in ring.devs if d is not None and d["port"] == port and d["ip"] in ips]
