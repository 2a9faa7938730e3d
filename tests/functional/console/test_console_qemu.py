"""The noVNC websocket against a real QEMU guest's VNC server (TCG, no libvirt needed).

Run under the shared VM lock: ``flock /tmp/stratus-vm.lock pytest ...``.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time

import pytest
import websocket

from tests.functional.console.conftest import make_token

GUEST_IMAGE = os.environ.get("STRATUS_GUEST_IMAGE", "/var/lib/stratus/guest/stratus-tiny.qcow2")
QEMU = shutil.which("qemu-system-x86_64")


def _free_vnc_display() -> int:
    """A VNC display number whose port (5900 + display) is free, far from 6080/6083."""
    for _ in range(50):
        display = random.randint(20000, 30000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", 5900 + display))
                return display
            except OSError:
                continue
    raise RuntimeError("no free VNC port")


@pytest.fixture(scope="module")
def qemu_vnc_port():
    if QEMU is None or not os.path.exists(GUEST_IMAGE):
        pytest.skip("qemu-system-x86_64 or the guest image is missing")
    display = _free_vnc_display()
    # -snapshot: the shared guest image is never written.
    guest = subprocess.Popen(
        [QEMU, "-name", f"stratus-console-test-{display}", "-machine", "pc", "-accel", "tcg",
         "-m", "128", "-nodefaults", "-vga", "std", "-display", "none",
         "-vnc", f"127.0.0.1:{display}", "-snapshot",
         "-drive", f"file={GUEST_IMAGE},format=qcow2,if=virtio"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert guest.poll() is None, guest.stderr.read().decode()
            try:
                socket.create_connection(("127.0.0.1", 5900 + display), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "QEMU's VNC server never listened"
                time.sleep(0.2)
        yield 5900 + display
    finally:
        guest.kill()
        guest.wait(15)


def test_rfb_handshake_with_a_real_qemu_guest(proxy, db, instance_uuid, qemu_vnc_port):
    token = make_token(db, instance_uuid, qemu_vnc_port)
    ws = websocket.create_connection(f"ws://127.0.0.1:{proxy['ports']['novnc']}/?token={token}",
                                     timeout=20, subprotocols=["binary"])
    try:
        assert ws.recv() == b"RFB 003.008\n"
        ws.send_binary(b"RFB 003.008\n")
        security = ws.recv()
        # RFB 3.8: the number of security types, then the types; QEMU without a
        # password offers 1 = None.
        assert security[0] >= 1 and 1 in security[1:1 + security[0]]
    finally:
        ws.close()
