"""Storage keys: made by Kontor, checked before any backend sees them.

A key is a relative, slash-separated path of plain segments (``attachments/2026/12/<uuid>``). A
user's file name never becomes a key; it is kept beside the stored object for display only.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

#: One segment: starts with a letter or digit (so never ``.`` or ``..``), then letters, digits, ``._-``.
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_KEY = re.compile(rf"^{_SEGMENT}(/{_SEGMENT})*$")
MAX_KEY_LENGTH = 512


class InvalidKey(ValueError):
    """A key that is not a plain relative path Kontor could have made."""


def check_key(key: str) -> str:
    """``key`` when it is valid; else :class:`InvalidKey` (absolute, ``..``, empty segments, odd characters)."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY.match(key):
        raise InvalidKey(f"invalid storage key {key!r}: a relative path of plain segments is expected")
    return key


def new_key(prefix: str, *, now: datetime | None = None) -> str:
    """A fresh, unguessable key under ``prefix`` and the year and month: ``<prefix>/2026/12/<uuid>``."""
    now = now or datetime.now(timezone.utc)
    return check_key(f"{check_key(prefix)}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}")
