"""Deferred container updates: JSON records the updater drains (never pickle).

When an object server cannot tell a container server about a write, it saves the
update under ``<device>/async_pending/<suffix>/<hash>-<timestamp>.json``; the updater
retries until every container replica has it. A newer record for the same object
supersedes older ones (the container keeps only the newest row anyway).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from typing import Any

DIR = "async_pending"


def save(dev_path: str, name_hash: str, record: dict[str, Any], fsync: bool = True) -> str:
    """Durably store one update record; return its path."""
    directory = os.path.join(dev_path, DIR, name_hash[-3:])
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{name_hash}-{record['headers']['X-Timestamp']}.json")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def update(path: str, record: dict[str, Any]) -> None:
    """Rewrite a record (e.g. to remember which replicas already have it)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(record, handle)
    os.replace(tmp, path)


def iter_records(dev_path: str) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(path, record) of every pending update, oldest first per object; record is
    None for a file that is unreadable (the caller removes it)."""
    root = os.path.join(dev_path, DIR)
    try:
        suffixes = sorted(os.listdir(root))
    except FileNotFoundError:
        return
    for suffix in suffixes:
        directory = os.path.join(root, suffix)
        try:
            names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
        except (FileNotFoundError, NotADirectoryError):
            continue
        newest: dict[str, str] = {}
        for name in names:
            newest[name.split("-", 1)[0]] = name  # sorted: the last one is the newest
        for name in names:
            path = os.path.join(directory, name)
            if newest[name.split("-", 1)[0]] != name:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)  # superseded by a newer update of the same object
                continue
            try:
                with open(path) as handle:
                    yield path, json.load(handle)
            except (OSError, ValueError):
                yield path, None
        with contextlib.suppress(OSError):
            os.rmdir(directory)  # only succeeds when empty
