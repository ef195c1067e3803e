"""Lists and reports as CSV or XLSX downloads, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read by a
spreadsheet as a formula; such text is written with a leading apostrophe. Numbers stay numbers.

An export of more rows than ``EXPORT_JOB_ROWS`` (app config) is written by a job instead, and the
page answers with the job's progress and, when done, a download link (:mod:`core.exports.jobs`).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice

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
    return _csv_file(columns, _cells(columns, rows))


def _csv_file(columns: Sequence[tuple[str, str]], cells: Iterable[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(str(label)) for _key, label in columns])
    for row in cells:
        writer.writerow([_csv_text(cell) for cell in row])
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
    return _xlsx_file(columns, _cells(columns, rows), title)


def _xlsx_file(columns: Sequence[tuple[str, str]], cells: Iterable[list], title: str) -> bytes:
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
    for values in cells:
        row = []
        for value in values:
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

    On a page (a signed-in GET outside the API), rows beyond ``EXPORT_JOB_ROWS`` are not read
    here: the export becomes a ``core.export`` job and the answer is a redirect to its page. Give
    ``rows`` as a generator over the query where the list may be long, so that no more than that
    many rows are read in the request.
    """
    from core.exports import jobs

    if fmt not in FORMATS:
        raise KontorError(_("Choose CSV or XLSX."), field="format", status=422)
    safe_stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in filename_stem) or "export"
    run = jobs.running_export()
    if run is not None:
        return run.write(f"{safe_stem}.{fmt}", _cells(columns, rows), lambda cells: _file(columns, cells, fmt, safe_stem))
    limit = jobs.job_threshold()
    if limit is not None:
        rows = iter(rows)
        head = list(islice(rows, limit + 1))
        if len(head) > limit:
            close = getattr(rows, "close", None)
            if close is not None:
                close()  # a generator over a query: its cursor is done with
            return jobs.start_export(safe_stem, fmt)
        rows = chain(head, rows)
    body, mimetype = _file(columns, _cells(columns, rows), fmt, safe_stem)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_stem}.{fmt}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _file(columns: Sequence[tuple[str, str]], cells: Iterable[list], fmt: str, title: str) -> tuple[bytes, str]:
    """The file's bytes and content type."""
    if fmt == "csv":
        return _csv_file(columns, cells), "text/csv; charset=utf-8"
    return _xlsx_file(columns, cells, title), XLSX_TYPE
