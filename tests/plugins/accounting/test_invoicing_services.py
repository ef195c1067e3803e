"""Invoices and bills through the services: draft → post → entry, currencies, credit notes, refusals.

This module is also a tiny plugin that watches the ``accounting_invoice_posted`` hook.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from core import KontorError, Manifest, hookimpl
from plugins.accounting.banking import services as banking
from plugins.accounting.currencies import demo as currencies_demo, services as currencies
from plugins.accounting.invoicing import demo, services
from plugins.accounting.invoicing.models import Invoice, InvoiceLine
from plugins.accounting.ledger import services as ledger
from plugins.accounting.ledger.models import Entry, Line
from plugins.accounting.tax import services as tax
from plugins.accounting.testing import customer, draft_invoice, line, party, pay, posted_invoice

D = Decimal
TODAY = date.today()

manifest = Manifest(name="invoice_watch", title="Invoice watch", version="1.0",
                    summary="Records posted invoices (a test plugin).", depends=("accounting",))
POSTED: list[tuple[str, str, Decimal]] = []


@hookimpl
def accounting_invoice_posted(invoice, session):
    POSTED.append((invoice.number, invoice.kind, invoice.receivable_line.debit))


# -- helpers --


def entry_lines(inv) -> list[tuple[str, Decimal, Decimal]]:
    """(account code, debit, credit) of an invoice's entry, sorted."""
    return sorted((l.account.code, l.debit, l.credit) for l in inv.entry.lines)


def set_eur_rate(db, rate="7.46030000", day=None):
    """The EUR rate from ``day`` (default: a month ago) on."""
    currencies.set_rate(db, "EUR", day or TODAY - timedelta(days=30), rate)


# -- drafts and posting --


def test_a_customer_invoice_posts_an_exact_balanced_entry(db):
    inv = draft_invoice(db, lines=[line("Design", "2", "100.00"), line("Hosting", "1", "49.99", discount_percent="10")],
                  reference="PO-77")
    # Totals are rounded per line: 44.991 → 44.99 net, 11.2475 → 11.25 tax.
    assert (inv.amount_untaxed, inv.amount_tax, inv.amount_total) == (D("244.99"), D("61.25"), D("306.24"))
    assert inv.number is None and inv.state == "draft"
    assert inv.due_date == TODAY + timedelta(days=14)

    services.post_invoice(db, inv)

    assert inv.state == "posted" and inv.amount_residual == D("306.24")
    assert inv.number == inv.entry.number and inv.number.startswith(f"SAL/{TODAY.year}/")
    assert entry_lines(inv) == [("1200", D("306.24"), D("0.00")), ("2200", D("0.00"), D("61.25")),
                                ("4000", D("0.00"), D("244.99"))]
    receivable = inv.receivable_line
    assert receivable.account.code == "1200" and receivable.party_id == inv.party_id
    assert receivable.due_date == inv.due_date
    tax_line = next(l for l in inv.entry.lines if l.account.code == "2200")
    base_line = next(l for l in inv.entry.lines if l.account.code == "4000")
    assert tax_line.tax_id == base_line.tax_base_id == tax.get_tax(db, tax_line.tax_id).id
    assert tax.get_tax(db, tax_line.tax_id).code == "DK-S25"
    assert inv.entry.state == "posted" and inv.entry.source == f"invoice:{inv.id}"


def test_lines_on_different_accounts_and_taxes_stay_apart(db):
    inv = draft_invoice(db, lines=[line("Goods", "3", "10.00"), line("Service", "1", "80.00", account="4100"),
                             line("Export", "1", "20.00", taxes=["DK-S0EX"]), line("More goods", "1", "5.00")])
    services.post_invoice(db, inv)
    assert entry_lines(inv) == [("1200", D("163.75"), D("0.00")), ("2200", D("0.00"), D("28.75")),
                                ("4000", D("0.00"), D("20.00")), ("4000", D("0.00"), D("35.00")),
                                ("4100", D("0.00"), D("80.00"))]


def test_a_supplier_bill_books_expense_input_vat_and_payable(db):
    bill = draft_invoice(db, kind="in_invoice", lines=[line("Steel", "10", "12.50", taxes=["DK-P25"])], reference="R-1")
    services.post_invoice(db, bill)
    assert bill.number.startswith("PUR/")
    assert entry_lines(bill) == [("1400", D("31.25"), D("0.00")), ("2100", D("0.00"), D("156.25")),
                                 ("5100", D("125.00"), D("0.00"))]
    assert bill.receivable_line.account.code == "2100"


