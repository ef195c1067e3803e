"""The shared database: metadata, engines, the request session and exact column types.

``Base``, ``metadata``, ``utcnow`` and ``UTCDateTime`` are defined in :mod:`core.orm` (below the
audit log, which this module wires into every session) and re-exported here.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

from flask import current_app, g, has_app_context
from sqlalchemy import BigInteger, Numeric, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from werkzeug.local import LocalProxy

from core.audit.recorder import install_listeners
from core.config import database_options
from core.orm import NAMING_CONVENTION, Base, UTCDateTime, metadata, utcnow

__all__ = [
    "NAMING_CONVENTION", "Base", "ExactDecimal", "Money", "Percent", "Quantity", "UTCDateTime", "close_request_session",
    "dispose_engine", "dispose_engines", "get_engine", "is_sqlite", "make_sessionmaker", "metadata",
    "reading_transactions", "server_engine_arguments", "session", "utcnow",
]


#: The largest integer SQLite stores (signed 64 bits): the scaled value of an exact decimal.
_SQLITE_INTEGER = 2**63 - 1


class ExactDecimal(TypeDecorator):
    """An exact decimal column: the shared logic of :class:`Money`, :class:`Quantity` and :class:`Percent`.

    PostgreSQL stores ``NUMERIC(precision, scale)``; SQLite, which has no decimal type, stores an
    integer scaled by ``10**scale`` so that sums in SQL stay exact. Python always sees ``Decimal``.
    A float is refused (it is not exact), and so is a value with more decimals than the column
    holds (it is never rounded), one too large for ``precision`` digits, and NaN or infinity.
    """

    impl = Numeric
    cache_ok = True
    #: What the column holds, for error messages ("money must not be a float").
    what = "a decimal"
    default_scale = 2

    def __init__(self, scale: int | None = None, precision: int = 18):
        super().__init__()
        scale = self.default_scale if scale is None else scale
        if not 0 <= scale <= precision:
            raise ValueError(f"{type(self).__name__} needs 0 <= scale <= precision")
        self.scale = scale
        self.precision = precision
        self._quantum = Decimal(1).scaleb(-scale)
        self._limit = Decimal(10) ** (precision - scale)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def exact(self, value) -> Decimal:
        """``value`` as the Decimal the column stores; raise TypeError or ValueError if it cannot be."""
        if isinstance(value, (float, bool)):
            raise TypeError(f"{self.what} must not be a {type(value).__name__}")
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(f"{self.what} must be a finite number, not {value}")
        if abs(amount) >= self._limit:
            raise ValueError(f"{value} is too large: {self.what} holds at most "
                             f"{self.precision - self.scale} digits before the decimal point")
        exact = amount.quantize(self._quantum)
        if exact != amount:
            raise ValueError(f"{value} has more than {self.scale} decimals")
        return exact

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        exact = self.exact(value)
        if dialect.name == "sqlite":
            scaled = int(exact.scaleb(self.scale))
            if not -_SQLITE_INTEGER <= scaled <= _SQLITE_INTEGER:  # beyond 18 digits in all
                raise ValueError(f"{value} is too large for {self.what} on SQLite")
            return scaled
        return exact

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale).quantize(self._quantum)
        return Decimal(value).quantize(self._quantum)

    def coerce_compared_value(self, op, value):
        return self


class Money(ExactDecimal):
    """An exact amount of money: ``Money()`` holds cents (2 decimals), ``Money(scale=6)`` a rate."""

    cache_ok = True
    what = "money"
    default_scale = 2


class Quantity(ExactDecimal):
    """An exact quantity in a unit's precision: up to 6 decimals (the default), fewer per column
    (``Quantity(scale=3)`` for kilograms to the gram)."""

    cache_ok = True
    what = "a quantity"
    default_scale = 6


class Percent(ExactDecimal):
    """An exact percentage, e.g. ``Decimal("12.5")`` for 12.5 %: 4 decimals by default
    (``Percent(scale=2)`` for a discount in hundredths of a percent)."""

    cache_ok = True
    what = "a percentage"
    default_scale = 4


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


def server_engine_arguments(url: str, options: dict | None = None) -> dict:
    """The ``create_engine`` arguments for a server database at ``url``, from ``options``
    (default :func:`core.config.database_options`, read from the environment)."""
    options = database_options() if options is None else options
    arguments = {"pool_pre_ping": True, "pool_size": options["pool_size"], "max_overflow": options["max_overflow"]}
    if not options["prepared_statements"] and make_url(url).get_driver_name() == "psycopg":
        # Behind PgBouncer in transaction mode each transaction may run on another server
        # connection: a statement psycopg prepared on one is missing (or already exists) on the next.
        arguments["connect_args"] = {"prepare_threshold": None}
    return arguments


def get_engine(url: str) -> Engine:
    """The process-wide engine for ``url`` (created once, shared by every app rebuild).

    A server database's pool and prepared statements follow the ``KONTOR_DB_*`` settings
    (:func:`core.config.database_options`) at the time the engine is made.
    """
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(url, poolclass=NullPool if ":memory:" not in url else None)
                _configure_sqlite(engine)
            else:
                engine = create_engine(url, **server_engine_arguments(url))
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
    """A sessionmaker whose sessions carry Kontor's audit hooks and its company scope and record rules."""
    from core.company.scope import install_scope_listeners
    from core.jobs.listeners import install_job_listeners

    factory = sessionmaker(bind=engine, expire_on_commit=False)
    install_listeners(factory)
    install_scope_listeners(factory)
    install_job_listeners(factory)
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
