"""Names to hashes and partitions: the one place the hash layout is defined."""

from __future__ import annotations

import hashlib
import struct


def hash_path(account: str, container: str | None = None, obj: str | None = None, *,
              prefix: str = "", suffix: str = "") -> str:
    """The hex MD5 that places an account, container or object.

    prefix and suffix are the cluster's secret salt ([ring] hash_path_prefix/suffix):
    without them anyone could aim names at one partition. They must never change
    once data exists.
    """
    if obj is not None and container is None:
        raise ValueError("an object needs a container")
    parts = [account] if container is None else [account, container]
    if obj is not None:
        parts.append(obj)
    path = "/" + "/".join(parts)
    return hashlib.md5((prefix + path + suffix).encode("utf-8"),
                       usedforsecurity=False).hexdigest()


def partition_of(hex_hash: str, part_shift: int) -> int:
    """The partition of a hash: its top part_power bits."""
    return struct.unpack_from(">I", bytes.fromhex(hex_hash[:8]))[0] >> part_shift
