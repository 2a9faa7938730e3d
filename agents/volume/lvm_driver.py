"""LVM backend: thin logical volumes ``volume-<uuid>`` in a thin pool of one volume group.

Thin provisioning makes snapshots and clones cheap: a snapshot is a thin snapshot of
the volume (``lvcreate --snapshot`` with no size), a volume from a snapshot or a clone
is a thin snapshot of that, grown with ``lvextend`` when asked for more. Thin snapshots
are created with ``--setactivationskip n`` so they activate like any LV (a block device
tgt/LIO can export). The pool is created with zeroing on (LVM's default), so a new
volume never shows an old one's blocks and deletes need no wipe.

Needs device-mapper (dm-thin-pool): not available on every kernel (see PLATFORM.md).
"""

from __future__ import annotations

import logging
import re

from agents.volume import driver, names
from agents.volume.exception import (
    AlreadyExists,
    BackendError,
    InvalidInput,
    SnapshotNotFound,
    VolumeNotFound,
)

LOG = logging.getLogger(__name__)
GiB = driver.GiB
_LVM_NAME_RE = re.compile(r"^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$")
_LVM_ENV = {"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


class LvmDriver(driver.VolumeDriver):
    """Thin LVs in ``volume_group``/``lvm_thin_pool``."""

    def __init__(self, backend, execute=driver.processutils.execute):
        super().__init__(backend, execute)
        for what, value in (("volume_group", backend.volume_group),
                            ("lvm_thin_pool", backend.lvm_thin_pool)):
            if not _LVM_NAME_RE.match(value):
                raise InvalidInput(f"[{backend.name}] {what} {value!r} is not a valid LVM "
                                   "name (letters, digits, '+_.-', not starting with '-')")

    @property
    def vg(self) -> str:
        return self.backend.volume_group

    @property
    def pool(self) -> str:
        return self.backend.lvm_thin_pool

    def check_setup(self) -> None:
        try:
            self._lvm(["vgs", "--noheadings", "-o", "vg_name", self.vg], "find the group")
        except BackendError as exc:
            raise BackendError(f"volume group {self.vg} is not usable ({exc}); create it "
                               "with pvcreate + vgcreate, or fix [volume] volume_group") from exc
        if self.pool in self._lv_names():
            return
        LOG.info("creating thin pool %s/%s from %d%% of the group's free space", self.vg,
                 self.pool, self.backend.lvm_thin_pool_percent)
        self._lvm(["lvcreate", "--yes", "--type", "thin-pool", "--zero", "y",
                   "--extents", f"{self.backend.lvm_thin_pool_percent}%FREE",
                   "--name", self.pool, self.vg], f"create thin pool {self.vg}/{self.pool}")

    # -------------------------------------------------------------- volumes
    def create_volume(self, volume_id: str, size_gb: int) -> str:
        name = names.volume_name(volume_id)
        if name in self._lv_names():
            raise AlreadyExists("volume", volume_id)
        self._lvm(["lvcreate", "--yes", "--thin", "--virtualsize", f"{names.size_gb(size_gb)}g",
                   "--name", name, f"{self.vg}/{self.pool}"], f"create LV {name}")
        return self.local_path(volume_id)

    def create_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int) -> str:
        source = names.snapshot_name(snapshot_id)
        if source not in self._lv_names():
            raise SnapshotNotFound(snapshot_id)
        return self._thin_copy(source, volume_id, size_gb)

    def clone_volume(self, volume_id: str, source_id: str, size_gb: int) -> str:
        source = names.volume_name(source_id)
        if source not in self._lv_names():
            raise VolumeNotFound(source_id)
        return self._thin_copy(source, volume_id, size_gb)

    def delete_volume(self, volume_id: str) -> None:
        self._remove(names.volume_name(volume_id))

    def extend_volume(self, volume_id: str, new_size_gb: int) -> None:
        new_size = names.size_gb(new_size_gb, "new size") * GiB
        current = self.volume_size(volume_id)
        if new_size < current:
            raise InvalidInput(f"volume {volume_id} is {current // GiB} GiB; it cannot shrink "
                               f"to {new_size_gb} GiB")
        if new_size > current:
            self._lvm(["lvextend", "--size", f"{new_size_gb}g",
                       f"{self.vg}/{names.volume_name(volume_id)}"], f"extend {volume_id}")

    # ------------------------------------------------------------ snapshots
    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        origin, name = names.volume_name(volume_id), names.snapshot_name(snapshot_id)
        existing = self._lv_names()
        if origin not in existing:
            raise VolumeNotFound(volume_id)
        if name in existing:
            raise AlreadyExists("snapshot", snapshot_id)
        self._snapshot(origin, name)

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._remove(names.snapshot_name(snapshot_id))

    # ---------------------------------------------------------- inspection
    def local_path(self, volume_id: str) -> str:
        return f"/dev/{self.vg}/{names.volume_name(volume_id)}"

    def snapshot_path(self, snapshot_id: str) -> str:
        return f"/dev/{self.vg}/{names.snapshot_name(snapshot_id)}"

    def volume_size(self, volume_id: str) -> int:
        name = names.volume_name(volume_id)
        for row in self._lvs():
            if row[0] == name:
                return int(float(row[1]))
        raise VolumeNotFound(volume_id)

    def list_volumes(self) -> set[str]:
        return self._owned("volume")

    def list_snapshots(self) -> set[str]:
        return self._owned("snapshot")

    def capacity(self) -> driver.Capacity:
        pool_size = pool_used = provisioned = 0.0
        for name, size, data_percent, pool_lv in self._lvs():
            if name == self.pool:
                pool_size = float(size)
                pool_used = pool_size * float(data_percent or 0) / 100
            elif pool_lv == self.pool and names.owner_of(name):
                provisioned += float(size)
        return driver.Capacity(total_gb=round(pool_size / GiB, 2),
                               free_gb=round((pool_size - pool_used) / GiB, 2),
                               provisioned_gb=round(provisioned / GiB, 2))

    # -------------------------------------------------------------- helpers
    def _thin_copy(self, source: str, volume_id: str, size_gb: int) -> str:
        target = names.volume_name(volume_id)
        if target in self._lv_names():
            raise AlreadyExists("volume", volume_id)
        size = names.size_gb(size_gb) * GiB
        source_size = next((int(float(row[1])) for row in self._lvs() if row[0] == source), 0)
        if size < source_size:
            raise InvalidInput(f"the new volume ({size_gb} GiB) is smaller than its source "
                               f"({-(-source_size // GiB)} GiB)")
        self._snapshot(source, target)
        if size > source_size:
            self._lvm(["lvextend", "--size", f"{size_gb}g", f"{self.vg}/{target}"],
                      f"grow {target}")
        return self.local_path(volume_id)

    def _snapshot(self, origin: str, name: str) -> None:
        self._lvm(["lvcreate", "--yes", "--snapshot", "--setactivationskip", "n",
                   "--name", name, f"{self.vg}/{origin}"], f"snapshot {origin} as {name}")

    def _remove(self, name: str) -> None:
        if name not in self._lv_names():
            return
        self._lvm(["lvremove", "--yes", "--force", f"{self.vg}/{name}"], f"remove LV {name}")
        LOG.info("removed LV %s/%s", self.vg, name)

    def _owned(self, kind: str) -> set[str]:
        found = set()
        for name in self._lv_names():
            owner = names.owner_of(name)
            if owner and owner[0] == kind:
                found.add(owner[1])
        return found

    def _lv_names(self) -> list[str]:
        return [row[0] for row in self._lvs()]

    def _lvs(self) -> list[list[str]]:
        """[lv_name, lv_size (bytes), data_percent, pool_lv] of every LV in the group."""
        out = self._lvm(["lvs", "--noheadings", "--nosuffix", "--units", "b", "--separator",
                         "|", "-o", "lv_name,lv_size,data_percent,pool_lv", self.vg],
                        f"list the LVs of {self.vg}")
        rows = []
        for line in out.splitlines():
            fields = [field.strip() for field in line.split("|")]
            if len(fields) == 4 and fields[0]:
                rows.append(fields)
        return rows

    def _lvm(self, argv: list[str], what: str) -> str:
        def execute(cmd, **kwargs):
            return self._execute(cmd, env=_LVM_ENV, **kwargs)
        return driver.run(execute, argv, what)
