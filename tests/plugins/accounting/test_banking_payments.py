"""Payments against invoices and bills, as a bookkeeper registers them.

The company keeps its books in DKK. Customer Alfa gets invoices of 1,000.00 + 25 % VAT = 1,250.00;
supplier Beta sends a bill of 400.00 + 25 % VAT = 500.00. EUR is worth 7.40 DKK from 2026-01-01
and 7.50 DKK from 2026-03-01.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from core.parties.services import create_party
from plugins.accounting.banking import services as banking
from plugins.accounting.banking.models import ReconciliationLine
from plugins.accounting.invoicing import services as invoicing
from plugins.accounting.ledger import years
from plugins.accounting.ledger.models import Account, Config, FiscalYear, Line
from plugins.accounting.tax import services as tax

D = Decimal
DAY = date(2026, 3, 10)


def ensure_year(db, day: date) -> None:
    start = date(day.year, 1, 1)
    if db.execute(select(FiscalYear).where(FiscalYear.start_date == start)).scalar_one_or_none() is None:
        years.create_fiscal_year(db, start)


def party(db, name: str):
    return create_party(db, {"name": name, "kind": "company"})


def invoice(db, customer, amount="1000.00", *, kind="out_invoice", day=date(2026, 2, 1), currency="DKK",
            vat=True, account=None, reference=""):
    """A posted invoice (or bill) of ``amount`` net, with 25 % VAT unless ``vat`` is False."""
    ensure_year(db, day)
    scope = "sale" if kind.startswith("out") else "purchase"
    taxes = [t.id for t in tax.list_taxes(db, scope=scope) if t.rate == D("25.0000") and not t.reverse_charge
             and not t.price_included][:1] if vat else []
    account = account or ("4000" if scope == "sale" else "6100")
    document = invoicing.create_invoice(db, kind, {
        "party_id": customer.id, "invoice_date": day.isoformat(), "currency": currency, "payment_terms_days": 30,
        "reference": reference, "lines": [{"description": "Work", "quantity": "1", "unit_price": amount, "taxes": taxes, "account": account}],
    })
    invoicing.post_invoice(db, document)
    return document


def pay(db, who, amount, allocations, *, currency="DKK", day=DAY, journal="BNK", **kwargs):
    return banking.register_payment(db, party_id=who.id, amount=amount, currency=currency, date=day,
                                    journal=journal, allocations=allocations, **kwargs)


def lines_of(entry):
    return sorted((line.account.code, line.debit, line.credit) for line in entry.lines)


@pytest.fixture
def alfa(db):
    return party(db, "Alfa A/S")


@pytest.fixture
def beta(db):
    return party(db, "Beta GmbH")


@pytest.fixture
def eur(db):
    tax.set_rate(db, "EUR", date(2026, 1, 1), "7.40")
    tax.set_rate(db, "EUR", date(2026, 3, 1), "7.50")
    return "EUR"


def test_full_payment_posts_the_entry_and_marks_the_invoice_paid(db, alfa):
    sale = invoice(db, alfa)
    assert sale.amount_total == D("1250.00")

    payment = pay(db, alfa, "1250.00", [(sale, "1250.00")], reference="Thanks")
    db.commit()

    assert payment.number.startswith("BNK/2026/")
    assert payment.kind == "inbound" and payment.state == "posted"
    assert lines_of(payment.entry) == [("1100", D("1250.00"), D("0.00")), ("1200", D("0.00"), D("1250.00"))]
    assert sale.state == "paid" and sale.amount_residual == D("0.00")
    assert banking.open_items(db, alfa.id) == []
    assert banking.party_balance(db, alfa.id).receivable == D("0.00")


def test_partial_payments_leave_the_rest_open_until_the_last(db, alfa):
    sale = invoice(db, alfa)
    pay(db, alfa, "500.00", [(sale, "500.00")])
    assert (sale.state, sale.amount_residual) == ("partial", D("750.00"))
    [item] = banking.open_items(db, alfa.id)
    assert item["open"] == D("750.00") and item["invoice_id"] == sale.id and item["due_date"] == date(2026, 3, 3)

    pay(db, alfa, "750.00", [(sale, "750.00")], day=date(2026, 3, 20))
    db.commit()
    assert (sale.state, sale.amount_residual) == ("paid", D("0.00"))
    taken = db.execute(select(ReconciliationLine).where(ReconciliationLine.line_id == sale.receivable_line_id)).scalars()
    assert sorted(r.amount for r in taken) == [D("500.00"), D("750.00")]


def test_one_payment_settles_several_invoices(db, alfa):
    first, second = invoice(db, alfa, "1000.00"), invoice(db, alfa, "200.00")
    payment = pay(db, alfa, "1500.00", [(first, "1250.00"), (second, "250.00")])
    db.commit()
    assert [a.invoice.number for a in payment.allocations] == [first.number, second.number]
    assert first.state == second.state == "paid"
    assert lines_of(payment.entry) == [("1100", D("1500.00"), D("0.00")), ("1200", D("0.00"), D("250.00")),
                                       ("1200", D("0.00"), D("1250.00"))]


def test_over_payment_stays_an_open_credit_usable_against_the_next_invoice(db, alfa):
    sale = invoice(db, alfa)
    payment = pay(db, alfa, "1300.00", [(sale, "1250.00")])
    assert sale.state == "paid" and payment.unallocated == D("50.00")
    [credit] = banking.open_items(db, alfa.id)
    assert credit["open"] == D("-50.00") and credit["invoice_id"] is None
    assert banking.party_balance(db, alfa.id).receivable == D("-50.00")

    later = invoice(db, alfa, "100.00", day=date(2026, 3, 15))
    banking.reconcile_lines(db, [credit["line_id"], later.receivable_line_id], day=date(2026, 3, 16))
    db.commit()
    assert (later.state, later.amount_residual) == ("partial", D("75.00"))
    assert [item["open"] for item in banking.open_items(db, alfa.id)] == [D("75.00")]


def test_under_payment_is_left_open_or_written_off_on_request(db, alfa):
    kept, forgiven = invoice(db, alfa), invoice(db, alfa)
    pay(db, alfa, "1240.00", [(kept, "1240.00")])
    assert (kept.state, kept.amount_residual) == ("partial", D("10.00"))

    payment = pay(db, alfa, "1240.00", [(forgiven, "1240.00")], writeoff_account="6900")
    db.commit()
    assert (forgiven.state, forgiven.amount_residual) == ("paid", D("0.00"))
    assert payment.writeoff_amount == D("10.00") and payment.allocations[0].writeoff == D("10.00")
    assert lines_of(payment.entry) == [("1100", D("1240.00"), D("0.00")), ("1200", D("0.00"), D("1250.00")),
                                       ("6900", D("10.00"), D("0.00"))]


def test_paying_a_supplier_bill_debits_the_payable(db, beta):
    bill = invoice(db, beta, "400.00", kind="in_invoice")
    payment = pay(db, beta, "500.00", [(bill, "500.00")])
    db.commit()
    assert payment.kind == "outbound"
    assert lines_of(payment.entry) == [("1100", D("0.00"), D("500.00")), ("2100", D("500.00"), D("0.00"))]
    assert bill.state == "paid"
    assert banking.open_items(db, beta.id, "payable") == []


def test_realised_exchange_gain_and_loss_are_booked_in_the_payment_entry(db, alfa, beta, eur):
    # 1,000.00 EUR + VAT = 1,250.00 EUR booked at 7.40 = 9,250.00 DKK; paid at 7.50 = 9,375.00 DKK
    sale = invoice(db, alfa, currency="EUR")
    assert sale.receivable_line.debit == D("9250.00")
    payment = pay(db, alfa, "1250.00", [(sale, "1250.00")], currency="EUR")
    assert payment.rate == D("7.50000000") and payment.amount_company == D("9375.00")
    assert lines_of(payment.entry) == [("1100", D("9375.00"), D("0.00")), ("1200", D("0.00"), D("9250.00")),
                                       ("8100", D("0.00"), D("125.00"))]
    assert sale.state == "paid" and sale.amount_residual == D("0.00")

    # a bill of 400.00 EUR + VAT = 500.00 EUR booked at 7.40 = 3,700.00 DKK, half paid at 7.50
    bill = invoice(db, beta, "400.00", kind="in_invoice", currency="EUR")
    half = pay(db, beta, "250.00", [(bill, "250.00")], currency="EUR")
    db.commit()
    assert lines_of(half.entry) == [("1100", D("0.00"), D("1875.00")), ("2100", D("1850.00"), D("0.00")),
                                    ("8200", D("25.00"), D("0.00"))]
    assert (bill.state, bill.amount_residual) == ("partial", D("250.00"))
    [item] = banking.open_items(db, beta.id, "payable")
    assert (item["open"], item["open_currency"], item["currency"]) == (D("-1850.00"), D("-250.000"), "EUR")


def test_reconciliation_never_exceeds_a_line(db, alfa, backend):
    sale = invoice(db, alfa)
    pay(db, alfa, "1250.00", [(sale, "1250.00")])
    db.commit()
    other = invoice(db, alfa, "100.00")
    with pytest.raises(Exception, match="not open|open"):
        pay(db, alfa, "10.00", [(sale, "10.00")])
    db.rollback()
    # the database refuses it too, whatever a service might do
    line_id = sale.receivable_line_id
    rec_id = db.execute(text("SELECT reconciliation_id FROM accounting_reconciliation_line WHERE line_id = :id"),
                        {"id": line_id}).scalar()
    one_cent = 1 if backend == "sqlite" else D("0.01")
    with pytest.raises(Exception, match="beyond its amount"):
        db.execute(text("INSERT INTO accounting_reconciliation_line (reconciliation_id, line_id, amount) "
                        "VALUES (:r, :l, :a)"), {"r": rec_id, "l": line_id, "a": one_cent})
    db.rollback()
    assert other.state == "posted"


def test_allocations_are_checked(db, alfa, beta):
    sale = invoice(db, alfa)
    bill = invoice(db, beta, kind="in_invoice")
    db.commit()
    cases = [
        (dict(who=alfa, amount="100.00", allocations=[(sale, "200.00")]), "allocations"),
        (dict(who=alfa, amount="2000.00", allocations=[(sale, "1300.00")]), "allocations.0.amount"),
        (dict(who=alfa, amount="0", allocations=[(sale, "1.00")]), "amount"),
        (dict(who=alfa, amount="10.001", allocations=[]), "amount"),
        (dict(who=alfa, amount="10.00", allocations=[(bill, "10.00")]), "allocations.0"),
        (dict(who=alfa, amount="10.00", allocations=[], journal="SAL"), "journal"),
        (dict(who=alfa, amount="10.00", allocations=[]), "kind"),
        (dict(who=alfa, amount="10.00", allocations=[(sale, "5.00")], currency="EUR"), "allocations.0"),
    ]
    for kwargs, field in cases:
        who = kwargs.pop("who")
        with pytest.raises(Exception) as caught:
            pay(db, who, kwargs.pop("amount"), kwargs.pop("allocations"), **kwargs)
        assert getattr(caught.value, "field", None) == field, (field, caught.value)
        db.rollback()


def test_lock_date_refuses_payments_and_reconciliations_on_or_before_it(db, alfa):
    sale = invoice(db, alfa)
    credit_payment = pay(db, alfa, "100.00", [], kind="inbound")
    db.commit()
    db.get(Config, 1).lock_date = date(2026, 3, 31)
    db.flush()
    with pytest.raises(Exception) as caught:
        pay(db, alfa, "1250.00", [(sale, "1250.00")], day=date(2026, 3, 31))
    assert caught.value.field == "date"
    credit_line = next(line for line in credit_payment.entry.lines if line.account.code == "1200")
    with pytest.raises(Exception) as caught:
        banking.reconcile_lines(db, [credit_line.id, sale.receivable_line_id], day=date(2026, 3, 1))
    assert caught.value.field == "day"
    db.rollback()
    assert sale.state == "posted"


def test_exchange_difference_when_currency_items_are_matched_by_hand(db, alfa, eur):
    # a 100.00 EUR prepayment at 7.50 (750.00) later settles a 100.00 EUR invoice booked at 7.40 (740.00)
    prepaid = pay(db, alfa, "100.00", [], currency="EUR", kind="inbound")
    sale = invoice(db, alfa, "80.00", currency="EUR", day=date(2026, 2, 1))
    assert sale.amount_total == D("100.00") and sale.receivable_line.debit == D("740.00")
    credit = next(line for line in prepaid.entry.lines if line.account.code == "1200")
    banking.reconcile_lines(db, [credit.id, sale.receivable_line_id], day=date(2026, 3, 20))
    db.commit()
    assert (sale.state, sale.amount_residual) == ("paid", D("0.00"))
    assert banking.open_items(db, alfa.id) == []
    gain = db.execute(select(Line).join(Account).where(Account.code == "8100")).scalars().all()
    assert [(g.credit, g.debit) for g in gain] == [(D("10.00"), D("0.00"))]


def test_cancelling_a_payment_reverses_it_and_reopens_the_invoices(db, alfa):
    sale, other = invoice(db, alfa), invoice(db, alfa, "100.00")
    payment = pay(db, alfa, "1400.00", [(sale, "1250.00")])
    credit = next(i for i in banking.open_items(db, alfa.id) if i["invoice_id"] is None)
    banking.reconcile_lines(db, [credit["line_id"], other.receivable_line_id], day=date(2026, 3, 12))
    assert (sale.state, other.state, other.amount_residual) == ("paid", "paid", D("0.00"))

    banking.cancel_payment(db, payment, date=date(2026, 3, 20))
    db.commit()
    assert payment.state == "cancelled"
    assert (sale.state, sale.amount_residual) == ("posted", D("1250.00"))
    assert (other.state, other.amount_residual) == ("posted", D("125.00"))
    assert sorted(i["open"] for i in banking.open_items(db, alfa.id)) == [D("125.00"), D("1250.00")]
    assert banking.party_balance(db, alfa.id).receivable == D("1375.00")
    with pytest.raises(Exception) as caught:
        banking.cancel_payment(db, payment)
    assert caught.value.status == 409


def test_a_payment_reconciled_before_the_lock_date_cannot_be_cancelled(db, alfa):
    sale = invoice(db, alfa)
    payment = pay(db, alfa, "1250.00", [(sale, "1250.00")])
    db.get(Config, 1).lock_date = date(2026, 3, 31)
    db.commit()
    with pytest.raises(Exception) as caught:
        banking.cancel_payment(db, payment, date=date(2026, 4, 2))
    assert caught.value.field == "date"
    db.rollback()
    assert payment.state == "posted" and sale.state == "paid"


def test_a_matching_by_hand_can_be_undone(db, alfa, eur):
    prepaid = pay(db, alfa, "100.00", [], currency="EUR", kind="inbound")
    sale = invoice(db, alfa, "80.00", currency="EUR")
    credit = next(line for line in prepaid.entry.lines if line.account.code == "1200")
    matched = banking.reconcile_lines(db, [credit.id, sale.receivable_line_id], day=date(2026, 3, 20))
    assert sale.state == "paid"
    other = invoice(db, alfa, "10.00")
    pay(db, alfa, "12.50", [(other, "12.50")])
    [by_payment] = [r for r in banking.party_reconciliations(db, alfa.id) if r.payment_id]
    with pytest.raises(Exception) as caught:
        banking.undo_reconciliation(db, by_payment)
    assert caught.value.status == 409  # the payment's own matching: cancel the payment instead

    banking.undo_reconciliation(db, matched)
    db.commit()
    assert (sale.state, sale.amount_residual) == ("posted", D("100.00"))
    assert sorted(item["open"] for item in banking.open_items(db, alfa.id)) == [D("-750.00"), D("740.00")]
    assert other.state == "paid"
    gains = db.execute(select(Line).join(Account).where(Account.code == "8100")).scalars().all()
    assert sorted((g.debit, g.credit) for g in gains) == [(D("0.00"), D("10.00")), (D("10.00"), D("0.00"))]


def test_the_matching_of_a_cancelled_invoice_with_its_credit_note_stays(db, alfa):
    sale = invoice(db, alfa)
    invoicing.cancel_invoice(db, sale, date=date(2026, 2, 10))
    [matching] = banking.party_reconciliations(db, alfa.id)
    assert not banking.can_undo(db, matching)
    with pytest.raises(Exception) as caught:
        banking.undo_reconciliation(db, matching)
    assert caught.value.status == 409 and sale.state == "cancelled"


def test_a_merged_party_brings_its_open_items_along(db, alfa, app):
    from core.parties.services import merge_parties

    duplicate = party(db, "Alfa AS")
    old = invoice(db, duplicate, "100.00")
    prepaid = pay(db, alfa, "125.00", [], kind="inbound")
    hook = app.extensions["kontor"].pm.hook.party_merging
    merge_parties(db, duplicate, alfa, on_merging=hook)
    assert old.party_id == duplicate.id  # issued: it keeps its party, and is listed under the survivor
    assert sorted(item["open"] for item in banking.open_items(db, alfa.id)) == [D("-125.00"), D("125.00")]
    credit = next(line for line in prepaid.entry.lines if line.account.code == "1200")
    banking.reconcile_lines(db, [credit.id, old.receivable_line_id], day=date(2026, 3, 20))
    db.commit()
    assert old.state == "paid" and banking.party_balance(db, alfa.id).receivable == D("0.00")
