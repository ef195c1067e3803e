"""Keyset-paged, searchable, sortable lists: the query side of the list view building block."""
from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, or_, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from core.errors import KontorError
from core.i18n import gettext as _

#: The range of a 64-bit integer: the widest integer either database compares without overflow.
_INT_RANGE = range(-(2**63), 2**63)
#: The longest text a cursor may carry as a sort value.
_MAX_TEXT = 1000


class ListArgumentError(KontorError):
    """A list's ``sort``, ``after`` (cursor) or ``format`` argument is not one the list knows.

    A 422 naming the argument: the API answers it as problem+json, a page as an error page.
    """

    status = 422


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
    except (ValueError, RecursionError):  # bad base64, bad UTF-8 and bad JSON are all ValueErrors
        return None
    return values if isinstance(values, list) else None


def _bad_cursor() -> ListArgumentError:
    return ListArgumentError(_("This page link is no longer valid: start again from the first page."), field="after")


def sort_order(sort: str | None, sort_keys: dict[str, ColumnElement]) -> tuple[str, bool]:
    """The sort key and direction ``sort`` asks for (``-`` prefix for descending).

    An empty ``sort`` is the first key, ascending; a key the list does not have is a
    :class:`ListArgumentError` naming ``sort``.
    """
    if not sort:
        return next(iter(sort_keys)), False
    descending = sort.startswith("-")
    key = sort[1:] if descending else sort
    if key not in sort_keys:
        raise ListArgumentError(_("This list cannot be sorted by %(sort)s. Choose one of: %(keys)s.",
                                  sort=sort[:50], keys=", ".join(sort_keys)), field="sort")
    return key, descending


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
    when an index covers the sort key and the id. An unknown ``sort`` key, or a ``cursor`` that is
    not one this list's sort could have written, is a :class:`ListArgumentError` (422) naming
    ``sort`` or ``after``; an empty ``cursor`` is the first page.
    """
    key, descending = sort_order(sort, sort_keys)
    sort = f"-{key}" if descending else key
    column = sort_keys[key]
    after = _position(cursor, column, id_column, db)
    nullable = bool(getattr(column, "nullable", False))
    if after is not None:
        stmt = stmt.where(_after(column, id_column, *after, descending=descending, nullable=nullable))
    if nullable:  # empty values last going up, first going down, the same on both backends
        order = ((column.desc().nulls_first(), id_column.desc()) if descending
                 else (column.asc().nulls_last(), id_column.asc()))
    else:
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


def _after(column: ColumnElement, id_column: ColumnElement, value: Any, last_id: int, *,
           descending: bool, nullable: bool) -> ColumnElement:
    """The rows that come after (``value``, ``last_id``) in the list's order.

    A row-value comparison, with the sort column bounded on its own too, lets the index seek
    straight to the position instead of filtering every earlier row. Empty (NULL) values of a
    nullable column sort after every value going up and before them going down.
    """
    if value is None:
        if descending:
            return or_(and_(column.is_(None), id_column < last_id), column.is_not(None))
        return and_(column.is_(None), id_column > last_id)
    position, boundary = tuple_(column, id_column), tuple_(value, last_id)
    if descending:
        return and_(column <= value, position < boundary)
    seek = and_(column >= value, position > boundary)
    return or_(seek, column.is_(None)) if nullable else seek


def _position(cursor: str | None, column: ColumnElement, id_column: ColumnElement,
              db: Session) -> tuple[Any, int] | None:
    """The (sort value, id) ``cursor`` points after, typed like ``column``; None without a cursor.

    A cursor is client input: one that does not decode to ``[value, id]`` with a value of the sort
    column's type (and one the column can store) is refused before it reaches the database.
    """
    if not cursor:
        return None
    after = decode_cursor(cursor)
    if after is None or len(after) != 2:
        raise _bad_cursor()
    value, last_id = after
    if not _is_int(last_id):
        raise _bad_cursor()
    value = _typed(value, column)
    _check_binds(value, column, db)
    _check_binds(last_id, id_column, db)
    return value, last_id


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in _INT_RANGE


def _python_type(column: ColumnElement) -> type:
    try:
        return getattr(column.type, "impl_instance", column.type).python_type
    except NotImplementedError:  # an expression of no declared type (lower(name))
        return object


def _typed(value: Any, column: ColumnElement) -> Any:
    """``value`` from a cursor as the Python value ``column`` compares with, or a 422."""
    if value is None:
        return None
    python_type = _python_type(column)
    if isinstance(value, str):
        if len(value) > _MAX_TEXT or "\x00" in value:
            raise _bad_cursor()
        try:
            value.encode("utf-8")  # a lone surrogate escaped in the JSON is not text
        except UnicodeEncodeError:
            raise _bad_cursor() from None
    try:
        if python_type is str or python_type is object:
            ok = isinstance(value, str) or (python_type is object and _is_int(value))
            if not ok:
                raise ValueError
            return value
        if python_type is int:
            if not _is_int(value):
                raise ValueError
            return value
        if not isinstance(value, str):  # timestamps, dates and decimals travel as text
            raise ValueError
        if python_type is datetime:
            return datetime.fromisoformat(value)
        if python_type is date:
            return date.fromisoformat(value)
        if python_type is Decimal:
            number = Decimal(value)
            if not number.is_finite():
                raise ValueError
            return number
    except (ValueError, ArithmeticError):
        raise _bad_cursor() from None
    raise _bad_cursor()  # a sort column of a type cursors do not carry


def _check_binds(value: Any, column: ColumnElement, db: Session) -> None:
    """Refuse ``value`` when ``column``'s type would not bind it (a naive time for an aware
    column, more decimals or digits than a money column holds)."""
    if value is None:
        return
    try:
        process = column.type.bind_processor(db.get_bind().dialect)
        if process is not None:
            bound = process(value)
            if isinstance(bound, int) and bound not in _INT_RANGE:
                raise OverflowError
    except (TypeError, ValueError, ArithmeticError):
        raise _bad_cursor() from None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (int, str, float, bool)):
        return value
    return str(value)
