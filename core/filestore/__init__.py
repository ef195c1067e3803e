"""Files: where Kontor keeps attachments, exports and module archives, the same for every host.

One backend per instance, chosen by ``KONTOR_STORAGE_URL`` (app config ``STORAGE_URL``):

- ``file:///srv/kontor/files``: a folder (the default: ``<instance>/files``), for one host;
- ``s3://ACCESS:SECRET@host:port/bucket[/prefix]?secure=0&region=eu-central-1``: a bucket of any
  S3-compatible store, which several hosts share. Without ``ACCESS:SECRET@`` the keys come from
  ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` (or boto3's other sources); ``secure=0``
  speaks plain HTTP (a store on the same network); ``region`` defaults to ``us-east-1``.

:func:`storage` gives the app's backend: ``put(key, data, content_type)``, ``open(key)`` (a binary
stream), ``read(key)``, ``delete(key)``, ``exists(key)``, ``size(key)``, ``keys(prefix)``. Keys are
made by Kontor (:func:`new_key`) and checked on every call; a user's file name is never a path.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from core.filestore.folder import FolderStorage
from core.filestore.keys import InvalidKey, check_key, new_key
from core.filestore.transaction import delete_after_commit, delete_on_rollback

__all__ = ["FolderStorage", "InvalidKey", "S3Storage", "Storage", "check_key", "default_url",
           "delete_after_commit", "delete_on_rollback", "new_key",
           "open_storage", "storage"]



class Storage(Protocol):
    """What every backend offers (:class:`FolderStorage`, :class:`~core.filestore.s3.S3Storage`)."""

    def put(self, key: str, data: bytes | BinaryIO, content_type: str = ...) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def keys(self, prefix: str) -> list[str]: ...


def default_url(instance_path: Path | str) -> str:
    """The storage URL of an instance that configures none: the folder ``<instance>/files``."""
    return (Path(instance_path).resolve() / "files").as_uri()


def _flag(value: str, name: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"KONTOR_STORAGE_URL: {name} must be 1 or 0, not {value!r}")


@lru_cache(maxsize=16)
def open_storage(url: str) -> Storage:
    """The backend a storage URL names (one per URL and process: a boto3 client is reused)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError(f"KONTOR_STORAGE_URL: a folder is file:///absolute/path, not {url!r}")
        return FolderStorage(unquote(parts.path))
    if parts.scheme == "s3":
        return _s3(parts)
    raise ValueError(f"KONTOR_STORAGE_URL must start with file:// or s3://, not {parts.scheme or url!r}")


def _s3(parts):
    from core.filestore.s3 import S3Storage

    bucket, _, prefix = parts.path.lstrip("/").partition("/")
    if not parts.hostname or not bucket:
        raise ValueError("KONTOR_STORAGE_URL: an S3 store is s3://[ACCESS:SECRET@]host[:port]/bucket[/prefix]")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"secure", "region"})
    if unknown:
        raise ValueError(f"KONTOR_STORAGE_URL: unknown option {', '.join(unknown)} (secure, region)")
    scheme = "https" if _flag(query.get("secure", "1"), "secure") else "http"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    endpoint = f"{scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    return S3Storage(endpoint, bucket, prefix=unquote(prefix), region=query.get("region"),
                     access_key=unquote(parts.username) if parts.username else None,
                     secret_key=unquote(parts.password) if parts.password else None)


def storage() -> Storage:
    """The app's storage backend (``STORAGE_URL``); outside an app, the environment's
    (``KONTOR_STORAGE_URL``, else ``<KONTOR_INSTANCE>/files``)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return open_storage(current_app.config["STORAGE_URL"])
    url = os.environ.get("KONTOR_STORAGE_URL") or default_url(os.environ.get("KONTOR_INSTANCE", "instance"))
    return open_storage(url)


def __getattr__(name: str):
    if name == "S3Storage":  # boto3 is imported only by instances that use S3
        from core.filestore.s3 import S3Storage

        return S3Storage
    raise AttributeError(name)
