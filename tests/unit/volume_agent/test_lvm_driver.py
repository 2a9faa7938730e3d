"""The LVM driver's argv lists, against a recorded execute that models LVM's answers."""

from __future__ import annotations

import pytest

from agents.volume.exception import (
    AlreadyExists,
    BackendError,
    InsufficientSpace,
    InvalidInput,
    SnapshotNotFound,
    VolumeNotFound,
)
from agents.volume.lvm_driver import LvmDriver
from common.processutils import ProcessExecutionError
from tests.unit.volume_agent.helpers import backend_conf, new_id

GiB = 1024 ** 3
VG, POOL = "stratus-volumes", "stratus-pool"


class RecordedLvm:
    """Records every argv; answers lvs/vgs from an LV table it keeps up to date."""

    def __init__(self, pool: bool = True) -> None:
        self.argvs: list[list[str]] = []
        self.envs: list[dict] = []
        self.lvs: dict[str, dict] = {}
        if pool:
            self.lvs[POOL] = {"size": 100 * GiB, "data": "12.50", "pool": ""}
        self.fail: dict[str, str] = {}  # command -> stderr

    def __call__(self, argv, env=None, **kwargs) -> str:
        self.argvs.append(list(argv))
        self.envs.append(env)
        if argv[0] in self.fail:
            raise ProcessExecutionError(argv, 5, "", self.fail.pop(argv[0]))
        if argv[0] == "vgs":
            return f"  {VG}\n"
        if argv[0] == "lvs":
            return "".join(f"  {name}|{lv['size']}|{lv['data']}|{lv['pool']}\n"
                           for name, lv in self.lvs.items())
        if argv[0] == "lvcreate" and "--thin" in argv:
            size = int(argv[argv.index("--virtualsize") + 1].rstrip("g")) * GiB
            self.lvs[argv[argv.index("--name") + 1]] = {"size": size, "data": "0.00",
                                                        "pool": POOL}
        elif argv[0] == "lvcreate" and "--snapshot" in argv:
            origin = self.lvs[argv[-1].split("/")[1]]
            self.lvs[argv[argv.index("--name") + 1]] = dict(origin)
        elif argv[0] == "lvcreate" and "thin-pool" in argv:
            self.lvs[POOL] = {"size": 90 * GiB, "data": "0.00", "pool": ""}
        elif argv[0] == "lvextend":
            self.lvs[argv[-1].split("/")[1]]["size"] = int(argv[2].rstrip("g")) * GiB
        elif argv[0] == "lvremove":
            del self.lvs[argv[-1].split("/")[1]]
        return ""


@pytest.fixture
def lvm():
    return RecordedLvm()


@pytest.fixture
def driver(lvm):
    return LvmDriver(backend_conf(volume_driver="lvm"), lvm)


def test_create_is_a_thin_lv_in_the_pool(driver, lvm):
    volume_id = new_id()
    path = driver.create_volume(volume_id, 3)
    assert path == f"/dev/{VG}/volume-{volume_id}"
    assert lvm.argvs[-1] == ["lvcreate", "--yes", "--thin", "--virtualsize", "3g", "--name",
                             f"volume-{volume_id}", f"{VG}/{POOL}"]
    assert lvm.envs[-1]["LC_ALL"] == "C"
    assert driver.volume_size(volume_id) == 3 * GiB
    assert driver.list_volumes() == {volume_id} and driver.volume_exists(volume_id)
    with pytest.raises(AlreadyExists):
        driver.create_volume(volume_id, 3)


def test_snapshots_and_clones_are_active_thin_snapshots(driver, lvm):
    volume_id, snapshot_id, copy_id, clone_id = new_id(), new_id(), new_id(), new_id()
    driver.create_volume(volume_id, 2)
    driver.create_snapshot(snapshot_id, volume_id)
    assert lvm.argvs[-1] == ["lvcreate", "--yes", "--snapshot", "--setactivationskip", "n",
                             "--name", f"snapshot-{snapshot_id}", f"{VG}/volume-{volume_id}"]
    driver.create_from_snapshot(copy_id, snapshot_id, 5)
    assert lvm.argvs[-2][-1] == f"{VG}/snapshot-{snapshot_id}"
    assert lvm.argvs[-1] == ["lvextend", "--size", "5g", f"{VG}/volume-{copy_id}"]
    driver.clone_volume(clone_id, volume_id, 2)
    assert lvm.argvs[-1][0] == "lvcreate"  # same size: no lvextend
    assert driver.list_snapshots() == {snapshot_id}
    with pytest.raises(InvalidInput):
        driver.clone_volume(new_id(), volume_id, 1)
    with pytest.raises(SnapshotNotFound):
        driver.create_from_snapshot(new_id(), new_id(), 1)
    with pytest.raises(VolumeNotFound):
        driver.create_snapshot(new_id(), new_id())


def test_delete_is_idempotent(driver, lvm):
    volume_id = new_id()
    driver.create_volume(volume_id, 1)
    driver.delete_volume(volume_id)
    assert lvm.argvs[-1] == ["lvremove", "--yes", "--force", f"{VG}/volume-{volume_id}"]
    count = len(lvm.argvs)
    driver.delete_volume(volume_id)
    assert all(argv[0] == "lvs" for argv in lvm.argvs[count:])
    driver.delete_snapshot(new_id())


def test_extend_grows_and_refuses_to_shrink(driver, lvm):
    volume_id = new_id()
    driver.create_volume(volume_id, 2)
    driver.extend_volume(volume_id, 4)
    assert lvm.argvs[-1] == ["lvextend", "--size", "4g", f"{VG}/volume-{volume_id}"]
    with pytest.raises(InvalidInput):
        driver.extend_volume(volume_id, 1)
    with pytest.raises(VolumeNotFound):
        driver.extend_volume(new_id(), 4)


def test_capacity_comes_from_the_thin_pool(driver):
    driver.create_volume(new_id(), 10)
    driver.create_volume(new_id(), 30)
    cap = driver.capacity()
    assert (cap.total_gb, cap.free_gb, cap.provisioned_gb) == (100.0, 87.5, 40.0)


def test_check_setup_creates_a_missing_pool():
    lvm = RecordedLvm(pool=False)
    LvmDriver(backend_conf(volume_driver="lvm"), lvm).check_setup()
    assert lvm.argvs[-1] == ["lvcreate", "--yes", "--type", "thin-pool", "--zero", "y",
                             "--extents", "95%FREE", "--name", POOL, VG]


def test_check_setup_explains_a_missing_group(lvm):
    lvm.fail["vgs"] = "  Volume group \"stratus-volumes\" not found\n"
    with pytest.raises(BackendError, match="vgcreate"):
        LvmDriver(backend_conf(volume_driver="lvm"), lvm).check_setup()


def test_full_pool_is_insufficient_space(driver, lvm):
    lvm.fail["lvcreate"] = "  Insufficient free space: 2560 extents needed\n"
    with pytest.raises(InsufficientSpace):
        driver.create_volume(new_id(), 10)


def test_names_are_validated():
    with pytest.raises(InvalidInput):
        LvmDriver(backend_conf(volume_driver="lvm", volume_group="-rf"), RecordedLvm())
    with pytest.raises(InvalidInput):
        LvmDriver(backend_conf(volume_driver="lvm", lvm_thin_pool="a/b"), RecordedLvm())
