"""Configuration from the environment: the names operators and scripts rely on."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

LANGUAGES = ("en", "da", "de", "pl", "fi", "sv")
#: The largest request body (and so upload) the server reads unless configured otherwise.
DEFAULT_MAX_CONTENT_LENGTH = 16 * 1024 * 1024


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
      requests and uploads are refused with a 413.
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
    }
    config.update(overrides)
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key(instance)
    return config
