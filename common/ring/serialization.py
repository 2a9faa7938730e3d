"""Files: builder state as JSON (never pickle) and the compact ring file nodes read.

The ring file is gzip(MAGIC + 4-byte header length + JSON header + one little-endian
uint16 array of device ids per replica). The arrays are the bulk (2 bytes per
partition per replica) and load with one ``frombytes`` each.
"""

from __future__ import annotations

import array
import dataclasses
import gzip
import json
import os
import struct
import sys
import tempfile
from typing import Any

MAGIC = b"STRATUS-RING\n"
FORMAT_VERSION = 1
NONE_DEV = 0xFFFF  # an unassigned slot in replica2part2dev


class RingFileError(ValueError):
    """A ring or builder file is missing, truncated or not ours."""


@dataclasses.dataclass
class RingData:
    """What a ring file holds: the placement table and the devices it points at."""

    part_power: int
    replicas: int
    devs: list[dict[str, Any] | None]
    replica2part2dev: list[array.array]
    version: int = 0

    @property
    def partition_count(self) -> int:
        return 1 << self.part_power


def _atomic_write(path: str, data: bytes) -> None:
    """Write then rename, so readers never see half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _le_bytes(values: array.array) -> bytes:
    if sys.byteorder == "little":
        return values.tobytes()
    swapped = array.array("H", values)
    swapped.byteswap()
    return swapped.tobytes()


def write_ring(path: str, ring: RingData) -> None:
    """Serialize ring to path atomically."""
    header = json.dumps({
        "format": FORMAT_VERSION,
        "part_power": ring.part_power,
        "replicas": ring.replicas,
        "version": ring.version,
        "devs": ring.devs,
    }, sort_keys=True).encode()
    payload = [MAGIC, struct.pack(">I", len(header)), header]
    payload += [_le_bytes(row) for row in ring.replica2part2dev]
    # mtime=0 keeps the file byte-identical for the same ring (easy to compare)
    _atomic_write(path, gzip.compress(b"".join(payload), compresslevel=6, mtime=0))


def read_ring(path: str) -> RingData:
    """Load a ring file.

    :raises RingFileError: the file is not a complete Stratus ring.
    :raises OSError: the file cannot be read.
    """
    with open(path, "rb") as handle:
        try:
            raw = gzip.decompress(handle.read())
        except (OSError, EOFError) as exc:
            raise RingFileError(f"{path} is not a gzip ring file: {exc}") from exc
    if not raw.startswith(MAGIC):
        raise RingFileError(f"{path} is not a Stratus ring file")
    offset = len(MAGIC)
    (header_len,) = struct.unpack_from(">I", raw, offset)
    offset += 4
    header = json.loads(raw[offset:offset + header_len])
    offset += header_len
    if header.get("format") != FORMAT_VERSION:
        raise RingFileError(f"{path} has unknown format {header.get('format')}")
    parts = 1 << header["part_power"]
    rows = []
    for _ in range(header["replicas"]):
        row = array.array("H")
        chunk = raw[offset:offset + 2 * parts]
        if len(chunk) != 2 * parts:
            raise RingFileError(f"{path} is truncated")
        row.frombytes(chunk)
        if sys.byteorder != "little":
            row.byteswap()
        rows.append(row)
        offset += 2 * parts
    return RingData(header["part_power"], header["replicas"], header["devs"], rows,
                    header.get("version", 0))


def write_builder(path: str, state: dict[str, Any]) -> None:
    """Save builder state (plain JSON types only) atomically."""
    _atomic_write(path, json.dumps(state, separators=(",", ":")).encode())


def read_builder(path: str) -> dict[str, Any]:
    """Load builder state.

    :raises RingFileError: the file is not builder JSON.
    :raises OSError: the file cannot be read.
    """
    with open(path, "rb") as handle:
        try:
            state = json.loads(handle.read())
        except ValueError as exc:
            raise RingFileError(f"{path} is not a JSON ring builder: {exc}") from exc
    if not isinstance(state, dict) or state.get("kind") != "stratus-ring-builder":
        raise RingFileError(f"{path} is not a Stratus ring builder")
    return state
