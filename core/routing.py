"""The URL converters of Kontor's apps (also used to read a module's routes before it is active)."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter


class RecordIdConverter(IntegerConverter):
    """``<int:…>`` in Kontor's URLs: an id beyond the database's INTEGER range matches no route
    (404), instead of failing in the database."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)
