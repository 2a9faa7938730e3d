"""[object_proxy]: the object-storage proxy (stratus-object-proxy)."""

from __future__ import annotations

from oslo_config import cfg

import common.conf
from common.ring import conf as ring_conf

OPTS = [
    # ---- serving
    cfg.HostAddressOpt("bind_host", default="0.0.0.0", help="Address the proxy listens on."),
    cfg.PortOpt("bind_port", default=8780, help="Port the proxy listens on."),
    cfg.StrOpt("wsgi_server", default="uwsgi", choices=["uwsgi", "gunicorn"],
               help="HTTP server: uwsgi (pyuwsgi; much less CPU per request) or "
                    "gunicorn (threaded workers)."),
    cfg.IntOpt("workers", default=2, min=1, max=256,
               help="gunicorn worker processes (about one per core)."),
    cfg.IntOpt("threads", default=16, min=2, max=1024,
               help="Threads per worker: concurrent requests a worker serves."),
    cfg.IntOpt("keepalive", default=30, min=1, max=3600,
               help="Seconds an idle client connection stays open."),
    cfg.FloatOpt("client_timeout", default=60.0, min=1, max=3600,
                 help="Seconds to wait for the next chunk of a client's upload."),
    cfg.IntOpt("chunk_size", default=65536, min=4096, max=16 * 1048576,
               help="Bytes per chunk when streaming bodies."),
    cfg.BoolOpt("log_requests", default=True, help="Log one line per request."),
    # ---- authentication and authorization
    cfg.URIOpt("identity_url", default="http://127.0.0.1:8770/identity",
               help="Identity API base URL; tokens are validated at "
                    "<identity_url>/v3/auth/tokens."),
    cfg.IntOpt("token_cache_time", default=30, min=0, max=3600,
               help="Seconds a validated token is trusted without asking identity again."),
    cfg.IntOpt("token_cache_size", default=10000, min=16, max=10000000,
               help="Validated tokens remembered per worker."),
    cfg.FloatOpt("identity_timeout", default=10.0, min=0.1, max=300,
                 help="Seconds to wait for the identity API."),
    cfg.ListOpt("operator_roles", default=["admin", "member"],
                help="Roles that get full access to their own project's account."),
    cfg.ListOpt("reader_roles", default=["reader"],
                help="Roles that may read (GET/HEAD) their own project's account."),
    cfg.StrOpt("reseller_admin_role", default="admin",
               help="Role that may access every account."),
    cfg.StrOpt("reseller_prefix", default="AUTH_",
               help="Accounts are <reseller_prefix><project_id>."),
    # ---- back end
    cfg.FloatOpt("conn_timeout", default=0.5, min=0.01, max=60,
                 help="Seconds to connect to a storage node before trying another."),
    cfg.FloatOpt("node_timeout", default=10.0, min=0.1, max=600,
                 help="Seconds to wait for a storage node's answer or next chunk."),
    cfg.FloatOpt("post_quorum_timeout", default=0.5, min=0, max=60,
                 help="After a write reached quorum, seconds to wait for the other replicas."),
    cfg.FloatOpt("error_suppression_interval", default=30.0, min=0, max=3600,
                 help="Seconds a node that failed to connect is skipped (handoffs are used)."),
    cfg.IntOpt("pool_max_idle", default=64, min=1, max=4096,
               help="Idle keep-alive connections kept per storage node per worker."),
    cfg.FloatOpt("pool_idle_ttl", default=50.0, min=1, max=3600,
                 help="Seconds an idle node connection is reused; keep it below the "
                      "nodes' keepalive."),
    cfg.FloatOpt("info_cache_time", default=5.0, min=0, max=3600,
                 help="Seconds account/container existence, ACLs and keys are cached per "
                      "worker (writes through this worker refresh it at once)."),
    cfg.BoolOpt("account_autocreate", default=True,
                help="Create an account on first use instead of answering 404."),
    # ---- limits
    cfg.IntOpt("max_file_size", default=5368709122, min=1,
               help="Largest single object in bytes (larger uploads need SLO/DLO)."),
    cfg.IntOpt("container_listing_limit", default=10000, min=1, max=10000,
               help="Most entries one listing request returns."),
    cfg.IntOpt("slo_max_manifest_segments", default=1000, min=1, max=100000,
               help="Most segments in one static large object manifest."),
    cfg.IntOpt("slo_max_manifest_size", default=8 * 1048576, min=1024,
               help="Largest SLO manifest body in bytes."),
    cfg.IntOpt("slo_min_segment_size", default=1, min=1,
               help="Smallest SLO segment (except the last) in bytes."),
    cfg.IntOpt("dlo_max_segments", default=10000, min=1, max=1000000,
               help="Most segments a dynamic large object may have."),
    cfg.IntOpt("bulk_max_deletes", default=10000, min=1, max=1000000,
               help="Most paths one bulk-delete request may name."),
    cfg.ListOpt("tempurl_methods", default=["GET", "HEAD", "PUT", "POST", "DELETE"],
                help="Methods a TempURL may be signed for."),
    cfg.ListOpt("tempurl_digests", default=["sha1", "sha256", "sha512"],
                help="Digests accepted for TempURL signatures."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="object_proxy")


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Every option stratus-object-proxy reads (for the generated sample config)."""
    return list(common.conf.list_opts()) + ring_conf.list_opts() + [("object_proxy", OPTS)]


def make(argv: list[str] | None, program: str = "stratus-object-proxy",
         overrides: dict[str, dict] | None = None) -> cfg.ConfigOpts:
    """A parsed ConfigOpts (argv None: defaults only); overrides win (tests)."""
    return common.conf.build([ring_conf.register, register], argv, program, overrides)
