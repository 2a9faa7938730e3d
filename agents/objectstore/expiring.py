"""The per-device queue of objects with an X-Delete-At.

Each entry is a small JSON file ``<device>/expiring/<hour>/<delete_at>-<hash>.json``
written when an object gets an X-Delete-At. Every node expires its own replicas,
so there is no hidden account to coordinate, and the tombstone it writes carries
the X-Delete-At time as its timestamp: all replicas produce the same tombstone.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

DIR = "expiring"


def add(dev_path: str, delete_at: int, partition: int, name_hash: str, name: str) -> None:
    """Queue an object for deletion at delete_at (idempotent)."""
    directory = os.path.join(dev_path, DIR, str(delete_at // 3600))
    path = os.path.join(directory, f"{delete_at:010d}-{name_hash}.json")
    if os.path.exists(path):
        return
    os.makedirs(directory, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump({"delete_at": delete_at, "partition": partition, "hash": name_hash,
                   "name": name}, handle)
    os.replace(tmp, path)


def due(dev_path: str, now: float) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, entry) of every queued deletion at or before now."""
    root = os.path.join(dev_path, DIR)
    try:
        hours = sorted(int(h) for h in os.listdir(root) if h.isdecimal())
    except FileNotFoundError:
        return
    for hour in hours:
        if hour * 3600 > now:
            break
        directory = os.path.join(root, str(hour))
        for name in sorted(os.listdir(directory)):
            if not name.endswith(".json"):
                continue
            if int(name.split("-", 1)[0]) > now:
                break
            path = os.path.join(directory, name)
            try:
                with open(path) as handle:
                    yield path, json.load(handle)
            except (OSError, ValueError):
                remove(path)
        with contextlib.suppress(OSError):
            os.rmdir(directory)


def remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
