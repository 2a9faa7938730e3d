"""Where an instance's files live on this host: ``<instances_path>/<uuid>/...``.

One directory per instance, named after it, so a start-up sweep finds the files of
deleted instances (STYLE item 9) and a delete removes one tree.
"""

from __future__ import annotations

import dataclasses
import os

from agents.compute.exception import InvalidInput
from agents.compute.model import canonical_uuid

DOMAIN_PREFIX = "instance-"
# 0711: QEMU runs as its own user and must reach the disks by path, but must not
# list other instances' directories.
DIR_MODE = 0o711


def domain_name(instance_uuid: str) -> str:
    """The libvirt domain name of an instance."""
    return DOMAIN_PREFIX + canonical_uuid(instance_uuid)


def uuid_from_domain_name(name: str) -> str | None:
    """The instance uuid in a domain name, or None for domains that are not ours."""
    if not name.startswith(DOMAIN_PREFIX):
        return None
    rest = name[len(DOMAIN_PREFIX):]
    try:
        uuid = canonical_uuid(rest)
    except InvalidInput:  # a foreign domain that happens to share the prefix
        return None
    # Only the canonical spelling is ours: domain_name() never writes another.
    return uuid if uuid == rest else None


@dataclasses.dataclass(frozen=True)
class InstancePaths:
    """The files of one instance."""

    instances_path: str
    uuid: str

    @property
    def directory(self) -> str:
        return os.path.join(self.instances_path, canonical_uuid(self.uuid))

    @property
    def disk(self) -> str:
        """Root disk: a qcow2 overlay on the cached base image."""
        return os.path.join(self.directory, "disk")

    @property
    def config_drive(self) -> str:
        return os.path.join(self.directory, "disk.config")

    @property
    def resize_copy(self) -> str:
        """The root disk as it was before a resize, kept until confirmed or reverted."""
        return os.path.join(self.directory, "disk.resize-orig")

    @property
    def resize_record(self) -> str:
        """What a revert restores besides the disk: power state and old flavor (JSON)."""
        return os.path.join(self.directory, "resize.json")

    @property
    def console_log(self) -> str:
        """Everything the guest wrote to its serial port (written by virtlogd)."""
        return os.path.join(self.directory, "console.log")

    def ensure_directory(self) -> str:
        os.makedirs(self.instances_path, mode=0o755, exist_ok=True)
        os.makedirs(self.directory, mode=DIR_MODE, exist_ok=True)
        os.chmod(self.directory, DIR_MODE)  # makedirs' mode is filtered by the umask
        return self.directory


def snapshot_dir(instances_path: str) -> str:
    """Where snapshots are flattened before their upload (files named after the uuid)."""
    return os.path.join(instances_path, "snapshots")


def list_instance_dirs(instances_path: str) -> list[str]:
    """uuids of the instance directories present under instances_path."""
    try:
        names = os.listdir(instances_path)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        try:
            if canonical_uuid(name) == name and os.path.isdir(
                    os.path.join(instances_path, name)):
                found.append(name)
        except InvalidInput:  # not a uuid: _base, lost+found, an operator's file
            continue
    return sorted(found)
