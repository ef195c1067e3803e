"""Payments and statements through the JSON API, as scripts use them."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from plugins.accounting.banking.models import Payment, Statement
from plugins.accounting.testing import camt053, count_rows, invoice_state, march_bank_lines

DATA = Path(__file__).parent / "data"


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
    assert count_rows(app, Payment) == 0


def test_api_statement_import_suggestions_and_confirm(api, app, books):
    response = api.post("/api/v1/accounting/statements", content_type="multipart/form-data",
                        data={"file": (io.BytesIO(camt053(march_bank_lines(books["sale_number"]))), "march.xml"),
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
    assert count_rows(app, Statement) == 0


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


def test_a_cancel_body_that_is_not_an_object_is_a_400_problem(api, app, books):
    made = api.post("/api/v1/accounting/payments", json={
        "party_id": books["alfa"], "amount": "250.00", "currency": "DKK", "date": "2026-03-10",
        "allocations": [{"invoice": books["sale"], "amount": "250.00"}]}).get_json()
    refused = api.post(f"/api/v1/accounting/payments/{made['id']}/cancel", json=["2026-03-21"])
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"
    assert api.get(f"/api/v1/accounting/payments/{made['id']}").get_json()["state"] == "posted"


def test_the_endpoints_are_in_the_openapi_document(api, app):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/accounting/payments", "/api/v1/accounting/payments/{payment_id}",
                 "/api/v1/accounting/payments/{payment_id}/cancel", "/api/v1/accounting/open-items",
                 "/api/v1/accounting/statements", "/api/v1/accounting/statements/{statement_id}",
                 "/api/v1/accounting/statements/lines/{line_id}/confirm"):
        assert path in paths, path
