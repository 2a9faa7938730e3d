"""The LVM driver and the LIO helper on a real kernel, where it has what they need.

LVM: a loop device becomes a PV and a VG of its own (unique name), the driver makes its
thin pool and runs the whole volume life cycle; everything is removed afterwards.
LIO: a fileio-backed export through rtslib-fb, checked with QEMU's initiator.

This CI kernel has neither device-mapper nor configfs/LIO (PLATFORM.md): both tests skip
with the reason. They run on real hosts (and inside a full-kernel guest).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from agents.volume.lvm_driver import LvmDriver
from agents.volume.targets import Connector
from tests.functional.volume_agent.conftest import SESSION_PREFIX, iscsi_url, qemu
from tests.unit.volume_agent.helpers import backend_conf

GiB = 1024 ** 3


def _device_mapper_missing() -> str | None:
    if not os.path.isdir("/sys/module/dm_mod"):
        return "no device-mapper in this kernel (/sys/module/dm_mod is missing)"
    if shutil.which("dmsetup") is None or shutil.which("lvcreate") is None:
        return "LVM tools are not installed (apt-get install lvm2)"
    targets = subprocess.run(["dmsetup", "targets"], capture_output=True, text=True,
                             check=False).stdout
    if "thin-pool" not in targets:
        return "device-mapper has no thin-pool target (dm-thin-pool module)"
    if os.geteuid() != 0:
        return "LVM needs root"
    return None


def _lio_missing() -> str | None:
    if not os.path.isdir("/sys/kernel/config/target"):
        return "no LIO target in this kernel (/sys/kernel/config/target is missing)"
    try:
        import rtslib_fb  # noqa: F401
    except ImportError:
        return "rtslib-fb is not installed (pip install rtslib-fb)"
    return None


@pytest.fixture
def volume_group(workdir):
    reason = _device_mapper_missing()
    if reason:
        print(f"SKIP LVM functional test: {reason}")
        pytest.skip(reason)
    image = workdir / "pv.img"
    with open(image, "wb") as handle:
        handle.truncate(4 * GiB)
    loop = subprocess.run(["losetup", "--find", "--show", str(image)], capture_output=True,
                          text=True, check=True).stdout.strip()
    name = f"stratus-test-{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run(["pvcreate", "--yes", loop], check=True, capture_output=True)
        subprocess.run(["vgcreate", name, loop], check=True, capture_output=True)
        yield name
    finally:
        subprocess.run(["vgremove", "--yes", "--force", name], capture_output=True,
                       check=False)
        subprocess.run(["pvremove", "--yes", loop], capture_output=True, check=False)
        subprocess.run(["losetup", "--detach", loop], capture_output=True, check=False)


def test_lvm_volume_life_cycle(volume_group, tgtd, qemu_iscsi, chap):
    from agents.volume.tgt import TgtHelper
    backend = backend_conf(volume_driver="lvm", volume_group=volume_group,
                           target_prefix=SESSION_PREFIX)
    driver = LvmDriver(backend)
    driver.check_setup()
    targets = TgtHelper(backend)
    volume_id, snapshot_id, copy_id = (str(uuid.uuid4()) for _ in range(3))
    try:
        path = driver.create_volume(volume_id, 1)
        assert os.path.exists(path) and driver.volume_size(volume_id) == GiB
        creds = chap.credentials(volume_id)
        targets.ensure_export(volume_id, path, creds, Connector("t", "127.0.0.1"))
        url = iscsi_url(targets.connection_info(volume_id, creds))
        qemu(["qemu-io", "-f", "raw", "-c", "write -P 0x7e 0 1M", url])
        driver.create_snapshot(snapshot_id, volume_id)
        driver.create_from_snapshot(copy_id, snapshot_id, 2)
        with open(driver.local_path(copy_id), "rb") as data:
            assert data.read(1 << 20) == b"\x7e" * (1 << 20)
        driver.extend_volume(volume_id, 2)
        targets.refresh(volume_id)
        assert driver.volume_size(volume_id) == 2 * GiB
        cap = driver.capacity()
        assert cap.total_gb > 3 and cap.provisioned_gb >= 5
    finally:
        targets.remove_export(volume_id)
        for vid in (volume_id, copy_id):
            driver.delete_volume(vid)
        driver.delete_snapshot(snapshot_id)
    assert driver.list_volumes() == set() and driver.list_snapshots() == set()


def test_lio_export_with_chap(driver, chap, qemu_iscsi):
    reason = _lio_missing()
    if reason:
        print(f"SKIP LIO functional test: {reason}")
        pytest.skip(reason)
    from agents.volume.lio import LioHelper
    helper = LioHelper(driver.backend, save_file=None)
    volume_id = str(uuid.uuid4())
    driver.create_volume(volume_id, 1)
    creds = chap.credentials(volume_id)
    try:
        helper.ensure_export(volume_id, driver.local_path(volume_id), creds,
                             Connector("t", "127.0.0.1"))
        url = iscsi_url(helper.connection_info(volume_id, creds))
        qemu(["qemu-io", "-f", "raw", "-c", "write -P 0x42 0 64k", "-c",
              "read -P 0x42 0 64k", url])
        wrong = qemu(["qemu-img", "info", iscsi_url(helper.connection_info(
            volume_id, creds), password="x" * 16)], check=False)
        assert wrong.returncode != 0
    finally:
        helper.remove_export(volume_id)
    assert helper.list_exports() == []
