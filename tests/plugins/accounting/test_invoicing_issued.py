"""Issued documents are final: an invoice, bill, credit note or payment, once numbered, changes only
as payments move it, through the services, the ORM or raw SQL alike; and numbers follow dates."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from core import KontorError
from plugins.accounting.banking import services as banking
from plugins.accounting.invoicing import services as invoicing

from tests.plugins.accounting.test_banking_payments import invoice, party, pay

D = Decimal


@pytest.fixture
def raw(db_url):
    """Run one SQL statement in a transaction of its own, on a connection the services never saw."""
    engine = create_engine(db_url)

    def run(sql: str, **params):
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return result.all() if result.returns_rows else result.rowcount

    yield run
    engine.dispose()


@pytest.fixture
def issued(db):
    """A posted invoice partly paid by a payment, and a second party: committed."""
    alfa, beta = party(db, "Alfa A/S"), party(db, "Beta GmbH")
    sale = invoice(db, alfa)
    payment = pay(db, alfa, "250.00", [(sale, "250.00")])
    db.commit()
    return {"invoice": sale.id, "payment": payment.id, "other_party": beta.id}


INVOICE_CHANGES = [
    "UPDATE accounting_invoice SET number = NULL WHERE id = :id",
    "UPDATE accounting_invoice SET number = 'SAL/2026/99999' WHERE id = :id",
    "UPDATE accounting_invoice SET amount_total = amount_total + 1 WHERE id = :id",
    "UPDATE accounting_invoice SET amount_untaxed = 0, amount_tax = 0 WHERE id = :id",
    "UPDATE accounting_invoice SET party_id = :other WHERE id = :id",
    "UPDATE accounting_invoice SET state = 'draft' WHERE id = :id",
    "UPDATE accounting_invoice SET invoice_date = '2026-01-02' WHERE id = :id",
    "UPDATE accounting_invoice SET currency = 'EUR' WHERE id = :id",
    "DELETE FROM accounting_invoice WHERE id = :id",
]


@pytest.mark.parametrize("sql", INVOICE_CHANGES)
def test_raw_sql_cannot_change_or_delete_an_issued_invoice(issued, raw, sql):
    row = "SELECT * FROM accounting_invoice WHERE id = :id"
    before = raw(row, id=issued["invoice"])
    with pytest.raises(Exception, match="issued invoice is immutable|numbered invoice cannot be deleted"):
        raw(sql, id=issued["invoice"], other=issued["other_party"])
    assert raw(row, id=issued["invoice"]) == before and before[0].number.startswith("SAL/")


def test_raw_sql_may_still_move_what_payments_move(issued, raw):
    """The services' own transitions after issue: payment state and the amount still owed."""
    assert raw("UPDATE accounting_invoice SET state = 'paid', amount_residual = 0 WHERE id = :id",
               id=issued["invoice"]) == 1
    assert raw("UPDATE accounting_invoice SET state = 'partial', amount_residual = 1000 WHERE id = :id",
               id=issued["invoice"]) == 1


PAYMENT_CHANGES = [
    "UPDATE accounting_payment SET amount = amount + 1 WHERE id = :id",
    "UPDATE accounting_payment SET party_id = :other WHERE id = :id",
    "UPDATE accounting_payment SET number = NULL WHERE id = :id",
    "UPDATE accounting_payment SET state = 'draft' WHERE id = :id",
    "DELETE FROM accounting_payment WHERE id = :id",
    "UPDATE accounting_payment_allocation SET amount = 1 WHERE payment_id = :id",
    "DELETE FROM accounting_payment_allocation WHERE payment_id = :id",
]


@pytest.mark.parametrize("sql", PAYMENT_CHANGES)
def test_raw_sql_cannot_change_or_delete_an_issued_payment(issued, raw, sql):
    with pytest.raises(Exception, match="issued payment"):
        raw(sql, id=issued["payment"], other=issued["other_party"])


