"""stratus-api: the API application under gunicorn, with [api] workers."""

from __future__ import annotations

import sys

from gunicorn.app.base import BaseApplication

from common import log
from controller import conf as controller_conf


class ApiServer(BaseApplication):
    """gunicorn configured from oslo.config; each worker builds its own app and DB engine."""

    def __init__(self, conf):
        self.conf = conf
        super().__init__()

    def load_config(self) -> None:
        api = self.conf.api
        settings = {
            "bind": f"{api.bind_host}:{api.bind_port}",
            "workers": api.workers,
            "threads": api.threads,
            "worker_class": "gthread" if api.threads > 1 else "sync",
            "timeout": 300,
            "graceful_timeout": 30,
            "keepalive": 5,
            "proc_name": "stratus-api",
            "accesslog": None,
            "control_socket_disable": True,
        }
        for key, value in settings.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self):
        from controller.api.app import create_app

        log.setup(self.conf, "stratus-api")
        return create_app(self.conf)


def main(argv: list[str] | None = None) -> int:
    conf = controller_conf.make(sys.argv[1:] if argv is None else argv, "stratus-api")
    log.setup(conf, "stratus-api")
    ApiServer(conf).run()
    return 0
