"""Lists and reports as CSV or XLSX downloads, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read by a
spreadsheet as a formula; such text is written with a leading apostrophe. Numbers stay numbers.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from flask import Response

from core.errors import KontorError
from core.i18n import gettext as _

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """``value`` made safe for a spreadsheet cell: text that looks like a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cells(columns: Sequence[tuple[str, str]], rows: Iterable) -> Iterable[list]:
    keys = [key for key, _label in columns]
    for row in rows:
        if isinstance(row, Mapping):
            values = [row.get(key) for key in keys]
        elif isinstance(row, Sequence) and not isinstance(row, str):
            values = list(row)
        else:
            values = [getattr(row, key, None) for key in keys]
        yield [neutralise(value) for value in values]


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (date, Decimal)):
        return str(value)
    return str(value)


def to_csv(columns: Sequence[tuple[str, str]], rows: Iterable) -> bytes:
    """The rows as UTF-8 CSV with a BOM (spreadsheets then read the accents right) and a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(str(label)) for _key, label in columns])
    for cells in _cells(columns, rows):
        writer.writerow([_csv_text(cell) for cell in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_value(value):
    if isinstance(value, Decimal):
        return value  # openpyxl writes Decimal as a number
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, (bool, int, float, date)) or value is None:
        return value
    return str(value)


def to_xlsx(columns: Sequence[tuple[str, str]], rows: Iterable, title: str = "Export") -> bytes:
    """The rows as an XLSX workbook of one sheet with a bold header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Export")
    from openpyxl.cell import WriteOnlyCell

    header = []
    for _key, label in columns:
        cell = WriteOnlyCell(sheet, value=neutralise(str(label)))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for cells in _cells(columns, rows):
        row = []
        for value in cells:
            cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
            if isinstance(value, str):
                cell.data_type = "s"  # never let openpyxl read text as a formula
            row.append(cell)
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(filename_stem: str, columns: Sequence[tuple[str, str]], rows: Iterable,
                    fmt: str) -> Response:
    """A download of ``rows`` as ``fmt`` ("csv" or "xlsx"), named ``<filename_stem>.<fmt>``.

    ``columns`` is a list of ``(key, label)``; ``rows`` are mappings, sequences in column order, or
    objects with those attributes. Another format is a :class:`KontorError` (422, field ``format``),
    which the core answers as problem+json or an error page when the view does not catch it.
    """
    if fmt not in FORMATS:
        raise KontorError(_("Choose CSV or XLSX."), field="format", status=422)
    safe_stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in filename_stem) or "export"
    if fmt == "csv":
        body, mimetype = to_csv(columns, rows), "text/csv; charset=utf-8"
    else:
        body, mimetype = to_xlsx(columns, rows, title=safe_stem), XLSX_TYPE
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_stem}.{fmt}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
