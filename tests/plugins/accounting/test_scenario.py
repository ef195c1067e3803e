"""A bookkeeper's year, end to end, as a user story: through the pages (forms posted as a browser
posts them) and the JSON API where a person would script it. Each step checks what they would see.

Karen keeps the books of a small Danish company. The year is 2025, and it has ended:

1. she opens the 2025 fiscal year beside the chart installed with accounting;
2. she enters a customer invoice of 1,000.00 + 25 % VAT and posts it;
3. she enters a supplier's bill of 400.00 + 25 % VAT and posts it;
4. she imports the bank's camt.053 statement and confirms both payments against them;
5. she reads the trial balance, profit and loss and the VAT report: they tie out
   (a result of 600.00, 250.00 VAT due less 100.00 deductible);
6. she closes the year: its result goes to retained earnings and 2025 takes no more entries.
"""
from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest

from plugins.accounting.testing import BankLine, camt053

D = Decimal
YEAR = {"date_from": "2025-01-01", "date_to": "2025-12-31"}


@pytest.fixture
def karen(client_with):
    """Karen, an accountant (a bookkeeper who may also close the year) and staff (who keeps the parties)."""
    return client_with(roles=["accountant", "staff"])


@pytest.fixture
def karens_api(api_with):
    """Karen's scripts, with a token of a user holding the same role."""
    return api_with(roles=["accountant", "staff"])


def tax_id(api, code: str) -> str:
    taxes = api.get("/api/v1/accounting/taxes").get_json()
    items = taxes["items"] if isinstance(taxes, dict) else taxes
    return str(next(item["id"] for item in items if item["code"] == code))


def enter_document(karen, kind: str, party_id: int, tax: str, amount: str, day: str, reference: str) -> str:
    """Fill in the invoice form for ``kind``, save the draft and post it; returns its page's address."""
    form = karen.get(f"/accounting/invoices/new?kind={kind}")
    assert form.status_code == 200
    saved = karen.post_form(f"/accounting/invoices/new?kind={kind}", {
        "kind": kind, "party_id": str(party_id), "invoice_date": day, "payment_terms_days": "30", "due_date": "",
        "currency": "DKK", "reference": reference, "notes": "",
        "lines-0-description": "Work", "lines-0-quantity": "1", "lines-0-unit_price": amount,
        "lines-0-discount_percent": "0", "lines-0-taxes": tax, "lines-0-account": ""})
    assert saved.status_code == 303, saved.get_data(as_text=True)
    page_url = saved.headers["Location"]
    invoice_id = re.search(r"/accounting/invoices/(\d+)", page_url).group(1)
    posted = karen.post_form(f"/accounting/invoices/{invoice_id}/post", {})
    assert posted.status_code == 303, posted.get_data(as_text=True)
    return page_url


