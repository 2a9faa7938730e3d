"""Image <-> volume copies: download and verify an image, upload a volume as an image.

The image service is reached through two callables, so this module neither knows HTTP
nor which client the daemon wires in (``common.clients.image``):
``fetch(image_id) -> Iterable[bytes]`` and ``upload(image_id, Iterable[bytes])``.

A download lands in ``<conversion dir>/<volume-id>.image`` (named after its owner; the
directory is emptied at agent start-up) and is only handed to qemu-img after its hash
matched what the image service recorded and probing showed it is the declared format
with no backing or data file: an image declared raw that is really qcow2 could name any
host file as its backing file and expose it in the volume.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from agents.volume import driver, names
from agents.volume.exception import Cancelled, ImageError, ImageUnacceptable, VolumeAgentError
from common import processutils

LOG = logging.getLogger(__name__)
Fetch = Callable[[str], Iterable[bytes]]
Upload = Callable[[str, Iterable[bytes]], Any]
CHUNK = 4 << 20
# Glance disk_format -> the qemu-img format name.
FORMATS = {"raw": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vdi": "vdi", "vhd": "vpc",
           "vhdx": "vhdx"}
UPLOAD_FORMATS = ("raw", "qcow2")


def qemu_format(image: dict[str, Any]) -> str:
    """The qemu-img format of an image record.

    :raises ImageUnacceptable: a disk_format a volume cannot be made from.
    """
    disk_format = image.get("disk_format")
    if disk_format not in FORMATS:
        raise ImageUnacceptable(f"a volume cannot be created from a {disk_format!r} image; "
                                f"use one of {', '.join(sorted(FORMATS))}")
    return FORMATS[disk_format]


def download(fetch: Fetch, image: dict[str, Any], dest: str, *,
             cancel: threading.Event | None = None, timeout: float = 3600,
             execute: driver.Execute = processutils.execute) -> str:
    """Stream image into dest, verify it, and return its qemu-img format.

    dest is removed on any failure.

    :raises ImageError: the fetch failed or took longer than timeout.
    :raises ImageUnacceptable: size, hash or format differ from the record, or the data
        refers to other files.
    :raises Cancelled: cancel was set meanwhile.
    """
    image_id = names.canonical_uuid(image.get("id"), "image id")
    fmt = qemu_format(image)
    algo, expected = image.get("os_hash_algo"), image.get("os_hash_value")
    if expected and algo not in hashlib.algorithms_available:
        raise ImageUnacceptable(f"image {image_id} is hashed with unknown algorithm {algo!r}")
    hasher = hashlib.new(algo) if expected else None
    deadline = time.monotonic() + timeout
    written = 0
    try:
        with open(dest, "wb") as out:
            for chunk in fetch(image_id):
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"download of image {image_id} abandoned: the volume "
                                    "is being deleted")
                if time.monotonic() > deadline:
                    raise ImageError(f"download of image {image_id} took longer than "
                                     f"{timeout:.0f} s; abandoned")
                out.write(chunk)
                written += len(chunk)
                if hasher:
                    hasher.update(chunk)
            out.flush()
            os.fsync(out.fileno())
        _verify(image, image_id, written, hasher, expected)
        _inspect(execute, image_id, dest, fmt)
    except VolumeAgentError:
        _unlink_quietly(dest)
        raise
    except Exception as exc:  # the fetcher's own errors (HTTP, IO...)
        _unlink_quietly(dest)
        raise ImageError(f"could not download image {image_id}: {exc}") from exc
    if not expected:
        LOG.warning("image %s has no hash recorded; its data was not verified", image_id)
    LOG.info("downloaded image %s (%d bytes, %s)", image_id, written, fmt)
    return fmt


def upload_volume(upload: Upload, image: dict[str, Any], source: str, open_source,
                  workdir: str, *, timeout: float = 3600,
                  execute: driver.Execute = processutils.execute) -> None:
    """Upload a volume's data as image["id"] in image["disk_format"] (raw or qcow2).

    source is the volume's raw path (for qemu-img); open_source() opens its data.

    :raises ImageUnacceptable: a disk format volumes cannot be uploaded as.
    :raises ImageError: conversion or upload failed.
    """
    image_id = names.canonical_uuid(image.get("id"), "image id")
    disk_format = image.get("disk_format", "raw")
    if disk_format not in UPLOAD_FORMATS:
        raise ImageUnacceptable(f"a volume can be uploaded as {' or '.join(UPLOAD_FORMATS)}, "
                                f"not {disk_format!r}")
    try:
        if disk_format == "raw":
            with open_source() as data:
                upload(image_id, _chunks(data))
        else:
            tmp = os.path.join(workdir, f"{image_id}.upload")
            try:
                os.makedirs(workdir, mode=0o700, exist_ok=True)
                execute(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", source, tmp],
                        timeout=timeout)
                with open(tmp, "rb") as data:
                    upload(image_id, _chunks(data))
            finally:
                _unlink_quietly(tmp)
    except VolumeAgentError:
        raise
    except processutils.ProcessExecutionError as exc:
        raise ImageError(f"could not convert the volume to qcow2: "
                         f"{exc.stderr.strip()[:300]}") from exc
    except Exception as exc:  # the uploader's own errors (HTTP, IO...)
        raise ImageError(f"could not upload image {image_id}: {exc}") from exc
    LOG.info("uploaded the volume at %s as image %s (%s)", source, image_id, disk_format)


@contextlib.contextmanager
def scratch_file(workdir: str, name: str) -> Iterator[str]:
    """A path in workdir that is removed when the block exits."""
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    path = os.path.join(workdir, name)
    try:
        yield path
    finally:
        _unlink_quietly(path)


def _chunks(data) -> Iterator[bytes]:
    while chunk := data.read(CHUNK):
        yield chunk


def _verify(image: dict[str, Any], image_id: str, written: int, hasher, expected) -> None:
    size = image.get("size")
    if isinstance(size, int) and size != written:
        raise ImageUnacceptable(f"image {image_id}: got {written} bytes, the image service "
                                f"recorded {size}; the download was cut short or the data "
                                "changed")
    if hasher is not None and hasher.hexdigest() != str(expected).lower():
        raise ImageUnacceptable(f"image {image_id}: {image.get('os_hash_algo')} of the "
                                f"downloaded data is {hasher.hexdigest()}, the image service "
                                f"recorded {expected}; the image data is corrupt")


def _inspect(execute: driver.Execute, image_id: str, path: str, fmt: str) -> None:
    # Probing is deliberate here, on our private copy (see the module docstring).
    info = driver.image_info(execute, path)
    if info.get("format") != fmt:
        raise ImageUnacceptable(f"image {image_id} is declared {fmt} but its data is "
                                f"{info.get('format')}; fix its disk_format")
    data_file = info.get("format-specific", {}).get("data", {}).get("data-file")
    if info.get("backing-filename") or data_file:
        raise ImageUnacceptable(f"image {image_id} refers to another file; upload a "
                                "self-contained image (qemu-img convert)")


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
