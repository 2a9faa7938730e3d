"""A Runtime over a fresh SQLite schema whose RPC clients and notifier are recorders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from controller import conf as controller_conf
from controller.db import base, models
from controller.image import store
from controller.runtime import Runtime


class Recorder:
    """Stands in for an RPC client: records every call; `answers` and `errors` (by
    method name) say what a call returns or raises."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.answers: dict[str, Any] = {}
        self.errors: dict[str, Exception] = {}

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)

        def record(ctx, *args, **kwargs):
            self.calls.append((method, args, kwargs))
            if method in self.errors:
                raise self.errors[method]
            answer = self.answers.get(method)
            return answer(*args, **kwargs) if callable(answer) else answer
        return record

    def named(self, method: str) -> list[tuple[tuple, dict]]:
        return [(args, kwargs) for name, args, kwargs in self.calls if name == method]


@pytest.fixture
def rt(tmp_path) -> Iterator[Runtime]:
    conf = controller_conf.make(None, overrides={
        "database": {"connection": f"sqlite:///{tmp_path}/conductor.sqlite"},
        "messaging": {"notification_driver": "noop"},
        "image": {"store_driver": "memory"},
    })
    runtime = Runtime.from_conf(conf)
    models.Base.metadata.create_all(runtime.db.engine)
    runtime.compute_api = Recorder()
    runtime.scheduler_api = Recorder()
    runtime.notifications = []
    runtime.notify = lambda ctx, event_type, payload: runtime.notifications.append(
        (event_type, payload))
    yield runtime
    store.reset()
    base.reset()
