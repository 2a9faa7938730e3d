"""[volume] and [volume_quota]: the block storage service, its scheduler and its quotas."""

from oslo_config import cfg

from common.rpc import volume as volume_rpc

OPTS = [
    cfg.StrOpt("default_volume_type", default="__DEFAULT__",
               help="Volume type of a volume created without one (Cinder's default type, "
                    "made by the database migration)."),
    cfg.StrOpt("storage_availability_zone", default="nova",
               help="Availability zone of the volume backends (and of volumes created "
                    "without one)."),
    cfg.IntOpt("max_volume_size_gb", default=16384, min=1, max=2 ** 31 - 1,
               help="Largest volume, in GiB, a create or extend may ask for."),
    cfg.IntOpt("osapi_max_limit", default=1000, min=1,
               help="Most items one list request returns, whatever limit asks for."),
    cfg.ListOpt("scheduler_default_filters",
                default=["AvailabilityZoneFilter", "CapacityFilter", "CapabilitiesFilter"],
                help="Filters a backend pool must pass to receive a volume, in order."),
    cfg.FloatOpt("max_over_subscription_ratio", default=20.0, min=1.0,
                 help="Over-subscription of thin pools whose agent reports no ratio."),
    cfg.IntOpt("claim_attempts", default=50, min=1,
               help="Times the scheduler re-reads and retries a claim another request "
                    "changed the pool under (each retry means another claim succeeded)."),
    cfg.ListOpt("allowed_image_disk_formats", default=["raw", "qcow2"],
                help="disk_format values os-volume_upload_image accepts."),
    cfg.ListOpt("agent_binaries", default=["stratus-volume-agent", "cinder-volume"],
                help="Service binaries (heartbeats in the services table) that are volume "
                     "agents; `volume service list` shows them as cinder-volume."),
]

QUOTA_OPTS = [
    cfg.IntOpt("volumes", default=10, min=-1, help="Volumes per project (-1: unlimited)."),
    cfg.IntOpt("snapshots", default=10, min=-1, help="Snapshots per project."),
    cfg.IntOpt("gigabytes", default=1000, min=-1,
               help="GiB of volumes and snapshots per project."),
    cfg.IntOpt("backups", default=10, min=-1, help="Backups per project."),
    cfg.IntOpt("backup_gigabytes", default=1000, min=-1, help="GiB of backups per project."),
    cfg.IntOpt("per_volume_gigabytes", default=-1, min=-1,
               help="Largest volume, in GiB, a project may create."),
    cfg.IntOpt("groups", default=10, min=-1,
               help="Volume groups per project (reported for Cinder's clients)."),
]


def register(conf: cfg.ConfigOpts) -> None:
    """Register [volume], [volume_quota] and [volume_rpc] on conf."""
    conf.register_opts(OPTS, group="volume")
    conf.register_opts(QUOTA_OPTS, group="volume_quota")
    volume_rpc.register(conf)


def list_opts():
    """The block storage options, for the sample config generator."""
    return [("volume", OPTS), ("volume_quota", QUOTA_OPTS), *volume_rpc.list_opts()]
