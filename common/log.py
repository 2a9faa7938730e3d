"""Logging: one line per event, each carrying the request ID of the work it serves."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
import time

from oslo_config import cfg

from common.context import current_request_id

TEXT_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps every record with the request ID of the current thread/context."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """A JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def setup(conf: cfg.ConfigOpts, program: str) -> None:
    """Configure the root logger for a daemon from the [logging] options."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if conf.logging.log_dir:
        os.makedirs(conf.logging.log_dir, exist_ok=True)
        handler: logging.Handler = logging.handlers.WatchedFileHandler(
            os.path.join(conf.logging.log_dir, f"{program}.log"))
    else:
        handler = logging.StreamHandler(sys.stderr)
    if conf.logging.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if conf.logging.debug else logging.INFO)
    for noisy in ("amqp", "kombu", "oslo_messaging", "oslo_policy", "urllib3", "stevedore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
