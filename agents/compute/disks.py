"""Root disk operations behind snapshot and resize: flatten, copy, and the resize record.

Every command runs through ``common.processutils.execute`` with paths the agent built
itself (``paths.InstancePaths``); failures become :class:`DiskError` here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterator

from agents.compute.exception import DiskError, ResizeError
from common import processutils

Execute = Callable[..., str]
CHUNK_SIZE = 1 << 20


def run(execute: Execute, argv: list[str], what: str) -> str:
    """execute(argv), its failure translated.

    :raises DiskError: the command failed; the message says what could not be done.
    """
    try:
        return execute(argv)
    except processutils.ProcessExecutionError as exc:
        raise DiskError(f"could not {what}: {exc}") from exc


def flatten(execute: Execute, source: str, dest: str) -> None:
    """Write dest as a standalone qcow2 of source and its backing chain.

    ``-U`` (force share) lets qemu-img read a disk a paused QEMU still holds open:
    pausing flushed QEMU's caches to the file, so what it reads is consistent.

    :raises DiskError: qemu-img failed (dest is then removed).
    """
    try:
        run(execute, ["qemu-img", "convert", "-U", "-q", "-f", "qcow2", "-O", "qcow2",
                      source, dest], f"copy {source} for the snapshot")
    except DiskError:
        unlink_quietly(dest)
        raise


def copy(execute: Execute, source: str, dest: str) -> None:
    """Copy source to dest atomically (dest appears only complete), keeping holes.

    :raises DiskError: the copy failed.
    """
    tmp = dest + ".part"
    try:
        run(execute, ["cp", "--sparse=always", "--reflink=auto", source, tmp],
            f"copy {source}")
        os.replace(tmp, dest)
    finally:
        unlink_quietly(tmp)


def read_chunks(path: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The file at path as a stream of chunks."""
    with open(path, "rb") as source:
        while chunk := source.read(chunk_size):
            yield chunk


def remove_stale(directory: str, max_age: float, now: float | None = None) -> list[str]:
    """Delete the files in directory last written more than max_age seconds ago
    (leftovers of snapshots an agent crash interrupted); return their names."""
    now = time.time() if now is None else now
    removed = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return removed
    for name in names:
        path = os.path.join(directory, name)
        with contextlib.suppress(FileNotFoundError):
            if os.path.isfile(path) and now - os.stat(path).st_mtime > max_age:
                os.unlink(path)
                removed.append(name)
    return removed


def unlink_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


@dataclasses.dataclass(frozen=True)
class ResizeRecord:
    """What a revert restores besides the disk copy; present only while one is pending.

    Written after the copy is complete, so its presence means the copy is usable.
    """

    was_running: bool
    old_flavor: dict[str, object] | None = None

    def save(self, path: str) -> None:
        """Write the record atomically.

        :raises ResizeError: it could not be written.
        """
        tmp = path + ".part"
        try:
            with open(tmp, "w") as out:
                json.dump(dataclasses.asdict(self), out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            unlink_quietly(tmp)
            raise ResizeError(f"could not record the resize in {path}: {exc}") from exc

    @classmethod
    def load(cls, path: str) -> ResizeRecord | None:
        """The record at path, or None when no resize is pending.

        :raises ResizeError: the record is unreadable.
        """
        try:
            with open(path) as source:
                data = json.load(source)
            return cls(was_running=bool(data["was_running"]),
                       old_flavor=data.get("old_flavor"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ResizeError(f"the resize record {path} is unreadable ({exc}); confirm "
                              "the resize or restore the file") from exc
