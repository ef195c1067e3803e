"""The shared database: metadata, engines, the request session and exact column types."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from decimal import Decimal

from flask import current_app, g, has_app_context
from sqlalchemy import BigInteger, DateTime, MetaData, Numeric, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from werkzeug.local import LocalProxy

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    """Declarative base of every Kontor model, core and plugins alike.

    Models are audited unless they set ``__audited__ = False``.
    """

    metadata = metadata
    __audited__ = True


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware, on both backends."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Money(TypeDecorator):
    """An exact decimal amount.

    PostgreSQL stores ``NUMERIC(precision, scale)``; SQLite, which has no decimal type, stores an
    integer scaled by ``10**scale`` so that sums in SQL stay exact. Python always sees ``Decimal``.
    A value with more decimals than the column holds is refused rather than rounded.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, scale: int = 2, precision: int = 18):
        super().__init__()
        self.scale = scale
        self.precision = precision
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must not be a float")
        amount = Decimal(value)
        exact = amount.quantize(self._quantum)
        if exact != amount:
            raise ValueError(f"{value} has more than {self.scale} decimals")
        if dialect.name == "sqlite":
            return int(exact.scaleb(self.scale))
        return exact

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale).quantize(self._quantum)
        return Decimal(value).quantize(self._quantum)

    def coerce_compared_value(self, op, value):
        return self


_reads_only: ContextVar[bool] = ContextVar("kontor_reads_only", default=False)


@contextmanager
def reading_transactions():
    """Within this block SQLite transactions begin deferred: for requests that only read."""
    token = _reads_only.set(True)
    try:
        yield
    finally:
        _reads_only.reset(token)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _configure_sqlite(engine: Engine) -> None:
    """Make SQLite transactional for DDL too, and fit for several processes (WAL, busy timeout)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        dbapi_conn.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # IMMEDIATE takes the write lock up front, so a read-then-write transaction never fails
        # later because another writer went first; reads (GET requests) stay concurrent.
        conn.exec_driver_sql("BEGIN" if _reads_only.get() else "BEGIN IMMEDIATE")


def get_engine(url: str) -> Engine:
    """The process-wide engine for ``url`` (created once, shared by every app rebuild)."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(url, poolclass=NullPool if ":memory:" not in url else None)
                _configure_sqlite(engine)
            else:
                engine = create_engine(url, pool_pre_ping=True)
            _engines[url] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Close and forget the engine for ``url``."""
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def dispose_engines(close: bool = True) -> None:
    """Forget every engine; ``close=False`` after a fork leaves the parent's connections alone."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose(close=close)
        _engines.clear()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A sessionmaker whose sessions carry Kontor's audit hooks."""
    from core.audit.recorder import install_listeners

    factory = sessionmaker(bind=engine, expire_on_commit=False)
    install_listeners(factory)
    return factory


def _request_session() -> Session:
    if "kontor_session" not in g:
        g.kontor_session = current_app.extensions["kontor"].sessionmaker()
    return g.kontor_session


#: The session of the current request or CLI command; closed when the app context ends.
session: Session = LocalProxy(_request_session)  # type: ignore[assignment]


def close_request_session(_exc=None) -> None:
    """Close the current app context's session, rolling back anything left uncommitted."""
    if has_app_context():
        s = g.pop("kontor_session", None)
        if s is not None:
            s.close()


def is_sqlite(engine_or_session) -> bool:
    """Whether the connection or session talks to SQLite."""
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "sqlite"
