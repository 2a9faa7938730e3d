"""stratus-object-server: one storage node (account, container and object requests
for the devices in its config) under uWSGI (or gunicorn).

    stratus-object-server --config-file /etc/stratus/object-server-1.conf
"""

from __future__ import annotations

import sys

from agents.objectstore import conf as node_conf
from common import log
from common.objectstore import server as wsgi_server

PROGRAM = "stratus-object-server"


def make_app(argv: list[str]):
    """Build the node's WSGI app in a server worker."""
    from agents.objectstore.app import NodeApp

    conf = node_conf.make(argv, PROGRAM)
    log.setup(conf, PROGRAM)
    return NodeApp(conf)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    conf = node_conf.make(argv, PROGRAM)
    log.setup(conf, PROGRAM)
    opts = conf.object_server
    wsgi_server.serve("agents.objectstore.server:make_app", argv, server=opts.wsgi_server,
                      name=f"{PROGRAM}:{opts.bind_port}", bind_host=opts.bind_host,
                      bind_port=opts.bind_port, workers=opts.workers, threads=opts.threads,
                      keepalive=opts.keepalive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
