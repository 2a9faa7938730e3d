"""Fixtures for the compute agent's functional tests: a real libvirtd, a guest image, and
a LibvirtDriver over a private instances directory.

libvirtd is started when ``virsh -c qemu:///system version`` fails (there is no
systemd here: ``virtlogd -d`` then ``libvirtd -d``) and left running afterwards, as
other sessions may use it too. Every test skips with the reason when libvirt cannot
be reached or libvirt-python is missing.
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

from agents.compute import conf as compute_conf
from agents.compute.model import ImageRef

REPO = Path(__file__).resolve().parents[3]
URI = os.environ.get("STRATUS_TEST_LIBVIRT_URI", "qemu:///system")
VIRT_TYPE = os.environ.get("STRATUS_TEST_VIRT_TYPE", "qemu")  # TCG: KVM hangs on PVM hosts
IMAGE_ID = "5e0a3c1e-7f6b-4c1d-9a2b-3c4d5e6f7a8b"


def _libvirt_answers() -> bool:
    result = subprocess.run(["virsh", "-c", URI, "version"], capture_output=True, timeout=30,
                            check=False)
    return result.returncode == 0


@pytest.fixture(scope="session")
def libvirt_uri() -> str:
    """qemu:///system, with libvirtd started if needed; skips when that is impossible."""
    try:
        import libvirt  # noqa: F401
    except ImportError:
        pytest.skip("libvirt-python is not installed: /opt/stratus-dev/bin/pip install "
                    "libvirt-python (builds against apt libvirt-dev + pkg-config)")
    if shutil.which("virsh") is None:
        pytest.skip("libvirt is not installed: apt-get install libvirt-daemon-system "
                    "libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86")
    if _libvirt_answers():
        return URI
    if os.geteuid() != 0 or URI != "qemu:///system":
        pytest.skip(f"libvirt at {URI} does not answer (libvirtd is started automatically "
                    "only for qemu:///system, as root)")
    for daemon in ("virtlogd", "libvirtd"):
        binary = shutil.which(daemon) or f"/usr/sbin/{daemon}"
        if not os.path.exists(binary):
            pytest.skip(f"{daemon} not installed (apt-get install libvirt-daemon-system)")
        # -d: daemonize. virtlogd first: libvirtd hands it the guests' console logs.
        subprocess.run([binary, "-d"], capture_output=True, timeout=30, check=False)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _libvirt_answers():
            return URI
        time.sleep(0.5)
    pytest.skip(f"started virtlogd and libvirtd but {URI} still does not answer")


@pytest.fixture(scope="session")
def guest_image(tmp_path_factory) -> Path:
    """The Stratus tiny guest (tools/build-guest-image.sh), or $STRATUS_GUEST_IMAGE."""
    prebuilt = os.environ.get("STRATUS_GUEST_IMAGE")
    if prebuilt:
        if not os.path.isfile(prebuilt):
            pytest.fail(f"STRATUS_GUEST_IMAGE={prebuilt} does not exist")
        return Path(prebuilt)
    if os.geteuid() != 0:
        pytest.skip("building the guest image needs root; set STRATUS_GUEST_IMAGE instead")
    out = tmp_path_factory.mktemp("guest-image") / "base.qcow2"
    result = subprocess.run(["bash", str(REPO / "tools" / "build-guest-image.sh"), str(out)],
                            capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, f"build-guest-image.sh failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.fixture(scope="module")
def instances_path():
    """A private instances directory QEMU's own user can traverse.

    Not under pytest's tmp_path: /tmp/pytest-of-root is 0700, and QEMU (running as
    libvirt-qemu) must reach the disks and the base image by path.
    """
    parent = tempfile.mkdtemp(prefix="stratus-compute-func-")
    os.chmod(parent, 0o755)
    yield os.path.join(parent, "instances")
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="module")
def image(guest_image) -> ImageRef:
    data = guest_image.read_bytes()
    return ImageRef(IMAGE_ID, disk_format="qcow2", os_hash_algo="sha512",
                    os_hash_value=hashlib.sha512(data).hexdigest())


@pytest.fixture(scope="module")
def fetch(guest_image):
    """A stand-in for the image API: streams the guest image in 1 MiB chunks (any id)."""
    def _fetch(image_id: str):
        with open(guest_image, "rb") as source:
            while chunk := source.read(1 << 20):
                yield chunk
    return _fetch


@pytest.fixture(scope="module")
def agent_host() -> str:
    """This module's agent name: it owns only the domains it tags with it, so the
    running cloud's and other tests' guests on the same libvirtd are never touched."""
    return f"func-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def compute_config(libvirt_uri, instances_path, agent_host):
    return compute_conf.make(overrides={
        "instances_path": instances_path, "virt_type": VIRT_TYPE, "libvirt_uri": libvirt_uri,
        "shutdown_timeout": 30, "shutdown_retry_interval": 5,
        "serial_port_range": "20000:29999"}, default_overrides={"host": agent_host})