def test_a_reverse_charge_bill_books_the_tax_both_ways(db):
    bill = draft_invoice(db, kind="in_invoice", lines=[line("EU goods", "1", "400.00", taxes=["DK-PRC25"])])
    assert bill.amount_total == D("400.00") and bill.amount_tax == D("0.00")
    services.post_invoice(db, bill)
    assert entry_lines(bill) == [("1400", D("100.00"), D("0.00")), ("2100", D("0.00"), D("400.00")),
                                 ("2200", D("0.00"), D("100.00")), ("5100", D("400.00"), D("0.00"))]


def test_a_price_included_tax_is_backed_out(db):
    inv = draft_invoice(db, lines=[line("Shop sale", "1", "125.00", taxes=["DK-S25I"])])
    assert (inv.amount_untaxed, inv.amount_tax, inv.amount_total) == (D("100.00"), D("25.00"), D("125.00"))


def test_a_foreign_invoice_converts_each_line_and_books_the_rounding(db):
    set_eur_rate(db, "7.46030000")
    inv = draft_invoice(db, currency="EUR", lines=[line("Licences", "3", "33.33")])
    assert inv.rate == D("7.46030000")
    assert (inv.amount_untaxed, inv.amount_tax, inv.amount_total) == (D("99.99"), D("25.00"), D("124.99"))
    services.post_invoice(db, inv)
    # 99.99 × 7.4603 = 745.96, 25.00 × 7.4603 = 186.51, but 124.99 × 7.4603 = 932.46: 0.01 to rounding.
    assert entry_lines(inv) == [("1200", D("932.46"), D("0.00")), ("2200", D("0.00"), D("186.51")),
                                ("4000", D("0.00"), D("745.96")), ("8300", D("0.01"), D("0.00"))]
    receivable = inv.receivable_line
    assert (receivable.currency, receivable.amount_currency, receivable.rate) == ("EUR", D("124.990"), D("7.46030000"))
    income = next(l for l in inv.entry.lines if l.account.code == "4000")
    assert income.amount_currency == D("-99.990")
    assert inv.amount_residual == D("124.99")


def test_a_foreign_invoice_needs_a_rate(db):
    with pytest.raises(KontorError) as refused:
        draft_invoice(db, currency="SEK")
    assert refused.value.field == "currency"


def test_the_due_date_follows_the_terms_unless_given(db):
    inv = draft_invoice(db, payment_terms_days=30)
    assert inv.due_date == TODAY + timedelta(days=30)
    services.update_invoice(db, inv, {"due_date": TODAY + timedelta(days=45)})
    assert inv.due_date == TODAY + timedelta(days=45)
    services.update_invoice(db, inv, {"payment_terms_days": 8})
    assert inv.due_date == TODAY + timedelta(days=8)
    with pytest.raises(KontorError) as refused:
        services.update_invoice(db, inv, {"due_date": TODAY - timedelta(days=1)})
    assert refused.value.field == "due_date"


def test_the_hook_hears_of_every_posted_invoice(settings):
    from tests.contract import install

    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], __name__)
    POSTED.clear()
    app = install(settings, "invoice_watch")
    from core.db import session

    with app.app_context():
        inv = draft_invoice(session, lines=[line("Design", "2", "100.00")])
        assert POSTED == []
        services.post_invoice(session, inv)
        assert POSTED == [(inv.number, "out_invoice", D("250.00"))]
        session.rollback()


# -- validation --


@pytest.mark.parametrize("change, field", [
    ({"party_id": None}, "party_id"),
    ({"lines": []}, "lines"),
    ({"lines": [line(), line(quantity="0")]}, "lines[1].quantity"),
    ({"lines": [line(quantity="-2")]}, "lines[0].quantity"),
    ({"lines": [line(unit_price="-1")]}, "lines[0].unit_price"),
    ({"lines": [line(unit_price="abc")]}, "lines[0].unit_price"),
    ({"lines": [line(unit_price="1.123456")]}, "lines[0].unit_price"),
    ({"lines": [line(discount_percent="100.5")]}, "lines[0].discount_percent"),
    ({"lines": [line(), line(), line(taxes=["DK-P25"])]}, "lines[2].taxes"),
    ({"lines": [line(account="1")]}, "lines[0].account"),
    ({"lines": [line(account="9999")]}, "lines[0].account"),
    ({"currency": "XXX"}, "currency"),
    ({"invoice_date": "31.12.2026"}, "invoice_date"),
])
def test_bad_input_is_refused_naming_the_field(db, change, field):
    party = customer(db)
    data = {"party_id": party.id, "invoice_date": TODAY, "lines": [line()], **change}
    with pytest.raises(KontorError) as refused:
        services.create_invoice(db, "out_invoice", data)
    assert refused.value.field == field
    assert db.execute(select(Invoice)).first() is None


