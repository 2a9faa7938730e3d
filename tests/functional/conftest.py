"""Fixtures for functional tests: real SQLite and PostgreSQL databases, real RabbitMQ.

PostgreSQL and RabbitMQ come from STRATUS_TEST_POSTGRES_URL and STRATUS_TEST_TRANSPORT_URL
(tools/run-tests.sh sets both). Without them those cases skip, except under CI, where a
missing service is a failure.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest
import sqlalchemy as sa

from controller.api.app import create_app
from controller.db import base as db_base
from controller.db import migration
from controller.identity import bootstrap
from controller.identity.fernet import KeyRepository
from controller.runtime import Runtime
from tests.functional import support

POSTGRES_URL = os.environ.get("STRATUS_TEST_POSTGRES_URL")
TRANSPORT_URL = os.environ.get("STRATUS_TEST_TRANSPORT_URL")


def _require(value: str | None, what: str) -> str:
    if not value:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is not set; CI must provide it")
        pytest.skip(f"{what} is not set")
    return value


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A fresh, empty database of each kind for the test module."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/stratus.sqlite"
        return
    admin_url = _require(POSTGRES_URL, "STRATUS_TEST_POSTGRES_URL")
    name = f"stratus_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(
        hide_password=False)
    yield url
    db_base.reset()
    for attempt in range(20):
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            break
        except sa.exc.DBAPIError:
            # FORCE may not end an autovacuum worker busy on the database (a superuser
            # process): it finishes in moments.
            if attempt == 19:
                raise
            time.sleep(0.5)
    engine.dispose()


@pytest.fixture(scope="module")
def transport_url():
    return _require(TRANSPORT_URL, "STRATUS_TEST_TRANSPORT_URL")


@pytest.fixture(scope="module")
def cloud(database_url, tmp_path_factory):
    """An identity-bootstrapped API app on database_url, driven through its test client."""
    keys = tmp_path_factory.mktemp("keys")
    conf = support.make_conf(database_url, str(keys))
    rt = Runtime.from_conf(conf)
    migration.sync(rt.db)
    KeyRepository(str(keys)).setup()
    ids = bootstrap.run(rt, bootstrap.Options(
        admin_password="admin-pw", demo_password="demo-pw",
        public_url="http://127.0.0.1:8770"))
    app = create_app(conf, rt)
    yield support.Cloud(app.test_client(), rt, ids)
    db_base.reset()
