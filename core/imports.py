"""Reading CSV files that people upload: encoding, delimiter and header found, columns mapped.

Spreadsheets export CSV in many dialects (``;`` in much of Europe, a BOM, Windows-1252); this
reads them all the same way, so every importer (leads, bank statements, rates, a chart of
accounts) only deals with mapped rows and reports errors by line number.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from core.errors import KontorError
from core.i18n import gettext as _

DELIMITERS = ",;\t|"
MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class CsvFile:
    """A parsed CSV file: its header row, its data rows (lists of text) and the dialect found."""

    headers: list[str]
    rows: list[list[str]]
    delimiter: str
    encoding: str
    line_numbers: tuple[int, ...] = ()  # the file's line of each row (the header is line 1)

    def guess_mapping(self, fields: dict[str, tuple[str, ...]]) -> dict[str, str]:
        """For each field, the header that looks like it: ``fields`` maps a field to names it goes by."""
        normalised = {_normalise(h): h for h in self.headers}
        mapping = {}
        for field, names in fields.items():
            for name in (field, *names):
                header = normalised.get(_normalise(name))
                if header is not None:
                    mapping[field] = header
                    break
        return mapping


def _normalise(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise KontorError(_("The file is not text in a known encoding (UTF-8 or Windows-1252)."), field="file")


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(DELIMITERS, key=first.count) if first else ","


def read_csv(data: bytes) -> CsvFile:
    """Parse an uploaded CSV file; raises :class:`KontorError` (field ``file``) if it cannot be read.

    The first non-empty row is the header. Blank rows are skipped; cells are stripped.
    """
    if not data:
        raise KontorError(_("The file is empty."), field="file")
    if len(data) > MAX_BYTES:
        raise KontorError(_("The file is larger than %(size)s MB.", size=MAX_BYTES // (1024 * 1024)), field="file")
    if b"\x00" in data[:4096]:
        raise KontorError(_("This is not a CSV file."), field="file")
    text, encoding = _decode(data)
    delimiter = _delimiter(text)
    try:
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        raise KontorError(_("The file is not valid CSV: %(error)s", error=str(exc)), field="file") from exc
    numbered = [(number, row) for number, row in enumerate(rows, start=1) if any(row)]
    if not numbered:
        raise KontorError(_("The file has no rows."), field="file")
    headers = numbered[0][1]
    if len(set(headers)) != len(headers) or not all(headers):
        raise KontorError(_("Every column of the first row needs a distinct name."), field="file")
    return CsvFile(headers=headers, rows=[row for _n, row in numbered[1:]], delimiter=delimiter,
                   encoding=encoding, line_numbers=tuple(n for n, _row in numbered[1:]))


def map_rows(csv_file: CsvFile, mapping: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
    """The rows as ``(line number in the file, {field: text})`` using ``mapping`` (field → header).

    Line numbers are the file's (the header is line 1), so a user finds a reported row where it
    is. Raises :class:`KontorError` naming a mapped header the file does not have.
    """
    index = {}
    for field, header in mapping.items():
        if not header:
            continue
        if header not in csv_file.headers:
            raise KontorError(_("The file has no column %(column)s.", column=header), field=f"map_{field}")
        index[field] = csv_file.headers.index(header)
    mapped = []
    numbers = csv_file.line_numbers or range(2, len(csv_file.rows) + 2)
    for number, row in zip(numbers, csv_file.rows):
        mapped.append((number, {field: (row[i] if i < len(row) else "") for field, i in index.items()}))
    return mapped
