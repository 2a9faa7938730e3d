"""The LIO target helper: the kernel's iSCSI target through rtslib-fb (configfs).

For real hosts (it needs the ``target_core_mod``/``iscsi_target_mod`` modules and
configfs; PLATFORM.md: not on the CI kernel). Per volume: a storage object named
``volume-<uuid>`` (fileio for files, iblock for block devices), one target
``<prefix>volume-<uuid>`` with TPG 1, LUN 1, a portal on the target address, and CHAP
on. The access list is by initiator IQN (LIO's model): each connector's IQN gets a node
ACL carrying the volume's credentials and LUN 1 mapped. A connector without an IQN
opens the TPG to any initiator that knows the credentials (LIO "demo mode" with TPG
CHAP). The configuration is saved after each change so the target service restores it
at boot; the agent's start-up reconciliation converges it either way.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import stat
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from agents.volume import names
from agents.volume.chap import Credentials
from agents.volume.conf import BackendConf
from agents.volume.exception import TargetError
from agents.volume.targets import LUN, Connector, Export, TargetHelper

LOG = logging.getLogger(__name__)
TPG_TAG = 1
OPEN_ACL = "*"  # what list_exports reports for a TPG in demo mode


def load_rtslib() -> ModuleType:
    """The rtslib_fb module.

    :raises TargetError: it is not installed.
    """
    try:
        return importlib.import_module("rtslib_fb")
    except ImportError as exc:
        raise TargetError("target_helper = lio needs rtslib-fb (pip install rtslib-fb) and "
                          "the kernel's LIO target (configfs)") from exc


class LioHelper(TargetHelper):
    """Targets in the kernel's LIO, through rtslib-fb."""

    def __init__(self, backend: BackendConf, rtslib: ModuleType | None = None,
                 save_file: str | None = "/etc/target/saveconfig.json"):
        super().__init__(backend)
        self._rts = rtslib or load_rtslib()
        self._save_file = save_file
        self._lock = threading.Lock()

    def ensure_export(self, volume_id: str, path: str, credentials: Credentials,
                      connector: Connector | None = None) -> Export:
        iqn = self.iqn(volume_id)
        with self._translated(f"export volume {volume_id}"):
            tpg = self._tpg(iqn, create=True)
            tpg.set_attribute("authentication", "1")
            lun = self._ensure_lun(tpg, names.volume_name(volume_id), path)
            self._rts.NetworkPortal(tpg, self.portal_ip, self.backend.target_port, mode="any")
            if connector is not None and connector.initiator:
                acl = self._rts.NodeACL(tpg, connector.initiator, mode="any")
                acl.chap_userid = credentials.username
                acl.chap_password = credentials.password
                if not any(m.mapped_lun == LUN for m in acl.mapped_luns):
                    self._rts.MappedLUN(acl, LUN, lun)
            elif connector is not None:
                # No IQN to list: anyone with the credentials may log in.
                tpg.set_attribute("generate_node_acls", "1")
                tpg.set_attribute("demo_mode_write_protect", "0")
                tpg.chap_userid = credentials.username
                tpg.chap_password = credentials.password
            tpg.enable = True
            self._save()
            allowed = self._allowed(tpg)
        LOG.info("exported volume %s as %s (allowed: %s)", volume_id, iqn,
                 ", ".join(sorted(allowed)) or "nobody")
        return Export(volume_id, iqn, path, frozenset(allowed))

    def acl_key(self, connector: Connector) -> str:
        return connector.initiator or OPEN_ACL

    def revoke(self, volume_id: str, key: str) -> bool:
        iqn = self.iqn(volume_id)
        with self._translated(f"remove {key} from {iqn}"):
            tpg = self._tpg(iqn)
            if tpg is None:
                return False
            if key == OPEN_ACL:
                tpg.set_attribute("generate_node_acls", "0")
            for acl in list(tpg.node_acls):
                if acl.node_wwn == key:
                    acl.delete()
            if self._allowed(tpg):
                self._save()
                return True
        self.remove_export(volume_id)
        return False

    def remove_export(self, volume_id: str) -> None:
        iqn = self.iqn(volume_id)
        with self._translated(f"remove target {iqn}"):
            tpg = self._tpg(iqn)
            if tpg is not None:
                tpg.parent_target.delete()  # closes sessions, drops LUNs, ACLs, portals
            for so in self._storage_objects(names.volume_name(volume_id)):
                so.delete()
            self._save()
        LOG.info("removed target %s of volume %s", iqn, volume_id)

    def refresh(self, volume_id: str) -> None:
        iqn = self.iqn(volume_id)
        with self._translated(f"re-read the size of {iqn}"):
            tpg = self._tpg(iqn)
            if tpg is None:
                return
            lun = next((lun for lun in tpg.luns if lun.lun == LUN), None)
            if lun is None or _is_block(lun.storage_object.udev_path):
                return  # iblock re-reads the device size by itself
            # A fileio object's size is fixed when created: rebuild it and its LUN, and
            # map the LUN again for every ACL (sessions see the size after a rescan).
            path = lun.storage_object.udev_path
            acls = [acl for acl in tpg.node_acls]
            lun.delete()
            for so in self._storage_objects(names.volume_name(volume_id)):
                so.delete()
            new_lun = self._ensure_lun(tpg, names.volume_name(volume_id), path)
            for acl in acls:
                if not any(m.mapped_lun == LUN for m in acl.mapped_luns):
                    self._rts.MappedLUN(acl, LUN, new_lun)
            self._save()

    def list_exports(self) -> list[Export]:
        exports = []
        with self._translated("list the targets"):
            for target in self._rts.RTSRoot().targets:
                volume_id = names.volume_of_iqn(self.prefix, target.wwn)
                if volume_id is None:
                    continue
                tpg = next((t for t in target.tpgs if t.tag == TPG_TAG), None)
                lun = next((lun for lun in tpg.luns if lun.lun == LUN), None) if tpg else None
                path = lun.storage_object.udev_path if lun else None
                allowed = self._allowed(tpg) if tpg else set()
                exports.append(Export(volume_id, target.wwn, path, frozenset(allowed)))
        return exports

    # -------------------------------------------------------------- helpers
    def _tpg(self, iqn: str, create: bool = False) -> Any:
        if not create:
            target = next((t for t in self._rts.RTSRoot().targets if t.wwn == iqn), None)
            if target is None:
                return None
            return next((t for t in target.tpgs if t.tag == TPG_TAG), None)
        fabric = self._rts.FabricModule("iscsi")
        target = self._rts.Target(fabric, iqn, mode="any")
        return self._rts.TPG(target, TPG_TAG, mode="any")

    def _ensure_lun(self, tpg: Any, name: str, path: str) -> Any:
        for lun in tpg.luns:
            if lun.lun == LUN:
                if lun.storage_object.udev_path == path:
                    return lun
                lun.delete()
        existing = self._storage_objects(name)
        so = next((so for so in existing if so.udev_path == path), None)
        for other in existing:
            if other is not so:
                other.delete()
        if so is None:
            so = (self._rts.BlockStorageObject(name, dev=path) if _is_block(path) else
                  self._rts.FileIOStorageObject(name, dev=path, size=os.path.getsize(path),
                                                write_back=False))
        return self._rts.LUN(tpg, lun=LUN, storage_object=so)

    def _storage_objects(self, name: str) -> list[Any]:
        return [so for so in self._rts.RTSRoot().storage_objects if so.name == name]

    @staticmethod
    def _allowed(tpg: Any) -> set[str]:
        allowed = {acl.node_wwn for acl in tpg.node_acls}
        if str(tpg.get_attribute("generate_node_acls")) == "1":
            allowed.add(OPEN_ACL)
        return allowed

    def _save(self) -> None:
        if not self._save_file:
            return
        try:
            self._rts.RTSRoot().save_to_file(self._save_file)
        except (OSError, self._rts.RTSLibError) as exc:
            # Not fatal: the running configuration is right, start-up reconciliation
            # rebuilds it after a reboot anyway.
            LOG.warning("could not save the LIO configuration to %s: %s", self._save_file, exc)

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        with self._lock:
            try:
                yield
            except (OSError, self._rts.RTSLibError) as exc:
                raise TargetError(f"could not {what}: {exc}") from exc


def _is_block(path: str) -> bool:
    try:
        return stat.S_ISBLK(os.stat(path).st_mode)
    except OSError:
        return False
