"""[image]: the image service (Glance-compatible Image v2) and its data store."""

from oslo_config import cfg

# Glance's defaults, so images registered elsewhere move over unchanged.
DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso",
                "ploop"]
CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]

OPTS = [
    cfg.StrOpt("store_driver", default="filesystem", choices=["filesystem", "memory"],
               help="Where image data lives: files under filesystem_store_datadir, or "
                    "process memory (tests only: data is lost on restart)."),
    cfg.StrOpt("filesystem_store_datadir", default="/var/lib/stratus/images",
               help="Directory the filesystem store keeps one file per image in."),
    cfg.IntOpt("chunk_size", default=65536, min=4096, max=16 * 1024 * 1024,
               help="Bytes read from the request or the disk at a time; bounds the memory "
                    "one upload or download uses."),
    cfg.IntOpt("image_size_cap", default=1024 ** 4, min=1,
               help="Largest image, in bytes, an upload may store (Glance's default, 1 TiB)."),
    cfg.ListOpt("disk_formats", default=DISK_FORMATS,
                help="disk_format values images may declare."),
    cfg.ListOpt("container_formats", default=CONTAINER_FORMATS,
                help="container_format values images may declare."),
    cfg.IntOpt("limit_param_default", default=25, min=1,
               help="Images returned by one list request when the client sets no limit."),
    cfg.IntOpt("api_limit_max", default=1000, min=1,
               help="Most images one list request returns, whatever limit asks for."),
    cfg.IntOpt("image_member_quota", default=128, min=-1,
               help="Projects one image may be shared with; -1 for unlimited."),
    cfg.IntOpt("image_property_quota", default=128, min=-1,
               help="Custom properties one image may carry; -1 for unlimited."),
    cfg.IntOpt("image_tag_quota", default=128, min=-1,
               help="Tags one image may carry; -1 for unlimited."),
]


def register(conf: cfg.ConfigOpts) -> None:
    """Register the [image] options on conf."""
    conf.register_opts(OPTS, group="image")


def list_opts():
    """The [image] options, for the sample config generator."""
    return [("image", OPTS)]
