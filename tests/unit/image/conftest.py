"""A Runtime over a fresh SQLite schema and the in-memory image store, plus callers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from common.context import RequestContext
from controller import conf as controller_conf
from controller.db import base, models
from controller.image import store
from controller.runtime import Runtime


@pytest.fixture
def rt(tmp_path) -> Iterator[Runtime]:
    conf = controller_conf.make(None, overrides={
        "database": {"connection": f"sqlite:///{tmp_path}/image.sqlite"},
        "messaging": {"notification_driver": "noop"},
        "image": {"store_driver": "memory", "image_size_cap": 10 * 1024 * 1024,
                  "chunk_size": 4096},
    })
    runtime = Runtime.from_conf(conf)
    models.Base.metadata.create_all(runtime.db.engine)
    yield runtime
    store.reset()
    base.reset()


def caller(project: str, *roles: str) -> RequestContext:
    """A context for a user of project with roles (member by default)."""
    return RequestContext(user_id=f"user-{project}", project_id=project,
                          roles=list(roles or ["member", "reader"]))


@pytest.fixture
def alice() -> RequestContext:
    return caller("alice")


@pytest.fixture
def bob() -> RequestContext:
    return caller("bob")


@pytest.fixture
def admin() -> RequestContext:
    return caller("admin", "admin", "member", "reader")
