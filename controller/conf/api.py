"""[api]: the WSGI server that serves every control-plane API."""

from oslo_config import cfg

OPTS = [
    cfg.HostAddressOpt("bind_host", default="0.0.0.0", help="Address the API listens on."),
    cfg.PortOpt("bind_port", default=8770, help="Port the API listens on."),
    cfg.IntOpt("workers", default=2, min=1, help="gunicorn worker processes."),
    cfg.IntOpt("threads", default=1, min=1,
               help="Threads per worker; more than 1 selects gunicorn's gthread worker."),
    cfg.StrOpt("public_endpoint", default="http://127.0.0.1:8770",
               help="Base URL clients reach the API at; used in links and the catalog."),
    cfg.IntOpt("max_request_body_size", default=114688, min=1024,
               help="Largest JSON request body accepted, in bytes."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="api")


def list_opts():
    return [("api", OPTS)]
