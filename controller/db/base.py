"""Engine and session handling shared by every controller service."""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy import event, orm


class Base(orm.DeclarativeBase):
    """Declarative base for every Stratus table."""


def new_id() -> str:
    """IDs are 32 hex digits, as Keystone's are."""
    return uuid.uuid4().hex


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Database:
    """An engine and its session factory; one per process and connection URL."""

    def __init__(self, url: str, echo: bool = False, pool_size: int = 5):
        kwargs: dict = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            # SQLite serialises writers; WAL lets readers run beside a writer and the
            # busy timeout makes concurrent writers from several workers wait, not fail.
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs.update(pool_size=pool_size, pool_pre_ping=True)
        self.url = url
        self.engine = sa.create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessionmaker = orm.sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def session(self) -> Iterator[orm.Session]:
        """A session whose work commits on success and rolls back on error."""
        with self.sessionmaker() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


_databases: dict[str, Database] = {}


def get_database(conf) -> Database:
    """The process-wide Database for conf's connection URL."""
    url = conf.database.connection
    if url not in _databases:
        _databases[url] = Database(url, echo=conf.database.connection_debug,
                                   pool_size=conf.database.pool_size)
    return _databases[url]


def reset() -> None:
    """Forget every engine (after fork, and between tests)."""
    for database in _databases.values():
        database.dispose()
    _databases.clear()