def test_a_bill_refuses_a_sales_tax(db):
    with pytest.raises(KontorError) as refused:
        draft_invoice(db, kind="in_invoice", lines=[line(taxes=["DK-S25"])])
    assert refused.value.field == "lines[0].taxes"


def test_nothing_is_dated_on_or_before_the_lock_date(db):
    draft = draft_invoice(db, invoice_date=TODAY - timedelta(days=3))
    ledger.get_config(db).lock_date = TODAY - timedelta(days=2)
    db.flush()
    with pytest.raises(KontorError) as refused:
        draft_invoice(db, invoice_date=TODAY - timedelta(days=2))
    assert refused.value.field == "invoice_date"
    with pytest.raises(KontorError) as refused:
        services.post_invoice(db, draft)
    assert refused.value.field == "invoice_date"
    assert draft.number is None
    assert draft_invoice(db, invoice_date=TODAY - timedelta(days=1)).invoice_date == TODAY - timedelta(days=1)


# -- posted documents stay --


def test_a_posted_invoice_cannot_be_changed_or_deleted(db):
    inv = draft_invoice(db)
    services.post_invoice(db, inv)
    with pytest.raises(KontorError) as refused:
        services.update_invoice(db, inv, {"reference": "changed"})
    assert refused.value.status == 409
    with pytest.raises(KontorError):
        services.delete_invoice(db, inv)
    with pytest.raises(KontorError):
        services.post_invoice(db, inv)
    assert db.get(Invoice, inv.id).number == inv.number


def test_the_database_refuses_deleting_a_numbered_invoice_or_changing_its_lines(db):
    inv = draft_invoice(db)
    services.post_invoice(db, inv)
    db.commit()
    for statement in (f"DELETE FROM accounting_invoice WHERE id = {inv.id}",
                      f"UPDATE accounting_invoice_line SET unit_price = 1 WHERE invoice_id = {inv.id}",
                      f"DELETE FROM accounting_invoice_line WHERE invoice_id = {inv.id}"):
        with pytest.raises(DBAPIError):
            db.execute(text(statement))
        db.rollback()
    assert db.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)).scalars().one().unit_price == D("100")


def test_a_draft_can_be_deleted(db):
    inv = draft_invoice(db)
    services.delete_invoice(db, inv)
    assert db.execute(select(Invoice)).first() is None
    assert db.execute(select(InvoiceLine)).first() is None


# -- credit notes --


def test_a_full_credit_note_mirrors_the_invoice(db):
    inv = draft_invoice(db, lines=[line("Design", "2", "100.00"), line("Hosting", "1", "49.99", discount_percent="10")])
    services.post_invoice(db, inv)
    note = services.create_credit_note(db, inv)
    assert note.kind == "out_refund" and note.refund_of_id == inv.id and note.state == "draft"
    assert note.amount_total == inv.amount_total and note.reference == inv.number
    services.post_invoice(db, note)
    assert entry_lines(note) == [("1200", D("0.00"), D("306.24")), ("2200", D("61.25"), D("0.00")),
                                 ("4000", D("244.99"), D("0.00"))]
    assert note.number.startswith("SAL/")


def test_a_partial_credit_note_and_no_more_than_the_invoice(db):
    inv = draft_invoice(db, lines=[line("Design", "4", "100.00")])
    services.post_invoice(db, inv)
    note = services.create_credit_note(db, inv, lines=[line("Design, one day less", "1", "100.00")])
    services.post_invoice(db, note)
    assert note.amount_total == D("125.00") and services.credited_left(db, inv) == D("375.00")
    with pytest.raises(KontorError) as refused:
        services.create_credit_note(db, inv, lines=[line("Too much", "4", "100.00")])
    assert refused.value.field == "lines"
    with pytest.raises(KontorError):
        services.create_credit_note(db, note)


