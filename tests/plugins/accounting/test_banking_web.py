"""Payments and statements through the pages and the JSON API, as people and scripts use them."""
from __future__ import annotations

import io
import json
import re
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from plugins.accounting.banking.models import Payment, Statement
from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.testing import party, posted_invoice
from plugins.accounting.testing import BankLine, bank_statement, camt053

D = Decimal
DATA = Path(__file__).parent / "data"


def march(invoice_number: str) -> list[BankLine]:
    """The March statement: Alfa pays the invoice, Gamma pays an order we have no invoice for, we pay
    Beta's bill, the bank takes its fees (10,000.00 to 10,602.55)."""
    return [BankLine(date(2026, 3, 12), "1250.00", f"Payment of invoice {invoice_number}", "", "ALFA A/S",
                     "DK8930000001234567"),
            BankLine(date(2026, 3, 14), "312.50", "Order 4711", "GAMMA-4711", "Gamma Oy", "FI2112345600000785"),
            BankLine(date(2026, 3, 20), "-500.00", "", "RE-2026-118", "Beta GmbH", "DE89370400440532013000"),
            BankLine(date(2026, 3, 31), "-459.95", "Bank fees March")]


@contextmanager
def session_of(app):
    """A session of its own (requests made meanwhile run in their own app contexts)."""
    with app.app_context():
        from core.db import session

        yield session
        session.rollback()


@pytest.fixture
def books(app):
    with session_of(app) as db:
        alfa, beta = party(db, "Alfa A/S"), party(db, "Beta GmbH")
        sale = posted_invoice(db, alfa, day=date(2026, 2, 20))
        bill = posted_invoice(db, beta, "400.00", kind="in_invoice", day=date(2026, 2, 25), reference="RE-2026-118")
        db.commit()
        return {"alfa": alfa.id, "beta": beta.id, "sale": sale.id, "sale_number": sale.number, "bill": bill.id,
                "bill_number": bill.number}


def invoice_state(app, invoice_id) -> tuple[str, Decimal]:
    with session_of(app) as db:
        found = db.get(Invoice, invoice_id)
        return found.state, found.amount_residual


def count(app, model) -> int:
    with session_of(app) as db:
        return db.execute(select(func.count()).select_from(model)).scalar_one()


# -- The JSON API --


