"""Invoices through /api/v1/accounting/invoices: drafts, posting, credit notes, PDF and refusals."""
from __future__ import annotations

from datetime import date, timedelta

from core.db import session

from plugins.accounting.testing import customer

BASE = "/api/v1/accounting/invoices"
TODAY = date.today()


def a_customer(app) -> int:
    with app.app_context():
        party = customer(session)
        session.commit()
        return party.id


def draft_body(party_id, **extra):
    return {"kind": "out_invoice", "party_id": party_id, "invoice_date": TODAY.isoformat(), "reference": "PO-9",
            "lines": [{"description": "Design", "quantity": "2", "unit_price": "100.00", "taxes": ["DK-S25"]},
                      {"description": "Hosting", "quantity": "1", "unit_price": "49.99", "discount_percent": "10",
                       "taxes": ["DK-S25"]}], **extra}


def test_create_post_and_read_an_invoice(app, api):
    party_id = a_customer(app)
    created = api.post(BASE, json=draft_body(party_id))
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["state"] == "draft" and body["number"] is None
    assert (body["amount_untaxed"], body["amount_tax"], body["amount_total"]) == ("244.99", "61.25", "306.24")
    assert body["lines"][1]["discount_percent"] == "10" and body["lines"][1]["unit_price"] == "49.99" and body["lines"][0]["taxes"] == ["DK-S25"]
    assert body["due_date"] == (TODAY + timedelta(days=14)).isoformat()

    posted = api.post(f"{BASE}/{body['id']}/post")
    assert posted.status_code == 200, posted.get_data(as_text=True)
    invoice = posted.get_json()
    assert invoice["state"] == "posted" and invoice["number"].startswith("SAL/")
    assert invoice["amount_residual"] == "306.24" and invoice["entry_id"]

    fetched = api.get(f"{BASE}/{body['id']}").get_json()
    assert fetched["number"] == invoice["number"]
    listed = api.get(f"{BASE}?state=posted&kind=out_invoice").get_json()
    assert [i["number"] for i in listed["items"]] == [invoice["number"]]
    assert api.get(f"{BASE}?q=nothing-like-this").get_json()["items"] == []


def test_bad_lines_are_refused_naming_the_field(app, api):
    party_id = a_customer(app)
    body = draft_body(party_id)
    body["lines"].append({"description": "Nothing", "quantity": "0", "unit_price": "5"})
    refused = api.post(BASE, json=body)
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    assert "lines[2].quantity" in refused.get_json()["errors"]
    body["lines"][2] = {"description": "Float", "quantity": "1", "unit_price": "abc"}
    assert "lines[2].unit_price" in api.post(BASE, json=body).get_json()["errors"]
    assert "party_id" in api.post(BASE, json={**draft_body(None)}).get_json()["errors"]
    assert "lines" in api.post(BASE, json={**draft_body(party_id), "lines": []}).get_json()["errors"]
    assert "kind" in api.post(BASE, json={**draft_body(party_id), "kind": "gift"}).get_json()["errors"]
    assert api.get(BASE).get_json()["items"] == []


def test_patch_and_delete_drafts_only(app, api):
    party_id = a_customer(app)
    invoice_id = api.post(BASE, json=draft_body(party_id)).get_json()["id"]
    patched = api.patch(f"{BASE}/{invoice_id}", json={"lines": [{"description": "One", "quantity": "1",
                                                                  "unit_price": "10.00"}], "reference": "new"})
    assert patched.status_code == 200
    assert patched.get_json()["amount_total"] == "10.00" and patched.get_json()["reference"] == "new"
    assert "lines[0].discount_percent" in api.patch(f"{BASE}/{invoice_id}", json={"lines": [
        {"quantity": "1", "unit_price": "1", "discount_percent": "101"}]}).get_json()["errors"]

    assert api.post(f"{BASE}/{invoice_id}/post").status_code == 200
    assert api.patch(f"{BASE}/{invoice_id}", json={"reference": "x"}).status_code == 409
    assert api.delete(f"{BASE}/{invoice_id}").status_code == 409
    assert api.get(f"{BASE}/{invoice_id}").status_code == 200

    other = api.post(BASE, json=draft_body(party_id)).get_json()["id"]
    assert api.delete(f"{BASE}/{other}").status_code == 204
    assert api.get(f"{BASE}/{other}").status_code == 404


def test_credit_note_through_the_api(app, api):
    party_id = a_customer(app)
    invoice_id = api.post(BASE, json=draft_body(party_id)).get_json()["id"]
    assert api.post(f"{BASE}/{invoice_id}/credit-note").status_code == 409  # a draft is not credited
    api.post(f"{BASE}/{invoice_id}/post")
    partial = api.post(f"{BASE}/{invoice_id}/credit-note", json={"lines": [
        {"description": "Design, less", "quantity": "1", "unit_price": "100.00", "taxes": ["DK-S25"]}]})
    assert partial.status_code == 201, partial.get_data(as_text=True)
    note = partial.get_json()
    assert note["kind"] == "out_refund" and note["refund_of_id"] == invoice_id and note["amount_total"] == "125.00"
    assert api.post(f"{BASE}/{note['id']}/post").get_json()["number"].startswith("SAL/")
    full = api.post(f"{BASE}/{invoice_id}/credit-note", json={})
    assert full.status_code == 422  # 306.24 would exceed what is left to credit
    assert "lines" in full.get_json()["errors"]


def test_the_pdf_is_a_pdf_of_the_invoice(app, api):
    party_id = a_customer(app)
    invoice_id = api.post(BASE, json=draft_body(party_id)).get_json()["id"]
    number = api.post(f"{BASE}/{invoice_id}/post").get_json()["number"]
    response = api.get(f"{BASE}/{invoice_id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.get_data()
    assert data.startswith(b"%PDF-")
    assert number.encode() in data  # the document's title and subject carry the number
    assert number.replace("/", "-") in response.headers["Content-Disposition"]


def test_missing_invoices_are_404_problems(api):
    response = api.get(f"{BASE}/999999")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert api.post(f"{BASE}/999999/post").status_code == 404


def test_moving_a_draft_invoice_or_bill_into_the_locked_period_is_a_422_naming_its_date(app, api):
    from plugins.accounting.ledger import years

    party_id = a_customer(app)
    invoice = api.post(BASE, json=draft_body(party_id)).get_json()
    bill = api.post(BASE, json=draft_body(party_id, kind="in_invoice",
                                          lines=[{"description": "Paper", "quantity": "1", "unit_price": "10.00"}]))
    assert bill.status_code == 201, bill.get_data(as_text=True)
    with app.app_context():
        years.set_lock_date(session, TODAY - timedelta(days=5))
        session.commit()
    early = (TODAY - timedelta(days=10)).isoformat()
    for draft in (invoice, bill.get_json()):
        moved = api.patch(f"{BASE}/{draft['id']}", json={"invoice_date": early})
        assert moved.status_code == 422, moved.get_data(as_text=True)
        assert moved.mimetype == "application/problem+json"
        assert "lock date" in moved.get_json()["errors"]["invoice_date"][0]
        assert api.get(f"{BASE}/{draft['id']}").get_json()["invoice_date"] == TODAY.isoformat()
