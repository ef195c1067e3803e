"""Lookup tables: create, change and delete them and their rows, import and export rows, and the
lookup a rule makes (``lookup('discount_tiers', quantity)``)."""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound
from core.i18n import gettext as _
from core.imports import map_rows, read_csv
from core.rules.library import FunctionFailed
from core.rules.models import KEY_SCALE, VALUE_SCALE, LookupRow, LookupTable

NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
KEY_TYPES = ("text", "number")
MATCHES = ("exact", "bracket")
#: The columns of a lookup table's CSV file, in this order.
CSV_COLUMNS = ("key", "value", "valid_from", "valid_until")
_LIMIT = Decimal(10) ** 12


# -- tables --


def list_tables(db: Session) -> list[LookupTable]:
    """The current company's lookup tables, by name."""
    return list(db.scalars(select(LookupTable).order_by(LookupTable.name)))


def get_table(db: Session, table_id: int) -> LookupTable:
    """The lookup table ``table_id`` of a company in scope, or NotFound."""
    table = db.get(LookupTable, table_id)
    if table is None:
        raise NotFound(_("There is no such lookup table."))
    return table


def table_named(db: Session, name: str) -> LookupTable | None:
    """The current company's lookup table called ``name`` (as rules name it), if there is one."""
    return db.scalar(select(LookupTable).where(LookupTable.name == name))


def create_table(db: Session, *, name: str, title: str, key_type: str = "text", match: str = "exact") -> LookupTable:
    """Create a lookup table; ``name`` is how rules call it and is unique in the company."""
    name = (name or "").strip()
    if not NAME.match(name):
        raise InvalidInput(_("A name is lower-case letters, digits and _, starting with a letter (as rules "
                             "write it: lookup('discount_tiers', quantity))."), field="name")
    if table_named(db, name) is not None:
        raise InvalidInput(_("There is already a lookup table called '%(name)s'.", name=name), field="name")
    table = LookupTable(name=name)
    _set_fields(table, title=title, key_type=key_type, match=match)
    db.add(table)
    db.flush()
    return table


def update_table(db: Session, table: LookupTable, *, title: str, key_type: str, match: str) -> LookupTable:
    """Change a table's title, key type or match (the key type only while it has no rows)."""
    if key_type != table.key_type and table.rows:
        raise InvalidInput(_("The key type cannot change while the table has rows."), field="key_type")
    _set_fields(table, title=title, key_type=key_type, match=match)
    db.flush()
    return table


def _set_fields(table: LookupTable, *, title: str, key_type: str, match: str) -> None:
    title = (title or "").strip()
    if not title:
        raise InvalidInput(_("Give the table a title."), field="title")
    if len(title) > 200:
        raise InvalidInput(_("A title is at most 200 characters long."), field="title")
    if key_type not in KEY_TYPES:
        raise InvalidInput(_("The key type is text or number."), field="key_type")
    if match not in MATCHES:
        raise InvalidInput(_("The match is exact or bracket."), field="match")
    if match == "bracket" and key_type != "number":
        raise InvalidInput(_("Bracket match needs number keys."), field="match")
    table.title, table.key_type, table.match = title, key_type, match


def delete_table(db: Session, table: LookupTable) -> None:
    """Delete a table and its rows (rules that read it then fail when evaluated, with a clear error)."""
    db.delete(table)
    db.flush()


# -- rows --


def get_row(db: Session, table: LookupTable, row_id: int) -> LookupRow:
    """Row ``row_id`` of ``table``, or NotFound."""
    row = db.get(LookupRow, row_id)
    if row is None or row.table_id != table.id:
        raise NotFound(_("There is no such row."))
    return row


def add_row(db: Session, table: LookupTable, *, key: Any, value: Any, valid_from: Any = None,
            valid_until: Any = None) -> LookupRow:
    """Add a row; refused if it overlaps a row with the same key on some day."""
    row = LookupRow(company_id=table.company_id)
    _set_row(db, table, row, key=key, value=value, valid_from=valid_from, valid_until=valid_until)
    table.rows.append(row)
    db.flush()
    return row


def update_row(db: Session, table: LookupTable, row: LookupRow, *, key: Any, value: Any, valid_from: Any = None,
               valid_until: Any = None) -> LookupRow:
    """Change a row's key, value or validity."""
    _set_row(db, table, row, key=key, value=value, valid_from=valid_from, valid_until=valid_until)
    db.flush()
    return row


def delete_row(db: Session, row: LookupRow) -> None:
    """Delete a row."""
    db.delete(row)
    db.flush()


def _set_row(db: Session, table: LookupTable, row: LookupRow, **fields: Any) -> None:
    key = _key(table, fields["key"])
    value = _number(fields["value"], "value", VALUE_SCALE)
    valid_from = _date(fields["valid_from"], "valid_from")
    valid_until = _date(fields["valid_until"], "valid_until")
    if valid_from and valid_until and valid_until < valid_from:
        raise InvalidInput(_("The row cannot end before it starts."), field="valid_until")
    for other in table.rows:
        if other is not row and other.key == key and _overlap(other, valid_from, valid_until):
            raise InvalidInput(_("Another row with the key %(key)s is valid on some of these days.", key=key),
                               field="valid_from")
    row.key_text, row.key_number = (None, key) if table.key_type == "number" else (key, None)
    row.value, row.valid_from, row.valid_until = value, valid_from, valid_until


