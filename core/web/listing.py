"""Keyset-paged, searchable, sortable lists: the query side of the list view building block."""
from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement


@dataclass(frozen=True)
class Column:
    """A column of a list view: ``key`` is the attribute shown, ``sort`` its sort key if sortable."""

    key: str
    label: str
    sort: str | None = None
    link: bool = False
    format: str | None = None  # a Jinja filter name: money, date, number…


@dataclass
class Page:
    """One page of a list: its rows, the cursor of the next page, and the request's arguments."""

    rows: list[Any]
    next_cursor: str | None
    sort: str
    query: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    first: bool = True

    def args(self, **changes) -> dict[str, str]:
        """The query-string arguments of this page, with ``changes`` applied (None drops one)."""
        args = {"q": self.query, "sort": self.sort, **self.filters}
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "")}


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for the position after a row with these sort values."""
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The sort values in ``cursor``, or None when it is missing or malformed."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError):
        return None
    return values if isinstance(values, list) else None


def keyset_page(
    db: Session,
    stmt: Select,
    *,
    sort_keys: dict[str, ColumnElement],
    id_column: ColumnElement,
    sort: str,
    cursor: str | None,
    size: int,
    query: str = "",
    filters: dict[str, str] | None = None,
) -> Page:
    """Run ``stmt`` sorted by ``sort`` (a key of ``sort_keys``, ``-`` prefix for descending).

    Pages are cut by the last row's (sort value, id), so every page costs the same at any depth
    when an index covers the sort key and the id.
    """
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in sort_keys:
        key, descending = next(iter(sort_keys)), False
        sort = key
    column = sort_keys[key]
    after = _position(cursor, column)
    if after is not None:
        value, last_id = after
        # A row-value comparison, with the sort column bounded on its own too, lets the index seek
        # straight to the position instead of filtering every earlier row.
        position, boundary = tuple_(column, id_column), tuple_(value, last_id)
        if descending:
            stmt = stmt.where(column <= value, position < boundary)
        else:
            stmt = stmt.where(column >= value, position > boundary)
    order = (column.desc(), id_column.desc()) if descending else (column.asc(), id_column.asc())
    stmt = stmt.add_columns(column.label("_sort_value")).order_by(*order).limit(size + 1)
    result = db.execute(stmt).all()
    rows = [r[0] for r in result[:size]]
    next_cursor = None
    if len(result) > size:
        last = result[size - 1]
        last_row = last[0]
        next_cursor = encode_cursor([_jsonable(last[-1]), getattr(last_row, id_column.key)])
    return Page(rows=rows, next_cursor=next_cursor, sort=sort, query=query, filters=dict(filters or {}),
                first=after is None)


def _position(cursor: str | None, column: ColumnElement) -> tuple[Any, int] | None:
    """The (sort value, id) a cursor points after, typed like ``column``; None if malformed."""
    after = decode_cursor(cursor)
    if after is None or len(after) != 2 or not isinstance(after[1], int):
        return None
    value, last_id = after
    try:
        python_type = getattr(column.type, "impl_instance", column.type).python_type
    except NotImplementedError:
        python_type = object
    if python_type is str and not isinstance(value, str):
        return None
    if isinstance(value, str):
        try:
            # timestamps and decimals travel in the cursor as text
            if python_type is datetime:
                value = datetime.fromisoformat(value)
            elif python_type is date:
                value = date.fromisoformat(value)
            elif python_type is Decimal:
                value = Decimal(value)
        except (ValueError, ArithmeticError):
            return None
    return value, last_id


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (int, str, float, bool)):
        return value
    return str(value)
