"""Fixtures for the volume agent's functional tests: a real tgtd, QEMU's iSCSI initiator,
private volume directories and a per-session IQN prefix.

tgtd is shared with whoever else uses this host, so everything here is named uniquely
(an IQN prefix with a random part, fresh directories) and removed afterwards; the
``leftovers`` check at the end of the session fails the run if a target of ours
survived. ``STRATUS_TEST_KEEP=1`` keeps the work directories (agent logs) for a look
afterwards. tgtd is started when ``tgtadm --op show`` cannot reach it (as root: ``tgtd``
daemonizes itself) and left running for the other users.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from agents.volume.chap import ChapKeys
from agents.volume.file_driver import FileDriver
from agents.volume.tgt import TgtHelper, parse_show
from tests.unit.volume_agent.helpers import backend_conf

GUEST_IMAGE = os.environ.get("STRATUS_GUEST_IMAGE", "/var/lib/stratus/guest/stratus-tiny.qcow2")
SESSION_PREFIX = f"iqn.2026-12.org.stratus.test{uuid.uuid4().hex[:8]}:"


def _tgtd_answers() -> bool:
    result = subprocess.run(["tgtadm", "--lld", "iscsi", "--mode", "target", "--op", "show"],
                            capture_output=True, timeout=30, check=False)
    return result.returncode == 0


@pytest.fixture(scope="session")
def tgtd():
    """A reachable tgtd (started if needed); skips when impossible."""
    if shutil.which("tgtadm") is None:
        pytest.skip("tgt is not installed: apt-get install tgt")
    if not _tgtd_answers():
        if os.geteuid() != 0:
            pytest.skip("tgtd is not running and only root can start it")
        subprocess.run(["tgtd"], capture_output=True, timeout=30, check=False)
        deadline = time.monotonic() + 15
        while not _tgtd_answers():
            if time.monotonic() > deadline:
                pytest.skip("started tgtd but tgtadm still cannot reach it")
            time.sleep(0.2)
    yield
    show = subprocess.run(["tgtadm", "--lld", "iscsi", "--mode", "target", "--op", "show"],
                          capture_output=True, text=True, check=False).stdout
    leftovers = [iqn for iqn in parse_show(show) if iqn.startswith(SESSION_PREFIX)]
    assert not leftovers, f"targets left behind: {leftovers}"


@pytest.fixture(scope="session")
def qemu_iscsi():
    """qemu-img and qemu-io with the libiscsi block driver (qemu-block-extra)."""
    formats = subprocess.run(["qemu-img", "--help"], capture_output=True, text=True,
                             check=False).stdout
    if "iscsi" not in formats:
        pytest.skip("QEMU has no iSCSI driver: apt-get install qemu-block-extra")


@pytest.fixture
def workdir():
    """A private directory (removed afterwards)."""
    path = tempfile.mkdtemp(prefix="stratus-volume-func-")
    yield Path(path)
    if os.environ.get("STRATUS_TEST_KEEP"):
        return
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def backend(workdir):
    return backend_conf(file_path=str(workdir / "volumes"), target_prefix=SESSION_PREFIX,
                        target_ip_address="127.0.0.1")


@pytest.fixture
def driver(backend):
    drv = FileDriver(backend)
    drv.check_setup()
    return drv


def remove_targets_under(directory: str) -> None:
    """Remove every target of this session whose LUN is a file under directory (what a
    failed test or a killed agent left), and its CHAP account."""
    helper = TgtHelper(backend_conf(target_prefix=SESSION_PREFIX))
    for export in helper.list_exports():
        if export.path is None or export.path.startswith(str(directory)):
            helper.remove_export(export.volume_id)


@pytest.fixture
def targets(backend, tgtd, workdir):
    """The tgt helper; every export under the test's directory is removed afterwards."""
    yield TgtHelper(backend)
    remove_targets_under(str(workdir))


@pytest.fixture
def chap(workdir):
    return ChapKeys(str(workdir / "chap.key"))


@pytest.fixture(scope="session")
def guest_image() -> Path:
    if not os.path.isfile(GUEST_IMAGE):
        pytest.skip(f"no guest image at {GUEST_IMAGE} (tools/build-guest-image.sh)")
    return Path(GUEST_IMAGE)


@pytest.fixture(scope="session")
def guest_image_record(guest_image) -> dict:
    """The guest image as the image service would describe it."""
    data = guest_image.read_bytes()
    return {"id": str(uuid.uuid4()), "disk_format": "qcow2", "os_hash_algo": "sha512",
            "os_hash_value": hashlib.sha512(data).hexdigest(), "size": len(data)}


@pytest.fixture(scope="session")
def fetch_guest_image(guest_image):
    """A stand-in for the image API: streams the guest image in 1 MiB chunks (any id)."""
    def fetch(image_id: str):
        with open(guest_image, "rb") as source:
            while chunk := source.read(1 << 20):
                yield chunk
    return fetch


def iscsi_url(info: dict, password: str | None = None, user: str | None = None) -> str:
    """The QEMU URL of a connection_info's LUN (CHAP in the userinfo)."""
    data = info["data"]
    auth = ""
    if data.get("auth_method") == "CHAP":
        auth = f"{user or data['auth_username']}%{password or data['auth_password']}@"
    return f"iscsi://{auth}{data['target_portal']}/{data['target_iqn']}/{data['target_lun']}"


def qemu(argv: list[str], check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{argv[:2]} failed ({result.returncode}): {result.stderr}")
    return result