def test_a_cancelled_payment_stays_cancelled(db, issued, raw):
    banking.cancel_payment(db, banking.get_payment(db, issued["payment"]), date=date(2026, 3, 20))
    db.commit()
    assert invoicing.get_invoice(db, issued["invoice"]).state == "posted"
    db.rollback()  # the session's transaction holds SQLite's write lock
    with pytest.raises(Exception, match="issued payment is immutable"):
        raw("UPDATE accounting_payment SET state = 'posted' WHERE id = :id", id=issued["payment"])


def test_the_orm_refuses_before_the_database(db, issued):
    sale = invoicing.get_invoice(db, issued["invoice"])
    sale.amount_total = sale.amount_total + 1
    with pytest.raises(KontorError) as caught:
        db.flush()
    assert caught.value.status == 409 and caught.value.field == "amount_total"
    db.rollback()
    sale = invoicing.get_invoice(db, issued["invoice"])
    sale.state = "draft"
    with pytest.raises(KontorError, match="issued invoice is never changed"):
        db.flush()
    db.rollback()
    db.delete(invoicing.get_invoice(db, issued["invoice"]))
    with pytest.raises(KontorError, match="issued invoice is never deleted"):
        db.flush()
    db.rollback()
    payment = banking.get_payment(db, issued["payment"])
    payment.party_id = issued["other_party"]
    with pytest.raises(KontorError, match="issued payment is never changed"):
        db.flush()
    db.rollback()
    db.delete(banking.get_payment(db, issued["payment"]))
    with pytest.raises(KontorError, match="issued payment is never deleted"):
        db.flush()
    db.rollback()


def test_an_expired_invoice_is_still_guarded(db, issued):
    """After a commit the loaded values are gone: the guard reads the stored number itself."""
    sale = invoicing.get_invoice(db, issued["invoice"])
    db.commit()  # expires every loaded attribute
    sale.reference = "changed after the fact"
    with pytest.raises(KontorError, match="issued invoice is never changed"):
        db.flush()
    db.rollback()


# -- Numbers follow dates --


def test_an_invoice_dated_before_the_last_numbered_one_is_refused(db):
    alfa = party(db, "Alfa A/S")
    invoice(db, alfa, day=date(2026, 3, 10))
    earlier = invoicing.create_invoice(db, "out_invoice", {
        "party_id": alfa.id, "invoice_date": "2026-03-09",
        "lines": [{"description": "Work", "quantity": "1", "unit_price": "10.00", "account": "4000"}]})
    with pytest.raises(KontorError) as caught:
        invoicing.post_invoice(db, earlier)
    assert caught.value.field == "invoice_date" and "2026-03-10" in caught.value.message
    assert earlier.number is None
    # a bill is numbered in the purchase journal: the sales journal's dates do not bind it
    bill = invoice(db, alfa, kind="in_invoice", day=date(2026, 3, 1))
    assert bill.number.startswith("PUR/")
    # the same date as the last one is fine
    earlier.invoice_date = date(2026, 3, 10)
    invoicing.post_invoice(db, earlier)
    assert earlier.number.startswith("SAL/")


def test_the_api_names_the_date_and_the_form_shows_it_beside_the_field(app, api, admin_client):
    from core.db import session

    with app.app_context():
        alfa = party(session, "Alfa A/S")
        invoice(session, alfa, day=date(2026, 3, 10))
        drafts = [invoicing.create_invoice(session, "out_invoice", {
            "party_id": alfa.id, "invoice_date": "2026-03-02",
            "lines": [{"description": "Work", "quantity": "1", "unit_price": "10.00", "account": "4000"}]}).id
            for _ in range(2)]
        session.commit()
    refused = api.post(f"/api/v1/accounting/invoices/{drafts[0]}/post")
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert list(refused.get_json()["errors"]) == ["invoice_date"]

    page = admin_client.post_form(f"/accounting/invoices/{drafts[1]}/post", {})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'id="invoice-form"' in html and 'id="e-invoice_date"' in html
    assert "2026-03-10" in html.split('id="e-invoice_date"')[1].split("</")[0]
    with app.app_context():
        assert [invoicing.get_invoice(session, i).number for i in drafts] == [None, None]
