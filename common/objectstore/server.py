"""Run a storage WSGI app (proxy or node) under a production server.

uWSGI (the ``pyuwsgi`` wheel) is the default: its C HTTP/1.1 front end costs tens of
microseconds per request, where gunicorn's threaded worker costs most of a
millisecond, and every object PUT is several requests (client -> proxy -> nodes ->
container servers). gunicorn's gthread worker remains available
(``wsgi_server = gunicorn``) where uWSGI cannot be installed.

The app is built by ``factory(argv)`` inside each worker after the fork (uWSGI
``lazy-apps``), so rings, connection pools and SQLite handles are never shared
between processes.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)
ENV_FACTORY = "STRATUS_WSGI_FACTORY"
ENV_ARGV = "STRATUS_WSGI_ARGV"


def load_factory(spec: str) -> Callable[[list[str]], Any]:
    """'package.module:function' -> the function."""
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def available(server: str) -> bool:
    try:
        importlib.import_module("pyuwsgi" if server == "uwsgi" else "gunicorn")
    except ImportError:
        return False
    return True


def serve(factory: str, argv: list[str], *, server: str, name: str, bind_host: str,
          bind_port: int, workers: int, threads: int, keepalive: int = 75,
          timeout: int = 0) -> None:
    """Serve until SIGTERM/SIGINT. factory is 'module:function' taking argv.

    timeout > 0 kills a worker whose request runs longer (uWSGI harakiri, gunicorn
    timeout); off by default, since a large object may take long to move, and a
    stalled peer is already cut off after `keepalive` seconds of silence.
    """
    if server == "uwsgi" and not available("uwsgi"):
        LOG.warning("pyuwsgi is not installed; falling back to gunicorn")
        server = "gunicorn"
    host = f"[{bind_host}]" if ":" in bind_host else bind_host
    if server == "uwsgi":
        _serve_uwsgi(factory, argv, name, f"{host}:{bind_port}", workers, threads,
                     keepalive, timeout)
    else:
        _serve_gunicorn(factory, argv, name, f"{host}:{bind_port}", workers, threads,
                        keepalive, timeout)


def _serve_uwsgi(factory: str, argv: list[str], name: str, bind: str, workers: int,
                 threads: int, keepalive: int, timeout: int) -> None:
    import pyuwsgi

    os.environ[ENV_FACTORY] = factory
    os.environ[ENV_ARGV] = json.dumps(argv)
    LOG.info("%s listening on %s (uWSGI)", name, bind)
    pyuwsgi.run([
        "--http11-socket", bind, "--master", "--need-app", "--lazy-apps",
        "--module", "common.objectstore.uwsgi_entry:application",
        "--processes", str(workers), "--threads", str(threads), "--enable-threads",
        "--single-interpreter", "--die-on-term", "--vacuum", "--thunder-lock",
        "--procname-prefix-spaced", name,
        # idle keep-alive connections and stalled bodies both end after this
        "--socket-timeout", str(max(keepalive, 5)),
        *(["--harakiri", str(timeout)] if timeout > 0 else []),
        # Swift names (1 KiB, 3 KiB encoded) and up to 90 metadata headers
        "--buffer-size", "65535", "--listen", "1024",
        "--http-auto-chunked", "--post-buffering", "0",
        "--disable-logging", "--ignore-sigpipe", "--ignore-write-errors",
        "--disable-write-exception", "--log-5xx",
    ])


def _serve_gunicorn(factory: str, argv: list[str], name: str, bind: str, workers: int,
                    threads: int, keepalive: int, timeout: int) -> None:
    from gunicorn.app.base import BaseApplication

    class GunicornServer(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": bind, "workers": workers, "threads": threads,
                "worker_class": "gthread", "worker_connections": 4096,
                "keepalive": keepalive, "timeout": timeout or 3600, "graceful_timeout": 20,
                "backlog": 1024, "proc_name": name, "accesslog": None, "errorlog": "-",
                "loglevel": "warning", "control_socket_disable": True,
                "limit_request_line": 8190, "limit_request_fields": 256,
                "limit_request_field_size": 8190,
            }
            for key, value in settings.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self):
            return load_factory(factory)(argv)

    LOG.info("%s listening on %s (gunicorn)", name, bind)
    GunicornServer().run()
