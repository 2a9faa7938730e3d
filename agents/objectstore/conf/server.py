"""[object_server]: the storage node's HTTP server and its disks."""

from oslo_config import cfg

OPTS = [
    cfg.HostAddressOpt("bind_host", default="0.0.0.0", help="Address the node listens on."),
    cfg.PortOpt("bind_port", default=6200,
                help="Port the node listens on; the rings name devices by ip:port."),
    cfg.ListOpt("ring_ips", default=[],
                help="Addresses this node has in the rings; empty: bind_host, or every "
                     "address of this host when bind_host is a wildcard."),
    cfg.StrOpt("wsgi_server", default="uwsgi", choices=["uwsgi", "gunicorn"],
               help="HTTP server: uwsgi (pyuwsgi; much less CPU per request) or "
                    "gunicorn (threaded workers)."),
    cfg.IntOpt("workers", default=1, min=1, max=64,
               help="gunicorn worker processes (one is enough per disk on small hosts)."),
    cfg.IntOpt("threads", default=64, min=2, max=1024,
               help="Threads per worker: concurrent requests one worker serves. Keep it "
                    "well above the proxies' concurrency: object writes wait on other "
                    "nodes' container servers."),
    cfg.IntOpt("keepalive", default=75, min=1, max=3600,
               help="Seconds an idle keep-alive connection stays open; keep it above "
                    "the proxy's [object_proxy] pool_idle_ttl."),
    cfg.StrOpt("devices", default="/var/lib/stratus/object",
               help="Directory holding one directory (or mount point) per device."),
    cfg.ListOpt("device_names", default=[],
                help="Devices under `devices` this node serves; empty: every one."),
    cfg.BoolOpt("mount_check", default=False,
                help="Refuse (507) devices that are not mount points, so a failed mount "
                     "never fills the root disk."),
    cfg.BoolOpt("fsync", default=True,
                help="fsync object data and directories before answering a write. "
                     "Only turn off for throw-away test clusters."),
    cfg.BoolOpt("verify_reads", default=True,
                help="Check the MD5 of whole-object reads before the last byte leaves, "
                     "quarantining a corrupt copy so it is never served."),
    cfg.IntOpt("chunk_size", default=65536, min=4096, max=16 * 1048576,
               help="Bytes per disk read/write and per network chunk."),
    cfg.FloatOpt("conn_timeout", default=0.5, min=0.01, max=60,
                 help="Seconds to connect to another node (container/account updates)."),
    cfg.FloatOpt("node_timeout", default=3.0, min=0.1, max=600,
                 help="Seconds to wait for another node's answer before deferring "
                      "the update to the updater."),
    cfg.FloatOpt("account_update_interval", default=2.0, min=0.05, max=3600,
                 help="Seconds between pushes of changed container counts to the "
                      "account servers: account totals lag by about this much, and a "
                      "burst of object writes costs one update per container."),
    cfg.IntOpt("db_cache_size", default=256, min=8, max=65536,
               help="Open SQLite account/container databases kept per worker."),
    cfg.IntOpt("reclaim_age", default=7 * 86400, min=60,
               help="Seconds tombstones (deleted objects/rows) are kept so the delete "
                    "reaches every replica; older ones are removed."),
    cfg.IntOpt("max_db_rows_per_push", default=1000, min=10, max=100000,
               help="Rows per replication request for account/container databases."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="object_server")


def list_opts():
    return [("object_server", OPTS)]
