"""[console]: the console proxy's listeners (the API's console URL options are in compute.py).

noVNC's page and its websocket share one listener; the serial console websocket has its
own, as Nova's novncproxy and serialproxy do.
"""

from oslo_config import cfg

OPTS = [
    cfg.HostAddressOpt("novncproxy_host", default="0.0.0.0",
                       help="Address the noVNC proxy (page and websocket) listens on."),
    cfg.PortOpt("novncproxy_port", default=6080, help="Port of the noVNC proxy."),
    cfg.HostAddressOpt("serialproxy_host", default="0.0.0.0",
                       help="Address the serial console websocket proxy listens on."),
    cfg.PortOpt("serialproxy_port", default=6083, help="Port of the serial console proxy."),
    cfg.StrOpt("novnc_web", default="/usr/share/novnc",
               help="Directory of noVNC's static files (Debian package novnc)."),
    cfg.ListOpt("allowed_origins", default=[],
                help="Origins (host names) a browser may open a console websocket from, "
                     "besides the proxy's own host name; guards against cross-site "
                     "websocket hijacking."),
    cfg.FloatOpt("connect_timeout", default=5.0, min=0.1,
                 help="Seconds to wait for the compute host's VNC or serial port to accept "
                      "the connection."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="console")


def list_opts():
    return [("console", OPTS)]
