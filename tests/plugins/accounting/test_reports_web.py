"""The report pages, their downloads, the JSON API, the dashboard widgets and who may see them."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html import unescape

import pytest
from openpyxl import load_workbook

from core.parties.services import create_party
from core.testing import make_user
from plugins.accounting.ledger import services as ledger
from plugins.accounting.testing import sample_books as build_books

Q1 = "date_from=2026-01-01&date_to=2026-03-31"


@pytest.fixture
def books(app, db):
    return build_books(db)


@pytest.fixture
def viewer(app, client):
    _, password = make_user(app, "viewer", ["accounting_viewer"], "viewer password 1")
    assert client.login("viewer", password).status_code == 302
    return client


def plain(html: str) -> str:
    """The page with money written plainly: "-DKK 73.45" reads "-73.45"."""
    return html.replace("\u2212", "-").replace("DKK", "").replace("\xa0", "")


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def links(html: str, pattern: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html) if re.search(pattern, unescape(href))]


# -- Pages and drill-down --

def test_reports_index_links_every_report(admin_client, app, books):
    page = admin_client.get("/accounting/reports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with app.test_request_context():
        from flask import url_for

        vat = url_for("accounting.vat_report")  # the tax area's report, linked from here
    assert f'href="{vat}"' in html
    for path in ("/accounting/reports/trial-balance", "/accounting/reports/general-ledger",
                 "/accounting/reports/profit-and-loss", "/accounting/reports/balance-sheet",
                 "/accounting/reports/aged/receivables", "/accounting/reports/aged/payables"):
        assert f'href="{path}"' in html
        assert admin_client.get(path).status_code == 200, path


def test_trial_balance_page_drills_down_to_the_ledger(admin_client, books):
    page = admin_client.get(f"/accounting/reports/trial-balance?{Q1}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "11,250.00" in html and "6,118.95" in html
    to_bank = links(html, r"general-ledger/1100\?")
    assert to_bank and all("date_from=2026-01-01" in href and "date_to=2026-03-31" in href for href in to_bank)
    ledger_page = admin_client.get(to_bank[0])
    assert ledger_page.status_code == 200
    ledger_html = ledger_page.get_data(as_text=True)
    assert "10,000.00" in ledger_html and "8,000.00" in ledger_html and "11,250.00" in ledger_html
    (totals_link,) = set(links(ledger_html, r"general-ledger/1100/totals\?"))
    assert f'hx-get="{totals_link.replace("&", "&amp;")}"' in ledger_html  # loaded after the lines
    totals = plain(admin_client.htmx("GET", totals_link).get_data(as_text=True))
    assert all(figure in totals for figure in ("10,000.00", "3,250.00", "2,000.00", "11,250.00"))
    assert "<html" not in totals
    entries = links(ledger_html, r"/accounting/entries/\d+$")
    assert len(entries) == 3  # the salaries, their reversal and the payment
    entry_page = admin_client.get(entries[0])
    assert entry_page.status_code == 200 and "GEN/2026/" in entry_page.get_data(as_text=True)


def test_trial_balance_rolled_up_page(admin_client, books):
    html = admin_client.get(f"/accounting/reports/trial-balance?{Q1}&roll_up=1").get_data(as_text=True)
    assert "11,872.05" in html  # the Assets group


def test_general_ledger_pages_through_an_account(admin_client, db, books):
    specs = [{"journal": "CSH", "date": date(2026, 4, 1) + timedelta(days=i),
              "lines": [{"account": "1110", "debit": "10.00", "credit": "0"},
                        {"account": "6900", "debit": "0", "credit": "10.00"}]} for i in range(12)]
    ledger.post_batch(db, specs)
    db.commit()
    page = admin_client.get("/accounting/reports/general-ledger/1110?date_from=2026-01-01&date_to=2026-12-31&size=5")
    html = page.get_data(as_text=True)
    (next_link,) = links(html, r"after=")
    second = admin_client.get(next_link).get_data(as_text=True)
    # the second page starts after 123.45 out and four times 10.00 in
    assert "-73.45" in plain(second)
    third = admin_client.get(links(second, r"after=")[0]).get_data(as_text=True)
    assert "-3.45" in plain(third) and not links(third, r"after=")


def test_general_ledger_picker_redirects_to_the_account(admin_client, books):
    response = admin_client.get("/accounting/reports/general-ledger?account=1200&date_from=2026-01-01")
    assert response.status_code == 302
    assert "/accounting/reports/general-ledger/1200?date_from=2026-01-01" in response.headers["Location"]
    assert admin_client.get("/accounting/reports/general-ledger/9999").status_code == 404


def test_bad_dates_on_a_page_are_shown_beside_the_field(admin_client, books):
    page = admin_client.get("/accounting/reports/trial-balance?date_from=2026-13-01&date_to=2026-03-31")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'id="e-date_from"' in html and 'aria-invalid="true"' in html
    page = admin_client.get("/accounting/reports/profit-and-loss?date_from=2026-03-01&date_to=2026-01-01")
    assert page.status_code == 422 and 'id="e-date_to"' in page.get_data(as_text=True)


def test_statements_with_comparison_link_to_the_ledger(admin_client, books):
    html = admin_client.get(f"/accounting/reports/profit-and-loss?{Q1}&compare=year").get_data(as_text=True)
    assert "745.50" in html and "622.05" in html
    (to_services,) = set(links(html, r"general-ledger/4100\?.*date_from=2026-01-01"))
    assert "745.50" in admin_client.get(to_services).get_data(as_text=True)
    html = admin_client.get("/accounting/reports/balance-sheet?date_to=2026-03-31&compare=previous").get_data(
        as_text=True)
    assert "11,872.05" in html and "622.05" in html
    assert links(html, r"general-ledger/1200\?")


def test_aged_report_drills_down_to_the_party_open_items(admin_client, db, books):
    html = admin_client.get("/accounting/reports/aged/receivables?on=2026-03-31").get_data(as_text=True)
    assert "Alfa A/S" in html and "745.50" in html
    items = links(html, rf"aged/receivables/{books['alfa'].id}\?on=2026-03-31")
    assert items
    page = admin_client.get(items[0])
    assert page.status_code == 200
    detail = page.get_data(as_text=True)
    assert "SAL/2026/" in detail and "745.50" in detail
    assert admin_client.get("/accounting/reports/aged/debts").status_code == 404
    assert admin_client.get("/accounting/reports/aged/receivables/999999").status_code == 404


# -- Downloads --

def test_trial_balance_csv_and_xlsx(admin_client, books):
    response = admin_client.get(f"/accounting/reports/trial-balance?{Q1}&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = csv_rows(response)
    assert rows[0] == ["Code", "Account", "Opening balance", "Debit", "Credit", "Closing balance"]
    bank = next(row for row in rows if row[0] == "1100")
    assert bank[2:] == ["10000.00", "3250.00", "2000.00", "11250.00"]
    assert rows[-1][1:] == ["Total", "0.00", "6118.95", "6118.95", "0.00"]
    response = admin_client.get(f"/accounting/reports/trial-balance?{Q1}&format=xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    bank = next(row for row in values if row[0] == "1100")
    assert [str(v) for v in bank[2:]] == ["10000", "3250", "2000", "11250"]


def test_exports_neutralise_formulas(admin_client, db, books):
    _ = books
    evil = create_party(db, {"name": "=HYPERLINK(\"http://x\")", "kind": "company"})
    ledger.create_and_post(db, journal="SAL", date=date(2026, 3, 1), lines=[
        {"account": "1200", "debit": "5.00", "credit": "0", "party_id": evil.id, "description": "+cmd"},
        {"account": "4000", "debit": "0", "credit": "5.00", "description": "@sum"}])
    db.commit()
    response = admin_client.get("/accounting/reports/aged/receivables?on=2026-03-31&format=csv")
    text = response.get_data(as_text=True)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text
    response = admin_client.get("/accounting/reports/general-ledger/4000?date_from=2026-01-01&date_to=2026-03-31"
                                "&format=xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "'@sum" in cells and not any(isinstance(c, str) and c.startswith("@") for c in cells)


def test_statement_and_ledger_exports(admin_client, books):
    rows = csv_rows(admin_client.get(f"/accounting/reports/profit-and-loss?{Q1}&compare=previous&format=csv"))
    assert len(rows[0]) == 5
    assert rows[-1][2:] == ["Result", "622.05", "0.00"]
    rows = csv_rows(admin_client.get(f"/accounting/reports/general-ledger/1100?{Q1}&format=csv"))
    assert rows[1][3] == "Opening balance" and rows[1][7] == "10000.00"
    assert [row[7] for row in rows[2:5]] == ["8000.00", "10000.00", "11250.00"]
    assert rows[-1][5:8] == ["3250.00", "2000.00", "11250.00"]
    assert admin_client.get(f"/accounting/reports/trial-balance?{Q1}&format=pdf").status_code == 422


# -- API --

def test_api_trial_balance(api, books):
    response = api.get(f"/api/v1/accounting/reports/trial-balance?{Q1}")
    assert response.status_code == 200
    body = response.get_json()
    bank = next(row for row in body["accounts"] if row["code"] == "1100")
    assert bank == {"account_id": bank["account_id"], "code": "1100", "name": "Bank", "type": "asset", "depth": 0,
                    "is_group": False, "opening": "10000.00", "debit": "3250.00", "credit": "2000.00",
                    "closing": "11250.00"}
    assert body["totals"] == {"opening": "0.00", "debit": "6118.95", "credit": "6118.95", "closing": "0.00"}


@pytest.mark.parametrize("query, field", [("date_from=2026-02-30", "date_from"), ("date_to=tomorrow", "date_to"),
                                          ("date_from=2026-03-01&date_to=2026-01-01", "date_to")])
def test_api_refuses_bad_dates_naming_the_field(api, books, query, field):
    response = api.get(f"/api/v1/accounting/reports/trial-balance?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_api_general_ledger_pages(api, books):
    first = api.get(f"/api/v1/accounting/reports/general-ledger/1100?{Q1}&size=2").get_json()
    assert first["opening"] == "10000.00"
    assert [line["balance"] for line in first["lines"]] == ["8000.00", "10000.00"]
    second = api.get(f"/api/v1/accounting/reports/general-ledger/1100?{Q1}&size=2&after={first['next']}").get_json()
    assert [line["balance"] for line in second["lines"]] == ["11250.00"] and second["next"] is None
    assert api.get("/api/v1/accounting/reports/general-ledger/9999").status_code == 404
    bad = api.get("/api/v1/accounting/reports/general-ledger/1100?after=nonsense")
    assert bad.status_code == 422 and "after" in bad.get_json()["errors"]


def test_api_statements_and_aged(api, books):
    pl = api.get(f"/api/v1/accounting/reports/profit-and-loss?{Q1}&compare=year").get_json()
    assert (pl["result"], pl["result_compare"]) == ("622.05", "0.00")
    assert pl["compare_from"] == "2025-01-01"
    bs = api.get("/api/v1/accounting/reports/balance-sheet?date_to=2026-03-31").get_json()
    assert [s["total"] for s in bs["sections"]] == ["11872.05", "650.00", "11222.05"]
    aged = api.get("/api/v1/accounting/reports/aged-receivables?on=2026-03-31").get_json()
    assert aged["totals"]["total"] == "745.50" and aged["parties"][0]["party_name"] == "Alfa A/S"
    payables = api.get("/api/v1/accounting/reports/aged-payables?on=2026-03-31").get_json()
    assert payables["totals"]["over_90"] == "400.00"
    custom = api.get(f"/api/v1/accounting/reports/profit-and-loss?{Q1}&compare=custom")
    assert custom.status_code == 422 and "compare_from" in custom.get_json()["errors"]


# -- Dashboard --

def test_dashboard_widgets_load_lazily(admin_client, books):
    dashboard = admin_client.get("/dashboard").get_data(as_text=True)
    for path in ("monthly-result", "cash-position", "receivables", "payables", "cash"):
        assert f'hx-get="/accounting/reports/widgets/{path}"' in dashboard
    chart = admin_client.get("/accounting/reports/widgets/monthly-result").get_data(as_text=True)
    assert "<svg" in chart and 'role="img"' in chart
    assert "<svg" in admin_client.get("/accounting/reports/widgets/cash-position").get_data(as_text=True)
    cash = admin_client.get("/accounting/reports/widgets/cash").get_data(as_text=True)
    assert "11,126.55" in cash and links(cash, r"general-ledger/1100\?")
    receivables = admin_client.get("/accounting/reports/widgets/receivables").get_data(as_text=True)
    assert "745.50" in receivables and links(receivables, r"aged/receivables")


# -- Permissions --

def test_viewer_sees_reports_but_not_entries(viewer, app, books):
    assert viewer.get("/accounting/reports").status_code == 200
    html = viewer.get(f"/accounting/reports/general-ledger/1100?{Q1}").get_data(as_text=True)
    assert "GEN/2026/" in html and not links(html, r"/accounting/entries/")
    assert viewer.get("/accounting/reports/widgets/cash").status_code == 200
    for endpoint in ("accounting.entries", "accounting.invoices"):
        if endpoint in app.view_functions:
            with app.test_request_context():
                from flask import url_for

                path = url_for(endpoint)
            assert viewer.get(path).status_code == 403
    assert viewer.get("/api/v1/accounting/entries").status_code in (403, 404)


def test_reports_need_the_permission(app, client, books):
    _, password = make_user(app, "clerk", ["staff"], "clerk password 1")
    client.login("clerk", password)
    assert client.get("/accounting/reports/trial-balance").status_code == 403
    assert client.get("/accounting/reports/widgets/cash").status_code == 403
    assert client.get("/api/v1/accounting/reports/trial-balance").status_code in (401, 403)


# -- Command line --

def test_report_command_prints_csv_and_writes_xlsx(kontor, books, tmp_path):
    result = kontor("accounting", "report", "trial-balance", "--from", "2026-01-01", "--to", "2026-03-31")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert next(row for row in rows if row[0] == "1100")[2:] == ["10000.00", "3250.00", "2000.00", "11250.00"]
    target = tmp_path / "aged.xlsx"
    result = kontor("accounting", "report", "aged-receivables", "--to", "2026-03-31", "--output", str(target))
    assert result.exit_code == 0, result.output
    cells = [cell.value for row in load_workbook(target).active.iter_rows() for cell in row]
    assert "Alfa A/S" in cells
    result = kontor("accounting", "report", "general-ledger")
    assert result.exit_code != 0 and "account" in result.output


def test_reports_are_in_the_openapi_document(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    for name in ("trial-balance", "profit-and-loss", "balance-sheet", "aged-receivables", "aged-payables"):
        assert f"/api/v1/accounting/reports/{name}" in paths
    assert any(path.startswith("/api/v1/accounting/reports/general-ledger/") for path in paths)
