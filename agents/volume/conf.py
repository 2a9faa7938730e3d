"""[volume], [backup] and per-backend sections: options of the volume agent.

One agent process per host serves every backend named in ``[volume] enabled_backends``
(as ``<host>@<backend>``). A backend's own section ``[<backend>]`` may override any of
the backend options; an option it leaves unset falls back to ``[volume]``, so a
single-backend host configures everything in ``[volume]``.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

from oslo_config import cfg

import common.conf
from common.rpc import volume as volume_rpc

GROUP = "volume"
BACKUP_GROUP = "backup"
_BACKEND_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Section names a backend may not take: they hold other options.
_RESERVED = {"DEFAULT", "volume", "backup", "logging", "messaging", "service", "conductor",
             "compute_rpc", "volume_rpc", "service_auth"}

BACKEND_OPTS = [
    cfg.StrOpt("volume_driver", default="file", choices=[
                   ("file", "sparse raw files in file_path (works everywhere)"),
                   ("lvm", "thin logical volumes in volume_group (needs device-mapper)")],
               help="Where the backend keeps volume data."),
    cfg.StrOpt("volume_backend_name", default=None,
               help="Name the volume types' volume_backend_name extra spec selects; "
                    "unset: the backend's section name."),
    cfg.StrOpt("file_path", default="/var/lib/stratus/volumes",
               help="file driver: directory of the volume-<uuid> and snapshot-<uuid> "
                    "files. Give each backend its own directory."),
    cfg.StrOpt("volume_group", default="stratus-volumes",
               help="lvm driver: the LVM volume group holding the thin pool."),
    cfg.StrOpt("lvm_thin_pool", default="stratus-pool",
               help="lvm driver: thin pool LV in volume_group; created from the group's "
                    "free space at start-up when missing."),
    cfg.IntOpt("lvm_thin_pool_percent", default=95, min=1, max=100,
               help="lvm driver: share (percent) of the group's free space a thin pool "
                    "created at start-up takes; the rest leaves room for its metadata."),
    cfg.StrOpt("target_helper", default="tgt", choices=[
                   ("tgt", "user-space tgtd driven by tgtadm"),
                   ("lio", "the kernel LIO target through rtslib-fb (needs configfs)")],
               help="iSCSI target implementation exporting the volumes."),
    cfg.StrOpt("target_ip_address", default=None, sample_default="<primary address>",
               help="Address the compute hosts reach the iSCSI portal on; unset: the "
                    "address of the interface holding the default route (127.0.0.1 when "
                    "there is none)."),
    cfg.PortOpt("target_port", default=3260, help="TCP port of the iSCSI portal."),
    cfg.StrOpt("target_prefix", default="iqn.2026-12.org.stratus:",
               help="IQN prefix: a volume's target is <prefix>volume-<uuid>."),
    cfg.FloatOpt("max_over_subscription_ratio", default=1.0, min=1.0,
                 help="Thin provisioning: how far provisioned capacity may exceed the real "
                      "one (reported to the scheduler). 1.0 never over-commits, so a guest "
                      "never meets ENOSPC on a sparse volume."),
    cfg.IntOpt("reserved_percentage", default=0, min=0, max=100,
               help="Share of the capacity the scheduler keeps free."),
]

AGENT_OPTS = [
    cfg.ListOpt("enabled_backends", default=["file"],
                help="Backends this agent serves, each as <host>@<name>; a section "
                     "[<name>] may override the backend options of [volume]."),
    cfg.StrOpt("image_conversion_dir", default="$state_path/volume-conversion",
               help="Scratch directory for downloaded images and qcow2 uploads. Emptied at "
                    "start-up; needs room for the largest image."),
    cfg.IntOpt("image_conversion_timeout", default=3600, min=10,
               help="Seconds one image download, conversion or upload may take."),
    cfg.StrOpt("chap_key_file", default="$state_path/volume-agent/chap.key",
               help="Secret (created at first start, mode 0600) the per-volume CHAP "
                    "credentials are derived from: a volume's credentials stay the same "
                    "across agent and tgtd restarts, and differ between volumes."),
    cfg.IntOpt("capacity_report_interval", default=60, min=1,
               help="Seconds between capacity reports to the scheduler."),
    cfg.BoolOpt("remove_orphans", default=True,
                help="At start-up, delete data and targets of volumes the block storage "
                     "service does not know or has deleted."),
]

BACKUP_OPTS = [
    cfg.StrOpt("driver", default="file", choices=[
                   ("file", "chunks under file_path (a local or shared mount)"),
                   ("swift", "the object storage service (Swift v1 API)")],
               help="Where volume backups are stored."),
    cfg.StrOpt("file_path", default="/var/lib/stratus/backups",
               help="file driver: directory holding one sub-directory per backup."),
    cfg.IntOpt("chunk_size_mb", default=32, min=1, max=1024,
               help="Size of the chunks a volume is cut into (MiB); all-zero chunks are "
                    "not stored at all."),
    cfg.StrOpt("compression", default="zlib", choices=["none", "zlib"],
               help="Compression of every stored chunk."),
    cfg.StrOpt("swift_container", default="volumebackups",
               help="swift driver: container of the backup objects."),
    cfg.StrOpt("swift_url", default=None,
               help="swift driver: account URL, e.g. http://proxy:8780/v1/AUTH_%%(project_id)s; "
                    "unset: the object-store endpoint of the service token's catalog."),
    cfg.IntOpt("swift_timeout", default=60, min=1,
               help="swift driver: seconds one object request may take."),
]


@dataclasses.dataclass(frozen=True)
class BackendConf:
    """The effective options of one backend (its section over [volume])."""

    name: str
    volume_driver: str
    volume_backend_name: str
    file_path: str
    volume_group: str
    lvm_thin_pool: str
    lvm_thin_pool_percent: int
    target_helper: str
    target_ip_address: str | None
    target_port: int
    target_prefix: str
    max_over_subscription_ratio: float
    reserved_percentage: int


def register(conf: cfg.ConfigOpts) -> None:
    """Register [volume], [backup] and [volume_rpc] on conf."""
    conf.register_opts(BACKEND_OPTS + AGENT_OPTS, group=GROUP)
    conf.register_opts(BACKUP_OPTS, group=BACKUP_GROUP)
    volume_rpc.register(conf)


def backend(conf: cfg.ConfigOpts, name: str) -> BackendConf:
    """The effective options of backend name.

    :raises ValueError: the name is not a usable section name.
    """
    if not _BACKEND_NAME_RE.match(name) or name in _RESERVED:
        raise ValueError(f"backend name {name!r} in [volume] enabled_backends is not usable: "
                         "use letters, digits, '_' and '-', and not a reserved section name")
    if name not in conf:
        # Registered with no defaults: an unset option means "inherit from [volume]".
        conf.register_opts([_without_default(opt) for opt in BACKEND_OPTS], group=name)
    section, defaults = conf[name], conf[GROUP]
    values: dict[str, Any] = {}
    for opt in BACKEND_OPTS:
        own = getattr(section, opt.dest)
        values[opt.dest] = own if own is not None else getattr(defaults, opt.dest)
    values["volume_backend_name"] = values["volume_backend_name"] or name
    return BackendConf(name=name, **values)


def _without_default(opt: cfg.Opt) -> cfg.Opt:
    clone = copy.copy(opt)
    clone.default = None
    return clone


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Every option the volume agent reads (for the generated sample config)."""
    return list(common.conf.list_opts()) + [
        (GROUP, BACKEND_OPTS + AGENT_OPTS),
        (BACKUP_GROUP, BACKUP_OPTS),
        (volume_rpc.GROUP, volume_rpc.OPTS),
    ]


def make(argv: list[str] | None = None, program: str = "stratus-volume-agent",
         overrides: dict[str, dict[str, Any]] | None = None,
         cli_opts: list[cfg.Opt] | None = None) -> cfg.ConfigOpts:
    """A parsed ConfigOpts for the agent (argv None: defaults only, for tests).

    overrides: {group: {option: value}} set on top of the files, for tests.
    """
    return common.conf.build([register], argv, program, overrides, cli_opts)
