"""What the first bytes of an image say about it: the virtual disk size Nova needs."""

from __future__ import annotations

import struct

HEAD_BYTES = 512  # enough for every header read here
_QCOW2_MAGIC = b"QFI\xfb"


def virtual_size(disk_format: str | None, head: bytes, size: int) -> int | None:
    """The guest-visible disk size, when the format tells it cheaply; None otherwise.

    Glance inspects formats the same way; the data is never trusted beyond the header
    fields read here, and a header that does not parse simply yields None.
    """
    if disk_format in ("raw", "iso"):
        return size
    if disk_format == "qcow2" and len(head) >= 32 and head[:4] == _QCOW2_MAGIC:
        (version,) = struct.unpack(">I", head[4:8])
        if version in (2, 3):
            (value,) = struct.unpack(">Q", head[24:32])
            return value
    return None
