"""A volume as an instance spec describes it to the agent (``common.rpc.compute``).

Validated on construction: the device becomes a libvirt target name and the volume id
part of a secret name, so a bad value must fail here.
"""

from __future__ import annotations

import dataclasses
import re
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

from agents.compute.exception import InvalidInput

_DEV_RE = re.compile(r"^vd[a-z]{1,2}$")
_IQN_RE = re.compile(r"^iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:[A-Za-z0-9.:_-]+)?$")


@dataclasses.dataclass(frozen=True)
class VolumeDevice:
    """One volume of an instance: where the guest sees it and how QEMU reaches it."""

    volume_id: str
    device: str  # vda (the root of a volume-backed instance), vdb...
    connection_info: Mapping[str, Any]
    boot_index: int | None = None
    initiator: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "volume_id", str(uuidlib.UUID(str(self.volume_id))))
        except ValueError as exc:
            raise InvalidInput(f"volume id {self.volume_id!r} is not a UUID") from exc
        if not _DEV_RE.match(self.device):
            raise InvalidInput(f"volume {self.volume_id}: device {self.device!r} is not a "
                               "virtio disk name")
        if self.initiator is not None and not _IQN_RE.match(self.initiator):
            raise InvalidInput(f"volume {self.volume_id}: initiator {self.initiator!r} is "
                               "not an IQN")
        if not isinstance(self.connection_info, Mapping):
            raise InvalidInput(f"volume {self.volume_id}: connection_info must be a mapping")

    @property
    def is_root(self) -> bool:
        return self.boot_index == 0

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> VolumeDevice:
        """The volume a spec ``volumes`` item describes.

        :raises InvalidInput: a field is missing or invalid.
        """
        try:
            boot_index = spec.get("boot_index")
            return cls(volume_id=spec["volume_id"], device=str(spec["device"]),
                       connection_info=dict(spec["connection_info"]),
                       boot_index=None if boot_index is None else int(boot_index),
                       initiator=spec.get("initiator") or None)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(f"volume {spec!r:.120} is malformed ({exc}); this is a bug "
                               "in the sender") from exc
