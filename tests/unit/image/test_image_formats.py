"""Virtual sizes read from image headers."""

from __future__ import annotations

import struct

from controller.image import formats


def _qcow2(version: int, size: int) -> bytes:
    return b"QFI\xfb" + struct.pack(">I", version) + bytes(16) + struct.pack(">Q", size)


def test_qcow2_header():
    assert formats.virtual_size("qcow2", _qcow2(3, 1 << 30), 512) == 1 << 30
    assert formats.virtual_size("qcow2", _qcow2(9, 1 << 30), 512) is None
    assert formats.virtual_size("qcow2", b"not a qcow2 header at all......", 512) is None
    assert formats.virtual_size("qcow2", b"QFI", 3) is None


def test_raw_is_its_own_size():
    assert formats.virtual_size("raw", b"", 4096) == 4096
    assert formats.virtual_size("vmdk", b"", 4096) is None
