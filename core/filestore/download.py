"""A stored object as a download: streamed, never shown inline, named safely."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, stream_with_context

from core.filestore.folder import CHUNK


def content_disposition(filename: str) -> str:
    """``attachment`` with ``filename`` for every browser: an ASCII fallback and the exact name as
    UTF-8 (RFC 6266 with RFC 5987's ``filename*``); quotes, slashes and controls cannot break out."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\/;' else "_" for c in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def send_stored(store, key: str, filename: str, content_type: str, size: int | None = None) -> Response:
    """A response streaming the object under ``key`` as an attachment named ``filename``.

    ``content_type`` is what Kontor found in the bytes, never what a browser claimed; with
    ``X-Content-Type-Options: nosniff`` no browser second-guesses it. :class:`FileNotFoundError`
    when the object is gone.
    """
    stream = store.open(key)

    def chunks():
        try:
            while chunk := stream.read(CHUNK):
                yield chunk
        finally:
            stream.close()

    response = Response(stream_with_context(chunks()), mimetype=None, content_type=content_type,
                        direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if size is not None:
        response.content_length = size
    return response