def test_a_bookkeepers_year(karen, karens_api):
    api = karens_api

    # 1. The books: the chart is there; she opens 2025, the year she is catching up on.
    chart = karen.get("/accounting/accounts").get_data(as_text=True)
    assert "1100" in chart and "4000" in chart and "6100" in chart
    opened = karen.post_form("/accounting/years", {"start_date": "2025-01-01", "name": ""})
    assert opened.status_code == 303, opened.get_data(as_text=True)
    assert "2025" in karen.get(opened.headers["Location"]).get_data(as_text=True)
    [year] = [y for y in api.get("/api/v1/accounting/fiscal-years").get_json()["items"]
              if y["start_date"] == "2025-01-01"]
    assert year["state"] == "open" and year["end_date"] == "2025-12-31"

    # The customer and the supplier, as her script adds them.
    fjord = api.post("/api/v1/parties", json={"name": "Fjord Logistik ApS", "kind": "company", "country": "DK",
                                              "vat_id": "DK12345678"})
    hanse = api.post("/api/v1/parties", json={"name": "Hanse Stahl GmbH", "kind": "company", "country": "DE"})
    assert fjord.status_code == 201 and hanse.status_code == 201
    fjord_id, hanse_id = fjord.get_json()["id"], hanse.get_json()["id"]

    # 2. A customer invoice: 1,000.00 + 25 % VAT.
    sale_url = enter_document(karen, "out_invoice", fjord_id, tax_id(api, "DK-S25"), "1000.00", "2025-03-03", "PO-77")
    sale_page = karen.get(sale_url).get_data(as_text=True)
    assert "Fjord Logistik ApS" in sale_page and "1,250.00" in sale_page
    sale_id = int(re.search(r"/accounting/invoices/(\d+)", sale_url).group(1))
    sale = api.get(f"/api/v1/accounting/invoices/{sale_id}").get_json()
    assert sale["state"] == "posted" and D(sale["amount_total"]) == D("1250.00") and sale["number"]
    assert sale["number"] in karen.get("/accounting/invoices").get_data(as_text=True)

    # 3. A supplier's bill: 400.00 + 25 % VAT (deductible).
    bill_url = enter_document(karen, "in_invoice", hanse_id, tax_id(api, "DK-P25"), "400.00", "2025-03-05", "RE-118")
    bill_id = int(re.search(r"/accounting/invoices/(\d+)", bill_url).group(1))
    bill = api.get(f"/api/v1/accounting/invoices/{bill_id}").get_json()
    assert bill["state"] == "posted" and D(bill["amount_total"]) == D("500.00")
    assert bill["number"] in karen.get("/accounting/bills?q=re-118").get_data(as_text=True)

    # 4. The bank statement: Fjord pays, she pays Hanse.
    statement = camt053([
        BankLine(date(2025, 3, 20), "1250.00", f"Payment of invoice {sale['number']}", "", "FJORD LOGISTIK",
                 "DK8930000001234567"),
        BankLine(date(2025, 3, 25), "-500.00", "", "RE-118", "Hanse Stahl GmbH", "DE89370400440532013000"),
    ], name="2025-03", opening_balance="0.00")
    imported = karen.post("/accounting/statements/import", content_type="multipart/form-data", data={
        "csrf_token": karen.csrf_token("/dashboard"), "format": "camt053", "journal": "BNK",
        "file": (io.BytesIO(statement), "march.xml")})
    assert imported.status_code == 303, imported.get_data(as_text=True)
    shown = karen.get(imported.headers["Location"]).get_data(as_text=True)
    assert "1,250.00" in shown and "500.00" in shown
    line_ids = re.findall(r"/accounting/statements/lines/(\d+)/confirm", shown)
    assert len(line_ids) == 2
    for line_id, invoice_id in zip(line_ids, (sale_id, bill_id)):
        confirmed = karen.post_form(f"/accounting/statements/lines/{line_id}/confirm", {"invoice": str(invoice_id)})
        assert confirmed.status_code == 303, confirmed.get_data(as_text=True)
    assert api.get(f"/api/v1/accounting/invoices/{sale_id}").get_json()["state"] == "paid"
    assert api.get(f"/api/v1/accounting/invoices/{bill_id}").get_json()["state"] == "paid"

    # 5. The reports tie out.
    trial = api.get("/api/v1/accounting/reports/trial-balance", query_string=YEAR).get_json()
    assert D(trial["totals"]["debit"]) == D(trial["totals"]["credit"]) > 0
    closing = {row["code"]: D(row["closing"]) for row in trial["accounts"] if "code" in row}
    assert closing["1100"] == D("750.00")  # 1,250.00 in, 500.00 out
    assert closing["1200"] == 0 and closing["2100"] == 0  # both settled
    profit = api.get("/api/v1/accounting/reports/profit-and-loss", query_string=YEAR).get_json()
    assert D(profit["result"]) == D("600.00"), profit
    vat = api.get("/api/v1/accounting/reports/vat", query_string=YEAR).get_json()
    assert D(vat["due"]) == D("250.00") and D(vat["deductible"]) == D("100.00"), vat
    assert D(vat["payable"]) == D("150.00"), vat
    page = karen.get("/accounting/reports/profit-and-loss", query_string=YEAR).get_data(as_text=True)
    assert "600.00" in page
    assert "150.00" in karen.get("/accounting/reports/vat", query_string=YEAR).get_data(as_text=True)
    assert "750.00" in karen.get("/accounting/reports/trial-balance", query_string=YEAR).get_data(as_text=True)

    # 6. The year-end close: 2025's result goes to retained earnings, and 2025 is shut.
    closed = karen.post_form(f"/accounting/years/{year['id']}/close", {})
    assert closed.status_code == 303, closed.get_data(as_text=True)
    assert "Closed" in karen.get("/accounting/years").get_data(as_text=True)
    [year] = [y for y in api.get("/api/v1/accounting/fiscal-years").get_json()["items"] if y["id"] == year["id"]]
    assert year["state"] == "closed"
    sheet = api.get("/api/v1/accounting/reports/balance-sheet", query_string=YEAR).get_json()
    assert "600.00" in str(sheet)
    late = api.post("/api/v1/accounting/entries", json={
        "journal": "GEN", "date": "2025-12-31",
        "lines": [{"account": "6900", "debit": "10.00", "credit": "0"},
                  {"account": "1100", "debit": "0", "credit": "10.00"}]})
    assert late.status_code == 201 and late.get_json()["state"] == "draft"
    refused = api.post(f"/api/v1/accounting/entries/{late.get_json()['id']}/post")
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["errors"] == {"date": ["The fiscal year 2025 is closed."]}