def test_api_registers_lists_and_shows_a_payment(api, app, books):
    body = {"party_id": books["alfa"], "amount": "1300.00", "currency": "DKK", "date": "2026-03-10",
            "journal": "BNK", "reference": "Bank transfer",
            "allocations": [{"invoice": books["sale"], "amount": "1250.00"}]}
    response = api.post("/api/v1/accounting/payments", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert created["kind"] == "inbound" and created["amount"] == "1300.00" and created["unallocated"] == "50.00"
    assert created["allocations"] == [{"invoice_id": books["sale"], "invoice_number": books["sale_number"],
                                       "amount": "1250.00", "writeoff": "0.00"}]
    assert invoice_state(app, books["sale"])[0] == "paid"

    [credit] = api.get(f"/api/v1/accounting/open-items?party_id={books['alfa']}").get_json()["items"]
    assert (credit["open"], credit["invoice_id"], credit["account_code"]) == ("-50.00", None, "1200")
    [bill] = api.get("/api/v1/accounting/open-items?kind=payable").get_json()["items"]
    assert bill["invoice_number"] == books["bill_number"] and bill["open"] == "-500.00"
    assert api.get("/api/v1/accounting/open-items?kind=assets").status_code == 422
    listing = api.get("/api/v1/accounting/payments?kind=inbound").get_json()
    assert [item["number"] for item in listing["items"]] == [created["number"]]
    one = api.get(f"/api/v1/accounting/payments/{created['id']}").get_json()
    assert one["number"] == created["number"] and one["journal"] == "BNK"
    assert api.get("/api/v1/accounting/payments/999999").status_code == 404


@pytest.mark.parametrize("change, field", [
    ({"amount": 12.5}, "amount"),
    ({"amount": "12,50"}, "amount"),
    ({"amount": "-5.00"}, "amount"),
    ({"party_id": "x"}, "party_id"),
    ({"date": "2026-02-30"}, "date"),
    ({"currency": "XXX"}, "currency"),
    ({"journal": "GEN"}, "journal"),
    ({"allocations": [{"invoice": 999999, "amount": "1.00"}]}, "allocations.0"),
    ({"allocations": [{"invoice": "SAL/1999/00001", "amount": "1.00"}]}, "allocations.0"),
    ({"allocations": [{"invoice": "{sale}", "amount": "5000.00"}]}, "allocations.0.amount"),
    ({"allocations": [{"invoice": "{sale}"}]}, "allocations"),
    ({"writeoff_account": "1200", "allocations": [{"invoice": "{sale}", "amount": "1.00"}]}, "writeoff_account"),
])
def test_api_refuses_bad_payments_naming_the_field(api, app, books, change, field):
    body = {"party_id": books["alfa"], "amount": "1250.00", "currency": "DKK", "date": "2026-03-10",
            "allocations": [{"invoice": books["sale"], "amount": "1250.00"}], **change}
    text = json.dumps(body).replace('"{sale}"', str(books["sale"]))
    response = api.post("/api/v1/accounting/payments", data=text, content_type="application/json")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"], response.get_json()
    assert count(app, Payment) == 0


def test_api_statement_import_suggestions_and_confirm(api, app, books):
    response = api.post("/api/v1/accounting/statements", content_type="multipart/form-data",
                        data={"file": (io.BytesIO(camt053(march(books["sale_number"]))), "march.xml"),
                              "format": "camt053"})
    assert response.status_code == 201, response.get_data(as_text=True)
    statement = response.get_json()
    assert statement["balance_difference"] == "0.00" and len(statement["lines"]) == 4
    first = statement["lines"][0]
    assert [s["invoice_number"] for s in first["suggestions"]] == [books["sale_number"]]
    assert first["suggestions"][0]["reasons"] == ["reference", "amount", "party"]

    confirm = api.post(f"/api/v1/accounting/statements/lines/{first['id']}/confirm",
                       json={"invoices": [first["suggestions"][0]["invoice_id"]]})
    assert confirm.status_code == 200, confirm.get_data(as_text=True)
    assert confirm.get_json()["state"] == "matched" and confirm.get_json()["payment_id"]
    assert invoice_state(app, books["sale"])[0] == "paid"
    again = api.post(f"/api/v1/accounting/statements/lines/{first['id']}/confirm", json={"account": "6900"})
    assert again.status_code == 409
    nothing = api.post(f"/api/v1/accounting/statements/lines/{statement['lines'][1]['id']}/confirm", json={})
    assert nothing.status_code == 422 and "invoices" in nothing.get_json()["errors"]

    listing = api.get("/api/v1/accounting/statements").get_json()
    assert [item["unmatched_count"] for item in listing["items"]] == [3]
    one = api.get(f"/api/v1/accounting/statements/{statement['id']}").get_json()
    assert [line["state"] for line in one["lines"]] == ["matched", "unmatched", "unmatched", "unmatched"]


def test_api_refuses_xxe_with_a_problem_and_imports_nothing(api, app, books):
    response = api.post("/api/v1/accounting/statements", content_type="multipart/form-data",
                        data={"file": (io.BytesIO((DATA / "xxe.xml").read_bytes()), "evil.xml"),
                              "format": "camt053"})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "file" in response.get_json()["errors"]
    bad = api.post("/api/v1/accounting/statements", content_type="multipart/form-data",
                   data={"file": (io.BytesIO((DATA / "bad_rows.csv").read_bytes()), "bad.csv"), "format": "csv",
                         "map_date": "Date", "map_amount": "Amount", "number_format": "1.234,56"})
    assert bad.status_code == 422
    assert [row["line"] for row in bad.get_json()["errors"]["rows"]] == [3, 4, 5]
    assert count(app, Statement) == 0


# -- The pages --


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
    assert count(app, Payment) == 0


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
    export = admin_client.get("/accounting/payments?export=csv")
    assert export.status_code == 200 and "'=HYPERLINK(1)" in export.get_data(as_text=True)
    xlsx = admin_client.get("/accounting/payments?export=xlsx")
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


def _banking_schemas():
    import inspect

    from marshmallow import Schema

    from plugins.accounting.banking import schemas

    return [cls for _name, cls in inspect.getmembers(schemas, inspect.isclass)
            if issubclass(cls, Schema) and cls.__module__ == schemas.__name__]


@pytest.mark.parametrize("schema", _banking_schemas(), ids=lambda cls: cls.__name__)
def test_schemas_round_trip(schema):
    from tests.contract import round_trip

    round_trip(schema)


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


def test_a_cancel_body_that_is_not_an_object_is_a_400_problem(api, app, books):
    made = api.post("/api/v1/accounting/payments", json={
        "party_id": books["alfa"], "amount": "250.00", "currency": "DKK", "date": "2026-03-10",
        "allocations": [{"invoice": books["sale"], "amount": "250.00"}]}).get_json()
    refused = api.post(f"/api/v1/accounting/payments/{made['id']}/cancel", json=["2026-03-21"])
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"
    assert api.get(f"/api/v1/accounting/payments/{made['id']}").get_json()["state"] == "posted"


def test_dashboard_widget_counts_the_lines_to_match(admin_client, app, books):
    with session_of(app) as db:
        bank_statement(db, march(books["sale_number"]))
        db.commit()
    assert "/accounting/statements/widget" in admin_client.get("/dashboard").get_data(as_text=True)
    html = admin_client.htmx("GET", "/accounting/statements/widget").get_data(as_text=True)
    assert "4 lines" in html and "2026-03-0042" in html


def test_the_endpoints_are_in_the_openapi_document(api, app):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/accounting/payments", "/api/v1/accounting/payments/{payment_id}",
                 "/api/v1/accounting/payments/{payment_id}/cancel", "/api/v1/accounting/open-items",
                 "/api/v1/accounting/statements", "/api/v1/accounting/statements/{statement_id}",
                 "/api/v1/accounting/statements/lines/{line_id}/confirm"):
        assert path in paths, path
