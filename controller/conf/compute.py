"""[quota], [console] and [compute_api]: the compute API's quota defaults, console URLs
and server-listing limits.

Quota defaults are Nova's; an admin overrides them per project (``openstack quota set``).
"""

from oslo_config import cfg

QUOTA_OPTS = [
    cfg.IntOpt("instances", default=10, min=-1,
               help="Servers a project may have; -1 for unlimited."),
    cfg.IntOpt("cores", default=20, min=-1,
               help="vCPUs a project's servers may use together; -1 for unlimited."),
    cfg.IntOpt("ram", default=51200, min=-1,
               help="MiB of RAM a project's servers may use together; -1 for unlimited."),
    cfg.IntOpt("metadata_items", default=128, min=-1,
               help="Metadata items one server (or snapshot) may carry; -1 for unlimited."),
    cfg.IntOpt("injected_files", default=5, min=-1,
               help="Personality files per server (API below 2.57); -1 for unlimited."),
    cfg.IntOpt("injected_file_content_bytes", default=10240, min=-1,
               help="Bytes of one personality file; -1 for unlimited."),
    cfg.IntOpt("injected_file_path_length", default=255, min=-1,
               help="Characters of one personality file path; -1 for unlimited."),
    cfg.IntOpt("key_pairs", default=100, min=-1,
               help="Key pairs one user may have; -1 for unlimited."),
    cfg.IntOpt("server_groups", default=10, min=-1,
               help="Server groups a project may have; -1 for unlimited."),
    cfg.IntOpt("server_group_members", default=10, min=-1,
               help="Servers one server group may hold; -1 for unlimited."),
]

CONSOLE_OPTS = [
    cfg.IntOpt("token_ttl", default=600, min=1,
               help="Seconds a console URL stays valid; each URL works once."),
    cfg.URIOpt("novncproxy_base_url", default="http://127.0.0.1:6080/vnc_lite.html",
               help="Public URL of the noVNC console proxy page; `openstack console url "
                    "show` answers it with the token appended."),
    cfg.URIOpt("serialproxy_base_url", default="ws://127.0.0.1:6083/",
               help="Public URL of the serial console websocket proxy."),
]

COMPUTE_API_OPTS = [
    cfg.IntOpt("max_limit", default=1000, min=1,
               help="Most servers one list request returns, whatever limit asks for."),
    cfg.StrOpt("multi_instance_display_name_template", default="%(name)s-%(count)d",
               help="Name of each server of a multiple create: %(name)s is the requested "
                    "name, %(count)d the 1-based index, %(uuid)s the server's ID."),
    cfg.BoolOpt("enable_instance_password", default=True,
                help="Return a generated adminPass when a server is created or rebuilt."),
]


def register(conf: cfg.ConfigOpts) -> None:
    """Register [quota], [console] and [compute_api] on conf."""
    conf.register_opts(QUOTA_OPTS, group="quota")
    conf.register_opts(CONSOLE_OPTS, group="console")
    conf.register_opts(COMPUTE_API_OPTS, group="compute_api")


def list_opts():
    """The compute API's options, for the sample config generator."""
    return [("quota", QUOTA_OPTS), ("console", CONSOLE_OPTS),
            ("compute_api", COMPUTE_API_OPTS)]
