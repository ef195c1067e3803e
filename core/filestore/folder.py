"""The folder backend: objects as files under one folder (by default ``<instance>/files``)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from core.filestore.keys import check_key

CHUNK = 1024 * 1024


class FolderStorage:
    """Objects kept as files under ``root``: readable by the instance's owner only (files 0600,
    folders 0700), written whole or not at all (a temporary file renamed into place)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"FolderStorage({str(self.root)!r})"

    @property
    def url(self) -> str:
        """The storage URL of this folder (``file:///…``)."""
        return self.root.resolve().as_uri()

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def put(self, key: str, data: bytes | BinaryIO, content_type: str = "application/octet-stream") -> None:
        """Store ``data`` (bytes or a binary file) under ``key``, replacing what was there.

        The folder backend keeps no content type: the caller records it (attachments do)."""
        path = self._path(key)
        self._make_folders(path.parent)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".put-")  # "." never starts a key
        try:
            with os.fdopen(fd, "wb") as file:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    file.write(data)
                else:
                    shutil.copyfileobj(data, file, CHUNK)
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _make_folders(self, folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for made in reversed(missing):
            made.mkdir(mode=0o700, exist_ok=True)

    def open(self, key: str) -> BinaryIO:
        """The object under ``key`` as a binary stream (:class:`FileNotFoundError` when there is none)."""
        return self._path(key).open("rb")

    def read(self, key: str) -> bytes:
        """The whole object under ``key`` (:class:`FileNotFoundError` when there is none)."""
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Remove the object under ``key``; nothing happens when there is none."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        """The size in bytes of the object under ``key`` (:class:`FileNotFoundError` when there is none)."""
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return path.stat().st_size

    def keys(self, prefix: str) -> list[str]:
        """The keys stored under ``prefix`` (a folder of keys), sorted."""
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return sorted(f"{prefix}/{p.relative_to(base).as_posix()}" for p in base.rglob("*")
                      if p.is_file() and not p.name.startswith("."))
