"""stratus-object-proxy: the Object Storage v1 API under uWSGI (or gunicorn).

    stratus-object-proxy --config-file /etc/stratus/object-proxy.conf
"""

from __future__ import annotations

import sys

from common import log
from common.objectstore import server as wsgi_server
from controller.objectproxy import conf as proxy_conf

PROGRAM = "stratus-object-proxy"


def make_app(argv: list[str]):
    """Build the proxy's WSGI app in a server worker."""
    from controller.objectproxy.app import ProxyApp

    conf = proxy_conf.make(argv, PROGRAM)
    log.setup(conf, PROGRAM)
    return ProxyApp(conf)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    conf = proxy_conf.make(argv, PROGRAM)
    log.setup(conf, PROGRAM)
    opts = conf.object_proxy
    wsgi_server.serve("controller.objectproxy.server:make_app", argv,
                      server=opts.wsgi_server, name=PROGRAM, bind_host=opts.bind_host,
                      bind_port=opts.bind_port, workers=opts.workers, threads=opts.threads,
                      keepalive=opts.keepalive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
