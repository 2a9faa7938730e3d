"""The iSCSI target interface: export a volume's data as LUN 1 of its own target.

Implementations: :mod:`agents.volume.tgt` (user-space tgtd), :mod:`agents.volume.lio`
(the kernel's LIO through rtslib-fb) and :class:`agents.volume.fake.FakeTarget`. Each
volume gets one target named ``<prefix>volume-<uuid>`` with CHAP (incoming user) on,
and an access list of the initiators it was exported to (tgt: the connector's address;
LIO: the connector's initiator IQN). Every method is idempotent and raises only
:class:`~agents.volume.exception.TargetError` (or InvalidInput); the helper's own
errors are translated at its edge.
"""

from __future__ import annotations

import abc
import dataclasses
import socket
from typing import Any

from agents.volume import names
from agents.volume.chap import Credentials
from agents.volume.conf import BackendConf
from agents.volume.exception import InvalidInput

LUN = 1  # LUN 0 is the target's controller on tgt; one data LUN per target everywhere


@dataclasses.dataclass(frozen=True)
class Connector:
    """Who attaches: the compute host's address and (optionally) its initiator IQN."""

    host: str
    ip: str
    initiator: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Connector:
        """A validated connector from the RPC payload.

        :raises InvalidInput: not a dict with a usable ip (and initiator, when given).
        """
        if not isinstance(data, dict):
            raise InvalidInput(f"connector must be an object, not {type(data).__name__}")
        host = data.get("host") or ""
        if not isinstance(host, str) or len(host) > 255:
            raise InvalidInput(f"connector host {host!r} is not a host name")
        return cls(host=host, ip=names.ip_address(data.get("ip"), "connector ip"),
                   initiator=names.initiator_iqn(data.get("initiator")))


@dataclasses.dataclass(frozen=True)
class Export:
    """A volume's target as the helper sees it on the host."""

    volume_id: str
    iqn: str
    path: str | None
    initiators: frozenset[str] = frozenset()
    lun: int = LUN


class TargetHelper(abc.ABC):
    """One iSCSI target implementation, for one backend's volumes."""

    def __init__(self, backend: BackendConf):
        self.backend = backend
        self.prefix = names.target_prefix(backend.target_prefix)
        self.portal_ip = names.ip_address(backend.target_ip_address or default_ip(),
                                          "target_ip_address")

    def iqn(self, volume_id: str) -> str:
        return names.target_iqn(self.prefix, volume_id)

    @property
    def portal(self) -> str:
        ip = self.portal_ip
        return f"[{ip}]:{self.backend.target_port}" if ":" in ip else \
            f"{ip}:{self.backend.target_port}"

    @abc.abstractmethod
    def ensure_export(self, volume_id: str, path: str, credentials: Credentials,
                      connector: Connector | None = None) -> Export:
        """Make sure the volume's target exists with path as LUN 1, CHAP on with
        credentials, and connector (when given) allowed in.

        :raises TargetError: the target could not be created or changed.
        """

    def acl_key(self, connector: Connector) -> str:
        """What the access list holds for connector (here: its address)."""
        return connector.ip

    def remove_connector(self, volume_id: str, connector: Connector) -> bool:
        """Take connector off the volume's access list; remove the whole export when
        nobody is left. Returns whether the export still exists.

        :raises TargetError: the target could not be changed.
        """
        return self.revoke(volume_id, self.acl_key(connector))

    @abc.abstractmethod
    def revoke(self, volume_id: str, key: str) -> bool:
        """Take key (an :meth:`acl_key`) off the volume's access list; remove the whole
        export when nobody is left. Returns whether the export still exists.

        :raises TargetError: the target could not be changed.
        """

    @abc.abstractmethod
    def remove_export(self, volume_id: str) -> None:
        """Remove the volume's target (closing its sessions) and its CHAP account.

        :raises TargetError: it exists but could not be removed.
        """

    @abc.abstractmethod
    def refresh(self, volume_id: str) -> None:
        """Make an existing export pick up its data's new size (after an extend).

        :raises TargetError: the LUN could not be re-read.
        """

    @abc.abstractmethod
    def list_exports(self) -> list[Export]:
        """Every target with our IQN prefix on this host (for mark-and-sweep).

        :raises TargetError: the target cannot be inspected.
        """

    def connection_info(self, volume_id: str, credentials: Credentials,
                        access_mode: str = "rw") -> dict[str, Any]:
        """What the compute side needs to attach (the contract's connection_info)."""
        return {"driver_volume_type": "iscsi", "data": {
            "target_iqn": self.iqn(volume_id), "target_portal": self.portal,
            "target_lun": LUN, "auth_method": "CHAP",
            "auth_username": credentials.username, "auth_password": credentials.password,
            "volume_id": volume_id, "access_mode": access_mode, "target_discovered": False}}


def default_ip() -> str:
    """Address of the interface holding the default route; 127.0.0.1 without one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # connect() on UDP sends nothing: it only asks the kernel for a route.
        probe.connect(("192.0.2.1", 9))
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()