def test_a_bill_credit_note_reverses_the_bill(db):
    bill = draft_invoice(db, kind="in_invoice", lines=[line("Steel", "1", "80.00", taxes=["DK-P25"])])
    services.post_invoice(db, bill)
    note = services.create_credit_note(db, bill)
    services.post_invoice(db, note)
    assert note.kind == "in_refund"
    assert entry_lines(note) == [("1400", D("0.00"), D("20.00")), ("2100", D("100.00"), D("0.00")),
                                 ("5100", D("0.00"), D("80.00"))]


def test_a_draft_cannot_be_credited(db):
    with pytest.raises(KontorError) as refused:
        services.create_credit_note(db, draft_invoice(db))
    assert refused.value.status == 409


def test_cancelling_posts_a_full_credit_note_and_settles_both(db):
    inv = draft_invoice(db)
    services.post_invoice(db, inv)
    note = services.cancel_invoice(db, inv)
    assert note.state == "paid" and note.amount_residual == D("0.00") and note.number
    assert inv.state == "cancelled" and inv.amount_residual == D("0.00")
    assert db.get(Invoice, inv.id).number == inv.number  # the invoice stays, numbered
    with pytest.raises(KontorError):
        services.cancel_invoice(db, inv)


# -- the party's position --


def test_the_party_summary_adds_up(db):
    party = customer(db)
    set_eur_rate(db, "7.50000000")
    old = draft_invoice(db, party, invoice_date=TODAY - timedelta(days=40), payment_terms_days=10,
                  lines=[line("Old work", "1", "100.00")])
    recent = draft_invoice(db, party, lines=[line("New work", "1", "200.00")])
    foreign = draft_invoice(db, party, currency="EUR", invoice_date=TODAY - timedelta(days=20), payment_terms_days=5,
                      lines=[line("EU work", "1", "10.00", taxes=[])])
    draft = draft_invoice(db, party, lines=[line("Not yet", "1", "999.00")])
    bill = draft_invoice(db, party, kind="in_invoice", lines=[line("Bought", "1", "40.00", taxes=["DK-P25"])])
    for doc in (old, foreign, recent, bill):  # numbers follow dates
        services.post_invoice(db, doc)
    summary = services.party_summary(db, party.id)
    assert [i.id for i in summary.open_invoices] == [old.id, foreign.id, recent.id]
    assert [b.id for b in summary.open_bills] == [bill.id]
    assert summary.receivable == D("125.00") + D("250.00") + D("75.00")
    assert summary.payable == D("50.00")
    assert summary.overdue == {"DKK": D("125.00"), "EUR": D("10.00")}
    assert draft.id not in [i.id for i in summary.open_invoices]


def test_merging_parties_moves_drafts_and_lists_issued_invoices_under_the_survivor(app, db):
    from core.parties.services import merge_parties

    old, new = customer(db, "Old Name ApS"), customer(db, "New Name ApS")
    inv, draft = draft_invoice(db, old), draft_invoice(db, old)
    services.post_invoice(db, inv)
    merge_parties(db, old, new, on_merging=app.extensions["kontor"].pm.hook.party_merging)
    db.refresh(inv)
    db.refresh(draft)
    # an issued invoice keeps the party it was issued to; a draft follows the merge
    assert (inv.party_id, draft.party_id) == (old.id, new.id)
    summary = services.party_summary(db, new.id)
    assert summary.receivable == D("125.00") and [i.id for i in summary.open_invoices] == [inv.id]
    listed = db.execute(services.invoices_query(kinds=["out_invoice"], party_id=new.id)).scalars().all()
    assert {i.id for i in listed} == {inv.id, draft.id}


def test_two_posts_of_one_draft_at_once_number_it_once(app, backend):
    import threading

    from core.db import session

    with app.app_context():
        invoice_id = draft_invoice(session).id
        session.commit()
    factory = app.extensions["kontor"].sessionmaker
    # On PostgreSQL both read the draft before either posts; SQLite lets one writer in at a time.
    barrier = threading.Barrier(2, timeout=30) if backend == "postgresql" else None
    outcomes = []

    def post():
        with app.app_context():
            db = factory()
            try:
                draft = db.get(Invoice, invoice_id)
                if barrier:
                    barrier.wait()
                services.post_invoice(db, draft)
                db.commit()
                outcomes.append("posted")
            except KontorError as exc:
                db.rollback()
                outcomes.append(exc.status)
            finally:
                db.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes, key=str) == [409, "posted"]
    with app.app_context():
        from plugins.accounting.ledger.models import Entry

        assert len(session.execute(select(Entry).where(Entry.source == f"invoice:{invoice_id}")).all()) == 1


