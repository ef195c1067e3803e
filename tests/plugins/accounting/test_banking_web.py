"""Payments and statements through the pages, as people use them."""
from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

from plugins.accounting.banking.models import Payment
from plugins.accounting.testing import bank_statement, count_rows, invoice_state, march_bank_lines, session_of

D = Decimal
DATA = Path(__file__).parent / "data"


def test_payment_form_prefilled_from_an_invoice_recomputes_and_registers(admin_client, app, books):
    page = admin_client.get(f"/accounting/payments/new?invoice_id={books['sale']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="amount" value="1250.00"' in html
    assert re.search(rf'name="alloc_{books["sale"]}" [^>]*value="1250.00"', html)

    recomputed = admin_client.htmx("GET", f"/accounting/payments/new?party_id={books['alfa']}&kind=inbound"
                                          f"&currency=DKK&amount=1300.00&alloc_{books['sale']}=1200.00")
    fragment = recomputed.get_data(as_text=True)
    assert recomputed.status_code == 200 and "<html" not in fragment
    assert re.search(r'id="difference">[^<]*100', fragment) and re.search(r'id="shortfall">[^<]*50', fragment)

    form = {"kind": "inbound", "party_id": str(books["alfa"]), "date": "2026-03-10", "journal": "BNK",
            "currency": "DKK", "amount": "1240,00", f"alloc_{books['sale']}": "1240.00", "writeoff": "1",
            "writeoff_account": "6900"}
    done = admin_client.post_form("/accounting/payments/new", form)
    assert done.status_code == 303, done.get_data(as_text=True)
    assert invoice_state(app, books["sale"])[0] == "paid"
    shown = admin_client.get(done.headers["Location"]).get_data(as_text=True)
    assert books["sale_number"] in shown and "6900" in shown


def test_payment_form_errors_are_shown_beside_the_field(admin_client, app, books):
    form = {"kind": "inbound", "party_id": str(books["alfa"]), "date": "2026-03-10", "journal": "BNK",
            "currency": "DKK", "amount": "100.00", f"alloc_{books['sale']}": "200.00"}
    response = admin_client.post_form("/accounting/payments/new", form)
    assert response.status_code == 422
    assert "The allocations add up to more than the payment." in response.get_data(as_text=True)
    form[f"alloc_{books['sale']}"] = "5000.00"
    form["amount"] = "6000.00"
    response = admin_client.post_form("/accounting/payments/new", form)
    assert response.status_code == 422 and "has only" in response.get_data(as_text=True)
    assert count_rows(app, Payment) == 0


def test_the_banking_pages_take_their_styles_from_the_module_stylesheet(admin_client, app, books):
    for url in ("/accounting/payments", "/accounting/payments/new", "/accounting/statements",
                "/accounting/statements/import", f"/accounting/reconcile/{books['alfa']}"):
        page = admin_client.get(url).get_data(as_text=True)
        assert "<style" not in page and "/accounting/static/accounting.css" in page, url
    assert ".match-form" in admin_client.get("/accounting/static/accounting.css").get_data(as_text=True)


def test_payment_list_filters_and_exports(admin_client, api, app, books):
    api.post("/api/v1/accounting/payments", json={
        "party_id": books["beta"], "amount": "500.00", "currency": "DKK", "date": "2026-03-10",
        "allocations": [{"invoice": books["bill"], "amount": "500.00"}], "reference": "=HYPERLINK(1)"})
    page = admin_client.get("/accounting/payments?kind=outbound").get_data(as_text=True)
    assert "Beta GmbH" in page
    assert "Beta GmbH" not in admin_client.get("/accounting/payments?kind=inbound").get_data(as_text=True)
    export = admin_client.get("/accounting/payments?format=csv")
    assert export.status_code == 200 and "'=HYPERLINK(1)" in export.get_data(as_text=True)
    xlsx = admin_client.get("/accounting/payments?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_reconciliation_page_matches_a_credit_with_an_invoice(admin_client, api, app, books):
    api.post("/api/v1/accounting/payments", json={"party_id": books["alfa"], "amount": "300.00", "currency": "DKK",
                                                  "date": "2026-03-01", "kind": "inbound"})
    page = admin_client.get(f"/accounting/reconcile/{books['alfa']}")
    html = page.get_data(as_text=True)
    ids = re.findall(r'name="line" value="(\d+)"', html)
    assert page.status_code == 200 and len(ids) == 2
    done = admin_client.post_form(f"/accounting/reconcile/{books['alfa']}",
                                  {"line": ids, "day": "2026-03-05"})
    assert done.status_code == 303
    assert invoice_state(app, books["sale"]) == ("partial", D("950.00"))
    refused = admin_client.post_form(f"/accounting/reconcile/{books['alfa']}", {"line": ids[:1]})
    assert refused.status_code == 422
    page = admin_client.get(f"/accounting/reconcile/{books['alfa']}").get_data(as_text=True)
    undo = re.search(r'action="(/accounting/reconciliations/\d+/undo)"', page).group(1)
    assert admin_client.post_form(undo, {}).status_code == 303
    assert invoice_state(app, books["sale"]) == ("posted", D("1250.00"))


def test_statement_pages_import_csv_in_two_steps_and_confirm(admin_client, app, books):
    data = (DATA / "bank_dk.csv").read_text().replace("{INVOICE_1}", books["sale_number"]).encode()
    step1 = admin_client.post("/accounting/statements/import", content_type="multipart/form-data",
                              data={"csrf_token": admin_client.csrf_token("/dashboard"), "format": "csv",
                                    "journal": "BNK", "file": (io.BytesIO(data), "bank.csv")})
    html = step1.get_data(as_text=True)
    assert step1.status_code == 200 and "Bogføringsdato" in html
    encoded = re.search(r'name="data" value="([^"]+)"', html).group(1)
    mapping = {"map_date": "Bogføringsdato", "map_amount": "Beløb", "map_description": "Tekst",
               "map_counterparty": "Modtager", "map_balance": "Saldo"}
    wrong = admin_client.post_form("/accounting/statements/import", {
        "format": "csv", "journal": "BNK", "data": encoded, "filename": "bank.csv", "mapped": "1", **mapping,
        "number_format": "1,234.56", "date_format": "%d.%m.%Y"})
    assert wrong.status_code == 422 and "1.250,00 is not an amount in the chosen format" in wrong.get_data(as_text=True)
    step2 = admin_client.post_form("/accounting/statements/import", {
        "format": "csv", "journal": "BNK", "data": encoded, "filename": "bank.csv", "mapped": "1", **mapping,
        "number_format": "1.234,56", "date_format": "%d.%m.%Y"})
    assert step2.status_code == 303, step2.get_data(as_text=True)
    shown = admin_client.get(step2.headers["Location"]).get_data(as_text=True)
    assert "Balances agree" in shown and books["sale_number"] in shown
    line_id = re.search(r'/accounting/statements/lines/(\d+)/confirm', shown).group(1)
    confirmed = admin_client.post_form(f"/accounting/statements/lines/{line_id}/confirm",
                                       {"invoice": str(books["sale"])})
    assert confirmed.status_code == 303
    assert invoice_state(app, books["sale"])[0] == "paid"
    assert admin_client.get("/accounting/statements").status_code == 200


def test_statement_page_refuses_xxe(admin_client, app, books):
    response = admin_client.post("/accounting/statements/import", content_type="multipart/form-data",
                                 data={"csrf_token": admin_client.csrf_token("/dashboard"), "format": "camt053",
                                       "journal": "BNK",
                                       "file": (io.BytesIO((DATA / "billion_laughs.xml").read_bytes()), "x.xml")})
    assert response.status_code == 422 and "refused" in response.get_data(as_text=True)


def test_party_page_shows_the_payments_panel(admin_client, api, app, books):
    api.post("/api/v1/accounting/payments", json={"party_id": books["alfa"], "amount": "1250.00", "currency": "DKK",
                                                  "date": "2026-03-10",
                                                  "allocations": [{"invoice": books["sale"], "amount": "1250.00"}]})
    page = admin_client.get(f"/parties/{books['alfa']}").get_data(as_text=True)
    assert f"/accounting/payments/party/{books['alfa']}/panel" in page
    html = admin_client.htmx("GET", f"/accounting/payments/party/{books['alfa']}/panel").get_data(as_text=True)
    assert "Open items and reconciliation" in html and "BNK/2026/" in html


def test_cancel_a_payment_from_its_page_and_the_api(admin_client, api, app, books):
    made = [api.post("/api/v1/accounting/payments", json={
        "party_id": books["alfa"], "amount": amount, "currency": "DKK", "date": "2026-03-10",
        "allocations": [{"invoice": books["sale"], "amount": amount}]}).get_json() for amount in ("1000.00", "250.00")]
    assert invoice_state(app, books["sale"]) == ("paid", D("0.00"))
    page = admin_client.get(f"/accounting/payments/{made[0]['id']}").get_data(as_text=True)
    assert f"/accounting/payments/{made[0]['id']}/cancel" in page
    done = admin_client.post_form(f"/accounting/payments/{made[0]['id']}/cancel", {})
    assert done.status_code == 303
    assert invoice_state(app, books["sale"]) == ("partial", D("1000.00"))
    assert "Cancelled" in admin_client.get(done.headers["Location"]).get_data(as_text=True)
    unknown = api.post(f"/api/v1/accounting/payments/{made[1]['id']}/cancel", json={"date": "2026-03-21", "why": "x"})
    assert unknown.status_code == 422 and set(unknown.get_json()["errors"]) == {"why"}
    assert invoice_state(app, books["sale"]) == ("partial", D("1000.00"))  # nothing cancelled
    response = api.post(f"/api/v1/accounting/payments/{made[1]['id']}/cancel", json={"date": "2026-03-21"})
    assert response.status_code == 200 and response.get_json()["state"] == "cancelled"
    assert invoice_state(app, books["sale"]) == ("posted", D("1250.00"))
    assert api.post(f"/api/v1/accounting/payments/{made[1]['id']}/cancel").status_code == 409


def test_dashboard_widget_counts_the_lines_to_match(admin_client, app, books):
    with session_of(app) as db:
        bank_statement(db, march_bank_lines(books["sale_number"]))
        db.commit()
    assert "/accounting/statements/widget" in admin_client.get("/dashboard").get_data(as_text=True)
    html = admin_client.htmx("GET", "/accounting/statements/widget").get_data(as_text=True)
    assert "4 lines" in html and "2026-03-0042" in html