def _overlap(row: LookupRow, start: date | None, end: date | None) -> bool:
    return (row.valid_until is None or start is None or start <= row.valid_until) and \
        (row.valid_from is None or end is None or row.valid_from <= end)


def _key(table: LookupTable, key: Any) -> str | Decimal:
    if table.key_type == "number":
        return _number(key, "key", KEY_SCALE)
    text = str(key if key is not None else "").strip()
    if not text:
        raise InvalidInput(_("Give the row a key."), field="key")
    if len(text) > 200:
        raise InvalidInput(_("A key is at most 200 characters long."), field="key")
    return text


def _number(value: Any, field: str, scale: int) -> Decimal:
    if isinstance(value, (bool, float)):
        value = str(value) if isinstance(value, float) else None
    try:
        number = Decimal(str(value).strip().replace(" ", "")) if value not in (None, "") else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise InvalidInput(_("Enter a number, such as 1250.50."), field=field)
    if abs(number) >= _LIMIT or number != number.quantize(Decimal(1).scaleb(-scale), rounding="ROUND_DOWN"):
        raise InvalidInput(_("A number of up to 12 digits and %(scale)d decimals, please.", scale=scale), field=field)
    return number


def _date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(_("Enter a date as YYYY-MM-DD."), field=field) from None


# -- CSV --


def plain(value: Any) -> str:
    """A stored key or value as typed: no trailing zeros, no exponent (0.125000 → 0.125)."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return "" if value is None else str(value)


def export_rows(table: LookupTable) -> str:
    """The table's rows as CSV text (key, value, valid_from, valid_until)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in table.rows:
        writer.writerow([plain(row.key), plain(row.value), row.valid_from or "", row.valid_until or ""])
    return out.getvalue()


def import_rows(db: Session, table: LookupTable, data: bytes) -> int:
    """Replace the table's rows by those of a CSV file; all or nothing. Returns how many rows it holds.

    A bad line is refused naming its line number and the column.
    """
    parsed = read_csv(data)
    mapping = parsed.guess_mapping({column: (column,) for column in CSV_COLUMNS})
    for column in ("key", "value"):
        if column not in mapping:
            raise InvalidInput(_("The file has no column '%(column)s'.", column=column), field="file")
    for row in list(table.rows):
        table.rows.remove(row)
    db.flush()
    for line, values in map_rows(parsed, mapping):
        try:
            add_row(db, table, key=values.get("key"), value=values.get("value"),
                    valid_from=values.get("valid_from"), valid_until=values.get("valid_until"))
        except InvalidInput as exc:
            raise InvalidInput(_("Line %(line)d, %(column)s: %(message)s", line=line, column=exc.field,
                                 message=exc.message), field="file") from None
    return len(table.rows)


# -- the lookup rules make --


def lookup_value(db: Session, name: str, key: Any, on: date) -> Decimal:
    """The value of table ``name``'s row for ``key`` valid on ``on``; :class:`FunctionFailed` says why if none."""
    table = table_named(db, name)
    if table is None:
        raise FunctionFailed(_("There is no lookup table '%(name)s'.", name=name))
    valid = ((LookupRow.valid_from.is_(None) | (LookupRow.valid_from <= on))
             & (LookupRow.valid_until.is_(None) | (LookupRow.valid_until >= on)))
    query = select(LookupRow.value).where(LookupRow.table_id == table.id, valid)
    if table.key_type == "number":
        if not isinstance(key, Decimal):
            raise FunctionFailed(_("The table '%(name)s' has number keys; %(key)s is not a number.",
                                   name=name, key=key))
        query = _number_key(query, table, key)
    else:
        query = query.where(LookupRow.key_text == str(key))
    value = db.scalar(query) if query is not None else None
    if value is None:
        raise FunctionFailed(_("The table '%(name)s' has no row for %(key)s on %(day)s.", name=name, key=key,
                               day=on.isoformat()))
    return value


def _number_key(query, table: LookupTable, key: Decimal):
    """``query`` narrowed to the row for a number key (None: no row can match). The column holds
    at most 6 decimals and 12 digits, so a key beyond either is brought within before comparing."""
    inside = key.quantize(Decimal(1).scaleb(-KEY_SCALE), rounding="ROUND_FLOOR") if abs(key) < _LIMIT else None
    if table.match == "bracket":
        if inside is None:
            return None if key < 0 else query.order_by(LookupRow.key_number.desc()).limit(1)
        return query.where(LookupRow.key_number <= inside).order_by(LookupRow.key_number.desc()).limit(1)
    if inside is None or inside != key:
        return None
    return query.where(LookupRow.key_number == inside)
