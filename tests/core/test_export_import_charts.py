"""The shared building blocks of lists and reports: exports, CSV reading and charts."""
import io
from decimal import Decimal

import openpyxl
import pytest
from flask import Flask
from flask_babel import Babel

from core import KontorError, charts, export_response, map_rows, read_csv
from core.web.export import neutralise, to_csv

COLUMNS = [("name", "Name"), ("amount", "Amount")]
HOSTILE = ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.fixture
def request_context():
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_is_quoted(text):
    assert neutralise(text) == "'" + text


def test_numbers_and_plain_text_stay_as_they_are():
    assert neutralise(Decimal("-5.00")) == Decimal("-5.00")
    assert neutralise("Nordlys ApS") == "Nordlys ApS"


def test_csv_export_neutralises_and_keeps_accents():
    data = to_csv(COLUMNS, [{"name": "=cmd|' /C calc'!A0", "amount": Decimal("1.50")}, ("Ærø Ost", Decimal("-2"))])
    text = data.decode("utf-8-sig")
    assert text.splitlines() == ["Name,Amount", "'=cmd|' /C calc'!A0,1.50", "Ærø Ost,-2"]


def test_xlsx_export_is_a_workbook_with_quoted_formulas(request_context):
    response = export_response("leads 2026", COLUMNS, [{"name": h, "amount": Decimal("3.25")} for h in HOSTILE], "xlsx")
    assert response.headers["Content-Disposition"] == 'attachment; filename="leads-2026.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Name", "Amount"]
    assert [row[0] for row in rows[1:-1]] == ["'" + h for h in HOSTILE[:-1]]
    assert rows[-1][0].startswith("'")  # (XLSX stores a lone carriage return as a line feed)
    assert all(row[1] == 3.25 for row in rows[1:])


def test_another_format_is_refused(request_context):
    with pytest.raises(KontorError) as caught:
        export_response("x", COLUMNS, [], "pdf")
    assert caught.value.field == "format"


def test_semicolon_csv_in_windows_1252_with_blank_lines():
    parsed = read_csv("Navn;E-mail\nÅse Holm;ase@example.dk\n\n;\nBo;bo@example.dk\n".encode("cp1252"))
    assert parsed.headers == ["Navn", "E-mail"]
    assert parsed.delimiter == ";" and parsed.encoding == "cp1252"
    mapping = parsed.guess_mapping({"name": ("navn",), "email": ("e-mail", "mail")})
    assert mapping == {"name": "Navn", "email": "E-mail"}
    assert map_rows(parsed, mapping) == [(2, {"name": "Åse Holm", "email": "ase@example.dk"}),
                                         (5, {"name": "Bo", "email": "bo@example.dk"})]


def test_utf8_with_bom_and_short_rows():
    parsed = read_csv("\ufeffname,city\nA\n".encode("utf-8"))
    assert parsed.headers == ["name", "city"]
    assert map_rows(parsed, {"name": "name", "city": "city"}) == [(2, {"name": "A", "city": ""})]


@pytest.mark.parametrize("data, message", [
    (b"", "empty"), (b"\x00\x01binary", "not a CSV"), (b"a,a\n1,2\n", "distinct"),
])
def test_unreadable_files_are_refused_naming_the_file(data, message):
    with pytest.raises(KontorError) as caught:
        read_csv(data)
    assert caught.value.field == "file" and message in str(caught.value)


def test_mapping_to_a_missing_column_names_the_field():
    with pytest.raises(KontorError) as caught:
        map_rows(read_csv(b"a,b\n1,2\n"), {"email": "mail"})
    assert caught.value.field == "map_email"


def test_bar_chart_is_accessible_svg_with_the_figures(request_context):
    html = str(charts.bar_chart(["Jan", "Feb"], [("Income", [Decimal("1200.50"), 800]), ("Expenses", [-300, 0])],
                                title="Profit <and> loss", money_currency="DKK"))
    assert '<svg viewBox="0 0 640 260" role="img"' in html
    assert "<title>Profit &lt;and&gt; loss (DKK)</title>" in html
    assert html.count("<rect ") == 4
    assert "DKK\xa01,200.50" in html or "DKK1,200.50" in html
    assert "<summary>Show the figures</summary>" in html


def test_line_and_funnel_charts(request_context):
    line = str(charts.line_chart(["1", "2", "3"], [("Cash", [1, 5, -2])], title="Cash"))
    assert line.count("<circle ") == 3 and "<polyline" in line
    funnel = str(charts.funnel_chart([("New", 10), ("Won", 0)], title="Pipeline"))
    assert funnel.count("<rect ") == 2 and ">Won<" in funnel