# -- Issued documents are final, and numbers follow dates --

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
    sale = posted_invoice(db, alfa)
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
    assert services.get_invoice(db, issued["invoice"]).state == "posted"
    db.rollback()  # the session's transaction holds SQLite's write lock
    with pytest.raises(Exception, match="issued payment is immutable"):
        raw("UPDATE accounting_payment SET state = 'posted' WHERE id = :id", id=issued["payment"])


def test_the_orm_refuses_before_the_database(db, issued):
    sale = services.get_invoice(db, issued["invoice"])
    sale.amount_total = sale.amount_total + 1
    with pytest.raises(KontorError) as caught:
        db.flush()
    assert caught.value.status == 409 and caught.value.field == "amount_total"
    db.rollback()
    sale = services.get_invoice(db, issued["invoice"])
    sale.state = "draft"
    with pytest.raises(KontorError, match="issued invoice is never changed"):
        db.flush()
    db.rollback()
    db.delete(services.get_invoice(db, issued["invoice"]))
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
    sale = services.get_invoice(db, issued["invoice"])
    db.commit()  # expires every loaded attribute
    sale.reference = "changed after the fact"
    with pytest.raises(KontorError, match="issued invoice is never changed"):
        db.flush()
    db.rollback()


# -- Numbers follow dates --


def test_an_invoice_dated_before_the_last_numbered_one_is_refused(db):
    alfa = party(db, "Alfa A/S")
    posted_invoice(db, alfa, day=date(2026, 3, 10))
    earlier = services.create_invoice(db, "out_invoice", {
        "party_id": alfa.id, "invoice_date": "2026-03-09",
        "lines": [{"description": "Work", "quantity": "1", "unit_price": "10.00", "account": "4000"}]})
    with pytest.raises(KontorError) as caught:
        services.post_invoice(db, earlier)
    assert caught.value.field == "invoice_date" and "2026-03-10" in caught.value.message
    assert earlier.number is None
    # a bill is numbered in the purchase journal: the sales journal's dates do not bind it
    bill = posted_invoice(db, alfa, kind="in_invoice", day=date(2026, 3, 1))
    assert bill.number.startswith("PUR/")
    # the same date as the last one is fine
    earlier.invoice_date = date(2026, 3, 10)
    services.post_invoice(db, earlier)
    assert earlier.number.startswith("SAL/")


def test_the_api_names_the_date_and_the_form_shows_it_beside_the_field(app, api, admin_client):
    from core.db import session

    with app.app_context():
        alfa = party(session, "Alfa A/S")
        posted_invoice(session, alfa, day=date(2026, 3, 10))
        drafts = [services.create_invoice(session, "out_invoice", {
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
        assert [services.get_invoice(session, i).number for i in drafts] == [None, None]


# -- The demo year of invoices and bills --

def test_the_demo_year(db):
    added = []
    currencies_demo.load(db, added.append)
    demo.load(db, added.append)
    kinds = Counter(db.execute(select(Invoice.kind, Invoice.state)).all())
    assert sum(n for (kind, state), n in kinds.items() if kind == "out_invoice" and state != "draft") == demo.INVOICES
    assert sum(n for (kind, state), n in kinds.items() if kind == "in_invoice") == demo.BILLS
    assert kinds[("out_invoice", "draft")] == demo.DRAFTS
    assert kinds[("out_invoice", "cancelled")] > 0 and kinds[("out_refund", "posted")] > 0
    assert db.execute(select(func.count()).select_from(Invoice).where(Invoice.currency == "EUR")).scalar_one() > 10
    first, last = db.execute(select(func.min(Invoice.invoice_date), func.max(Invoice.invoice_date))).one()
    assert first >= date.today() - timedelta(days=366) and last <= date.today()
    assert (last - first).days > 330
    unbalanced = db.execute(select(Line.entry_id).group_by(Line.entry_id)
                            .having(func.sum(Line.debit) != func.sum(Line.credit))).all()
    assert unbalanced == []
    assert db.execute(select(func.count()).select_from(Entry).where(Entry.state == "posted")).scalar_one() >= 230
    demo.load(db, added.append)  # a second run adds nothing
    assert db.execute(select(func.count()).select_from(Invoice)).scalar_one() == sum(kinds.values())
