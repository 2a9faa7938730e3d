"""Options every Stratus daemon shares: logging, messaging, service reporting."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

from oslo_config import cfg

DEFAULT_OPTS = [
    cfg.StrOpt("host", default=socket.gethostname(), sample_default="<hostname>",
               help="Name of this host as the scheduler and services list see it."),
    cfg.StrOpt("state_path", default="/var/lib/stratus",
               help="Directory where Stratus keeps its local state."),
]

LOGGING_OPTS = [
    cfg.BoolOpt("debug", default=False, help="Log at DEBUG level."),
    cfg.StrOpt("log_dir", default=None,
               help="Directory for <program>.log files; unset logs to stderr."),
    cfg.StrOpt("format", default="text", choices=["text", "json"],
               help="text: one human-readable line per event; json: one JSON object per line."),
]

MESSAGING_OPTS = [
    cfg.StrOpt("transport_url", default="rabbit://guest:guest@127.0.0.1:5672/", secret=True,
               help="oslo.messaging transport URL for RPC and notifications."),
    cfg.StrOpt("control_exchange", default="stratus", help="AMQP exchange for Stratus RPC."),
    cfg.IntOpt("rpc_timeout", default=60, min=1, help="Seconds an RPC call waits for an answer."),
    cfg.IntOpt("send_retry", default=-1, min=-1,
               help="Reconnection attempts for a message (RPC or notification) sent while the "
                    "bus is down; -1 waits until it is back. stratus-api defaults to 3, so a "
                    "request fails with a 503 in about ten seconds instead of hanging."),
    cfg.StrOpt("notification_driver", default="messagingv2",
               choices=["messagingv2", "log", "noop"],
               help="Where notifications go: the bus (messagingv2), the log, or nowhere."),
]

SERVICE_OPTS = [
    cfg.IntOpt("report_interval", default=10, min=1,
               help="Seconds between service heartbeats."),
    cfg.IntOpt("service_down_time", default=60, min=1,
               help="A service whose last heartbeat is older than this many seconds is down."),
]


# RPC topics that controller daemons and agents both address (common.rpc clients).
CONDUCTOR_OPTS = [
    cfg.StrOpt("topic", default="stratus-conductor", help="RPC topic the conductor listens on."),
]
COMPUTE_RPC_OPTS = [
    cfg.StrOpt("topic", default="stratus-compute",
               help="RPC topic the compute agents listen on (each host as its own server)."),
]

# How daemons authenticate to the other services' APIs (common.clients): one service
# user (``stratus-manage bootstrap --service-password`` creates it) with a password.
SERVICE_AUTH_OPTS = [
    cfg.StrOpt("auth_url", default="http://127.0.0.1:8770/identity/v3",
               help="Identity v3 endpoint the service user authenticates against."),
    cfg.StrOpt("username", default="stratus", help="The service user's name."),
    cfg.StrOpt("password", default=None, secret=True,
               help="The service user's password (stratus-manage bootstrap "
                    "--service-password). Unset: calls to other services fail with a "
                    "message saying so."),
    cfg.StrOpt("project_name", default="service", help="Project the token is scoped to."),
    cfg.StrOpt("user_domain_id", default="default", help="Domain of the service user."),
    cfg.StrOpt("project_domain_id", default="default", help="Domain of the project."),
    cfg.StrOpt("region", default="RegionOne",
               help="Region whose endpoints are taken from the token's catalog."),
    cfg.StrOpt("interface", default="internal", choices=["public", "internal", "admin"],
               help="Catalog endpoint interface to use."),
    cfg.StrOpt("cafile", default=None,
               help="CA bundle to verify HTTPS endpoints with; unset: the system's."),
    cfg.FloatOpt("timeout", default=60.0, min=1.0,
                 help="Seconds to wait for a connection or for the next bytes of an answer."),
]

IMAGE_CLIENT_OPTS = [
    cfg.StrOpt("endpoint_override", default=None,
               help="Image API URL to use instead of the catalog's (e.g. "
                    "http://127.0.0.1:8770/image)."),
    cfg.IntOpt("chunk_size", default=1 << 20, min=4096,
               help="Bytes per chunk when streaming image data in either direction."),
]


def register(conf: cfg.ConfigOpts) -> None:
    """Register the shared option groups on conf."""
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts(LOGGING_OPTS, group="logging")
    conf.register_opts(MESSAGING_OPTS, group="messaging")
    conf.register_opts(SERVICE_OPTS, group="service")
    conf.register_opts(CONDUCTOR_OPTS, group="conductor")
    conf.register_opts(COMPUTE_RPC_OPTS, group="compute_rpc")
    conf.register_opts(SERVICE_AUTH_OPTS, group="service_auth")
    conf.register_opts(IMAGE_CLIENT_OPTS, group="image_client")


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [
        ("DEFAULT", DEFAULT_OPTS),
        ("logging", LOGGING_OPTS),
        ("messaging", MESSAGING_OPTS),
        ("service", SERVICE_OPTS),
        ("conductor", CONDUCTOR_OPTS),
        ("compute_rpc", COMPUTE_RPC_OPTS),
        ("service_auth", SERVICE_AUTH_OPTS),
        ("image_client", IMAGE_CLIENT_OPTS),
    ]


def config_files(program: str, config_dir: str = "/etc/stratus") -> list[str]:
    """The files a daemon reads: the shared stratus.conf, then its own, when present."""
    candidates = [os.path.join(config_dir, "stratus.conf"),
                  os.path.join(config_dir, f"{program}.conf")]
    return [path for path in candidates if os.path.exists(path)]


def load(conf: cfg.ConfigOpts, program: str, argv: list[str] | None) -> None:
    """Parse the command line and the config files for program."""
    conf(argv, project="stratus", prog=program, default_config_files=config_files(program))


def build(registrations: Iterable[Callable[[cfg.ConfigOpts], None]], argv: list[str] | None,
          program: str, overrides: dict[str, dict[str, Any]] | None = None,
          cli_opts: list[cfg.Opt] | None = None) -> cfg.ConfigOpts:
    """A parsed ConfigOpts with the shared groups plus those registrations add.

    argv None parses nothing (defaults only, for tests); otherwise the command line and
    the config files of program. overrides ({group: {name: value}}) win over both.
    """
    conf = cfg.ConfigOpts()
    register(conf)
    for registration in registrations:
        registration(conf)
    conf.register_cli_opts(cli_opts or [])
    if argv is None:
        conf([], project="stratus", default_config_files=[])
    else:
        load(conf, program, argv)
    for group, values in (overrides or {}).items():
        for name, value in values.items():
            conf.set_override(name, value, group=None if group == "DEFAULT" else group)
    return conf
