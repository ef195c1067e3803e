"""What a file is, read from its first bytes (magic numbers), never from its name or a browser's word.

Recognised: PDF, PNG, JPEG, GIF, WebP, TIFF, ZIP and the office formats inside a zip (OpenDocument
by its ``mimetype`` entry, Office Open XML by its parts), HTML and XML (so that a page posing as an
image is stored as the page it is), and text in UTF-8 (CSV when it is named so). Anything else is
``application/octet-stream``.
"""
from __future__ import annotations

import io
import zipfile

OCTET_STREAM = "application/octet-stream"

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
_OOXML = (("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
          ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
          ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"))
_MARKUP = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<svg", b"<?xml")


def sniff(data: bytes, filename: str = "") -> str:
    """The content type of ``data``; ``filename`` only tells CSV from other text."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04"):
        return _zipped(data)
    return _text(data, filename)


def _zipped(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zipped:
            names = zipped.namelist()
            if names and names[0] == "mimetype":
                kind = zipped.read("mimetype").decode("ascii", "replace").strip()
                if kind.startswith("application/vnd.oasis.opendocument."):
                    return kind
            if "[Content_Types].xml" in names:
                for folder, kind in _OOXML:
                    if any(name.startswith(folder) for name in names):
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError):
        return OCTET_STREAM
    return "application/zip"


def _text(data: bytes, filename: str) -> str:
    if b"\x00" in data:
        return OCTET_STREAM
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return OCTET_STREAM
    start = text.lstrip()[:256].lower().encode("utf-8")
    if start.startswith(b"<?xml") and b"<svg" not in start:
        return "application/xml"
    if any(start.startswith(tag) for tag in _MARKUP):
        return "image/svg+xml" if b"<svg" in start else "text/html"
    if filename.lower().endswith(".csv"):
        return "text/csv"
    return "text/plain"
