"""Per-partition suffix hashes: how replicators find what differs without a full walk.

A partition directory holds suffix directories (last 3 hex digits of the name hash),
each holding hash directories of objects. The hash of a suffix is the MD5 of its
hash directories' file names (which carry the timestamps), so two replicas with the
same files have the same hash. Writers only append the suffix to ``hashes.invalid``
(cheap); ``get_hashes`` folds those in, recomputes them and caches the result in
``hashes.json`` (JSON, never pickle).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator

from agents.objectstore import filenames

HASHES = "hashes.json"
INVALID = "hashes.invalid"
LOCK = ".lock"


@contextlib.contextmanager
def locked(part_dir: str) -> Iterator[None]:
    """An exclusive lock on a partition (writers and the replicator take it)."""
    fd = os.open(os.path.join(part_dir, LOCK), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def invalidate(part_dir: str, suffix: str) -> None:
    """Note that suffix changed (called after every write into it)."""
    with locked(part_dir):
        with open(os.path.join(part_dir, INVALID), "a") as handle:
            handle.write(suffix + "\n")


def hash_suffix(suffix_dir: str, reclaim_age: float, now: float | None = None) -> str | None:
    """Clean up the suffix's hash directories and hash what is left (None if empty)."""
    now = time.time() if now is None else now
    md5 = hashlib.md5(usedforsecurity=False)
    try:
        hash_dirs = sorted(os.listdir(suffix_dir))
    except FileNotFoundError:
        return None
    kept_any = False
    for name in hash_dirs:
        hash_dir = os.path.join(suffix_dir, name)
        remaining = filenames.cleanup(hash_dir, reclaim_age, now)
        if remaining:
            kept_any = True
            md5.update(name.encode() + b":" + ",".join(remaining).encode() + b";")
    if not kept_any:
        with contextlib.suppress(OSError):
            os.rmdir(suffix_dir)
        return None
    return md5.hexdigest()


def _read_json(path: str) -> dict[str, str | None] | None:
    try:
        with open(path) as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def get_hashes(part_dir: str, recalc: Iterable[str] = (), reclaim_age: float = 604800,
               ) -> dict[str, str]:
    """{suffix: hash} of a partition, recomputing invalidated and requested suffixes."""
    if not os.path.isdir(part_dir):
        return {}
    with locked(part_dir):
        cached = _read_json(os.path.join(part_dir, HASHES))
        suffixes = sorted(s for s in os.listdir(part_dir) if filenames.is_suffix(s))
        if cached is None:
            hashes: dict[str, str | None] = {s: None for s in suffixes}
        else:
            hashes = {s: cached.get(s) for s in suffixes}
        invalid_path = os.path.join(part_dir, INVALID)
        try:
            with open(invalid_path) as handle:
                for line in handle:
                    if filenames.is_suffix(line.strip()):
                        hashes[line.strip()] = None
        except FileNotFoundError:
            pass
        for suffix in recalc:
            if filenames.is_suffix(suffix):
                hashes[suffix] = None
        now = time.time()
        for suffix, value in list(hashes.items()):
            if value is None:
                hashes[suffix] = hash_suffix(os.path.join(part_dir, suffix), reclaim_age, now)
        result = {s: h for s, h in hashes.items() if h is not None}
        tmp = os.path.join(part_dir, HASHES + ".tmp")
        with open(tmp, "w") as handle:
            json.dump(result, handle)
        os.replace(tmp, os.path.join(part_dir, HASHES))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(invalid_path)
        return result
