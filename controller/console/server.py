"""stratus-console-proxy: noVNC (page + websocket) and serial console websockets.

    stratus-console-proxy --config-file /etc/stratus/stratus.conf

Two threaded listeners in one process: ``[console] novncproxy_host:novncproxy_port``
serves noVNC's files and VNC websockets, ``serialproxy_host:serialproxy_port`` serial
console websockets. Each websocket is one thread moving bytes with websockify.
"""

from __future__ import annotations

import http.server
import logging
import os
import signal
import socket
import socketserver
import sys
import threading

from oslo_config import cfg

from common import log
from controller import conf as controller_conf
from controller.console.handler import ConsoleProxyHandler
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)
PROGRAM = "stratus-console-proxy"


class ConsoleProxyServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """A listener for one console type; carries what ConsoleProxyHandler reads."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, rt: Runtime, console_type: str,
                 web: str | None = None):
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.rt = rt
        self.console_type = console_type
        self.allowed_origins = list(rt.conf.console.allowed_origins)
        self.connect_timeout = rt.conf.console.connect_timeout
        # What websockify's handlers read from their server.
        self.web = web or ""
        self.only_upgrade = not web  # no static files: plain GETs get a 405
        self.file_only = True  # never list directories
        self.verbose = False
        self.heartbeat = None
        self.token_plugin = None
        self.auth_plugin = None
        self.logger = logging.getLogger("controller.console.handler")
        super().__init__((host, port), ConsoleProxyHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]


class ConsoleProxy:
    """Both listeners, started and stopped together."""

    def __init__(self, conf: cfg.ConfigOpts, rt: Runtime | None = None):
        opts = conf.console
        rt = rt or Runtime.from_conf(conf)
        web = opts.novnc_web if os.path.isdir(opts.novnc_web) else None
        if web is None:
            LOG.warning("noVNC files not found in %s ([console] novnc_web): serving the "
                        "VNC websocket only", opts.novnc_web)
        self.servers = [
            ConsoleProxyServer(opts.novncproxy_host, opts.novncproxy_port, rt, "novnc", web),
            ConsoleProxyServer(opts.serialproxy_host, opts.serialproxy_port, rt, "serial"),
        ]
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for server in self.servers:
            thread = threading.Thread(target=server.serve_forever, daemon=True,
                                      name=f"console-{server.console_type}")
            thread.start()
            self._threads.append(thread)
            LOG.info("%s console proxy listening on %s:%d", server.console_type,
                     server.server_address[0], server.port)

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(5)


def main(argv: list[str] | None = None) -> int:
    conf = controller_conf.make(sys.argv[1:] if argv is None else argv, PROGRAM)
    log.setup(conf, PROGRAM)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    proxy = ConsoleProxy(conf)
    proxy.start()
    while not stop.wait(1):
        pass
    LOG.info("%s stopping", PROGRAM)
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
