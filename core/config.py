"""Configuration from the environment: the names operators and scripts rely on."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

LANGUAGES = ("en", "da", "de", "pl", "fi", "sv")
#: The largest request body (and so upload) the server reads unless configured otherwise.
DEFAULT_MAX_CONTENT_LENGTH = 16 * 1024 * 1024
#: The largest attachment accepted unless configured otherwise.
DEFAULT_ATTACHMENT_MAX_SIZE = 10 * 1024 * 1024
#: The connections each process keeps open to a server database, and how many more it may open at a peak.
DEFAULT_DB_POOL_SIZE = 5
DEFAULT_DB_MAX_OVERFLOW = 10
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingError(ValueError):
    """A ``KONTOR_*`` variable holds a value Kontor cannot use; the message names the variable."""


def _whole_number(environ, name: str, default: int, minimum: int) -> int:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingError(f"{name} must be at least {minimum}, not {value}")
    return value


def _switch(environ, name: str, default: bool) -> bool:
    raw = (environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingError(f"{name} must be 1 or 0 (on or off), not {environ.get(name)!r}")


def database_options(environ=None) -> dict:
    """The connection settings of a server database (PostgreSQL), from ``KONTOR_DB_*`` variables.

    - ``KONTOR_DB_POOL_SIZE``: connections each process keeps open (default 5);
    - ``KONTOR_DB_MAX_OVERFLOW``: connections it may open beyond those at a peak (default 10);
    - ``KONTOR_DB_PREPARED_STATEMENTS``: ``1`` (default) lets psycopg prepare statements on the
      server; ``0`` when PgBouncer in transaction mode sits in between, where a prepared statement
      would land on another server connection.

    Raises :class:`SettingError` naming the variable when a value is not usable.
    """
    environ = os.environ if environ is None else environ
    return {
        "pool_size": _whole_number(environ, "KONTOR_DB_POOL_SIZE", DEFAULT_DB_POOL_SIZE, 1),
        "max_overflow": _whole_number(environ, "KONTOR_DB_MAX_OVERFLOW", DEFAULT_DB_MAX_OVERFLOW, 0),
        "prepared_statements": _switch(environ, "KONTOR_DB_PREPARED_STATEMENTS", True),
    }


def uses_sqlite(database_url: str) -> bool:
    """Whether ``database_url`` names an embedded SQLite database (one host) rather than a server."""
    return database_url.startswith("sqlite")


def _secret_key(instance: Path) -> str:
    """The configured secret, or one generated once and kept in the instance folder."""
    configured = os.environ.get("KONTOR_SECRET_KEY")
    if configured:
        return configured
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(overrides: dict | None = None) -> dict:
    """Settings read from ``KONTOR_*`` variables, then ``overrides`` (used by tests).

    - ``KONTOR_INSTANCE``: the instance folder (default ``./instance``);
    - ``KONTOR_DATABASE_URL``: default a SQLite file in the instance folder;
    - ``KONTOR_SECRET_KEY``: default a random key kept in the instance folder;
    - ``KONTOR_MARKETPLACE``: the catalog's URL or folder;
    - ``KONTOR_PLUGINS``: extra plugin modules to load, comma-separated (development);
    - ``KONTOR_MAX_CONTENT_LENGTH``: the largest request body in bytes (default 16 MiB); larger
      requests and uploads are refused with a 413;
    - ``KONTOR_DB_POOL_SIZE``, ``KONTOR_DB_MAX_OVERFLOW``, ``KONTOR_DB_PREPARED_STATEMENTS``: see
      :func:`database_options` (read where the engine is made, :func:`core.db.get_engine`);
    - ``KONTOR_STORAGE_URL``: where files are kept (attachments, module archives): ``file:///folder``
      (default ``<instance>/files``) or ``s3://ACCESS:SECRET@host:port/bucket?secure=0`` (see
      :mod:`core.filestore`);
    - ``KONTOR_ATTACHMENT_MAX_SIZE``: the largest attachment in bytes (default 10 MiB).
    """
    overrides = dict(overrides or {})
    instance = Path(overrides.pop("INSTANCE_PATH", None) or os.environ.get("KONTOR_INSTANCE", "instance")).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    config = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": os.environ.get("KONTOR_DATABASE_URL") or f"sqlite:///{instance / 'kontor.db'}",
        "MARKETPLACE": os.environ.get("KONTOR_MARKETPLACE", ""),
        "EXTRA_PLUGINS": tuple(p.strip() for p in os.environ.get("KONTOR_PLUGINS", "").split(",") if p.strip()),
        "LANGUAGES": LANGUAGES,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_SECONDS": 300,
        "PAGE_SIZE": 25,
        "MAX_CONTENT_LENGTH": int(os.environ.get("KONTOR_MAX_CONTENT_LENGTH") or DEFAULT_MAX_CONTENT_LENGTH),
        # background jobs (core.jobs): the queue, and how quickly a dead worker's job is taken over
        "QUEUE_URL": os.environ.get("KONTOR_QUEUE_URL", ""),
        "JOB_STALE_SECONDS": float(os.environ.get("KONTOR_JOB_STALE_SECONDS") or 60),
        "JOB_HEARTBEAT_SECONDS": float(os.environ.get("KONTOR_JOB_HEARTBEAT_SECONDS") or 5),
        "JOB_RETRY_SECONDS": float(os.environ.get("KONTOR_JOB_RETRY_SECONDS") or 30),
        "SCHEDULER_TICK": float(os.environ.get("KONTOR_SCHEDULER_TICK") or 30),
        "STORAGE_URL": os.environ.get("KONTOR_STORAGE_URL") or (instance / "files").as_uri(),
        "ATTACHMENT_MAX_SIZE": int(os.environ.get("KONTOR_ATTACHMENT_MAX_SIZE") or DEFAULT_ATTACHMENT_MAX_SIZE),
    }
    config.update(overrides)
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key(instance)
    return config
