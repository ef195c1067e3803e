"""Unrealised revaluation at period end, with known rates and exact amounts.

The books (company currency DKK):

1. Rates: EUR 7.45 from 2026-01-01 and 7.46 from 2026-01-31; USD 6.80 from 2026-01-01 and 6.90
   from 2026-01-31.
2. 2026-01-05  200.00 EUR paid into the EUR bank account (1120) at 7.44 = 1,488.00.
3. 2026-01-10  invoice to Alfa: 1,000.00 EUR at 7.45 = 7,450.00.
4. 2026-01-12  bill from Beta: 500.00 USD at 6.80 = 3,400.00.
5. 2026-01-20  Alfa pays 400.00 EUR at 7.455 = 2,982.00, matched with the invoice: 600.00 EUR
   (4,470.00) stay open; the 2.00 more received is a realised gain.
6. Revaluation on 2026-01-31:  Alfa 600 × 7.46 = 4,476.00 → +6.00;  Beta −500 × 6.90 = −3,450.00
   → 50.00 more owed;  bank 200 × 7.46 = 1,492.00 → +4.00.  Gains 10.00 (8100), losses 50.00 (8200),
   reversed on 2026-02-01.
"""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import KontorError
from core.parties.services import create_party
from plugins.accounting.banking.services import open_items, reconcile_lines
from plugins.accounting.ledger import services as ledger
from plugins.accounting.ledger import years
from plugins.accounting.ledger.models import Account, Entry
from plugins.accounting.tax import services
from plugins.accounting.tax.revaluation import revalue

D = Decimal


def post(db, journal, day, lines):
    return ledger.create_and_post(db, journal=journal, date=day, lines=lines)


@pytest.fixture
def books(db):
    years.ensure_years(db, date(2026, 1, 1))
    assets = db.execute(select(Account).where(Account.code == "1")).scalar_one()
    db.add(Account(code="1120", name="Bank EUR", type="asset", kind="bank", parent_id=assets.id, postable=True,
                   reconcilable=True, active=True, currency="EUR"))
    for code, day, rate in (("EUR", "2026-01-01", "7.45"), ("EUR", "2026-01-31", "7.46"),
                            ("USD", "2026-01-01", "6.80"), ("USD", "2026-01-31", "6.90")):
        services.set_rate(db, code, day, rate)
    alfa = create_party(db, {"name": "Alfa GmbH", "kind": "company"})
    beta = create_party(db, {"name": "Beta Inc.", "kind": "company"})
    post(db, "GEN", date(2026, 1, 5), [
        {"account": "1120", "debit": "1488.00", "currency": "EUR", "amount_currency": "200.00", "rate": "7.44"},
        {"account": "3000", "credit": "1488.00"}])
    invoice = post(db, "SAL", date(2026, 1, 10), [
        {"account": "1200", "debit": "7450.00", "party_id": alfa.id, "currency": "EUR", "amount_currency": "1000.00",
         "rate": "7.45"},
        {"account": "4000", "credit": "7450.00"}])
    post(db, "PUR", date(2026, 1, 12), [
        {"account": "5100", "debit": "3400.00"},
        {"account": "2100", "credit": "3400.00", "party_id": beta.id, "currency": "USD", "amount_currency": "-500.00",
         "rate": "6.80"}])
    payment = post(db, "BNK", date(2026, 1, 20), [
        {"account": "1100", "debit": "2982.00"},
        {"account": "1200", "credit": "2982.00", "party_id": alfa.id, "currency": "EUR", "amount_currency": "-400.00",
         "rate": "7.455"}])
    receivable = [line for line in invoice.lines if line.account.code == "1200"][0]
    paid = [line for line in payment.lines if line.account.code == "1200"][0]
    reconcile_lines(db, [receivable, paid], day=date(2026, 1, 20))
    db.commit()
    return {"alfa": alfa, "beta": beta}


def lines_of(entry):
    return sorted((line.account.code, line.debit, line.credit, line.party_id) for line in entry.lines)


def test_revaluation_posts_the_differences_and_reverses_them(db, books):
    alfa, beta = books["alfa"].id, books["beta"].id
    entry, reversal = revalue(db, date(2026, 1, 31))
    db.commit()
    assert entry.state == "posted" and entry.journal.code == "GEN" and entry.date == date(2026, 1, 31)
    assert lines_of(entry) == sorted([
        ("1120", D("4.00"), D("0.00"), None),
        ("1200", D("6.00"), D("0.00"), alfa),
        ("2100", D("0.00"), D("50.00"), beta),
        ("8100", D("0.00"), D("10.00"), None),
        ("8200", D("50.00"), D("0.00"), None),
    ])
    assert reversal.date == date(2026, 2, 1) and reversal.reversal_of_id == entry.id
    assert lines_of(reversal) == sorted((code, credit, debit, party) for code, debit, credit, party in lines_of(entry))
    balances = ledger.account_balances(db, date_to=date(2026, 1, 31))
    codes = dict(db.execute(select(Account.code, Account.id)).all())
    # 8100 also holds the 2.00 realised on the payment (2,982.00 paid for 2,980.00 of the invoice)
    assert balances[codes["8100"]] == D("-12.00") and balances[codes["8200"]] == D("50.00")


def test_the_revaluation_is_open_at_period_end_and_settled_by_its_reversal(db, books):
    alfa = books["alfa"].id
    revalue(db, date(2026, 1, 31))
    at_end = open_items(db, party_id=alfa, on=date(2026, 1, 31))
    assert sorted((item["open"], item["open_currency"]) for item in at_end) == [(D("6.00"), D("0.000")),
                                                                                 (D("4470.00"), D("600.000"))]
    after = open_items(db, party_id=alfa, on=date(2026, 2, 1))
    assert [(item["open"], item["open_currency"]) for item in after] == [(D("4470.00"), D("600.000"))]
    assert open_items(db, party_id=books["beta"].id, account_kind="payable")[0]["open"] == D("-3400.00")


def test_revaluing_the_same_day_again_posts_nothing(db, books):
    assert revalue(db, date(2026, 1, 31)) is not None
    assert revalue(db, date(2026, 1, 31)) is None


def test_the_next_period_starts_again_from_historical_amounts(db, books):
    revalue(db, date(2026, 1, 31))
    services.set_rate(db, "EUR", "2026-02-27", "7.47")
    entry, reversal = revalue(db, date(2026, 2, 28))
    # Alfa 600 × 7.47 = 4,482.00 against 4,470.00; bank 200 × 7.47 = 1,494.00 against 1,488.00
    amounts = {line.account.code: (line.debit, line.credit) for line in entry.lines}
    assert amounts["1200"] == (D("12.00"), D("0.00"))
    assert amounts["1120"] == (D("6.00"), D("0.00"))
    assert amounts["2100"] == (D("0.00"), D("50.00"))
    assert reversal.date == date(2026, 3, 1)


def test_nothing_open_in_a_foreign_currency_means_no_entry(db):
    years.ensure_years(db, date(2026, 1, 1))
    assert revalue(db, date(2026, 1, 31)) is None
    assert db.execute(select(Entry)).first() is None


def test_a_missing_rate_refuses_and_posts_nothing(db, books):
    post(db, "SAL", date(2026, 1, 15), [
        {"account": "1200", "debit": "94.00", "party_id": books["alfa"].id, "currency": "CHF",
         "amount_currency": "100.00", "rate": "0.94"},
        {"account": "4000", "credit": "94.00"}])
    db.commit()
    with pytest.raises(KontorError) as refused:
        revalue(db, date(2026, 1, 31))
    db.rollback()
    assert refused.value.field == "currency" and "CHF" in refused.value.message
    assert db.execute(select(Entry).where(Entry.source.like("revaluation:%"))).first() is None


def test_revalue_from_the_command_line(kontor, app, books):
    result = kontor("accounting", "revalue", "--date", "2026-01-31")
    assert result.exit_code == 0, result.output
    assert "reversed by GEN/2026/" in result.output
    again = kontor("accounting", "revalue", "--date", "2026-01-31")
    assert "nothing to revalue" in again.output


def test_revalue_from_the_currencies_page(admin_client, books, db):
    response = admin_client.post_form("/accounting/revalue", {"date": "2026-01-31"})
    assert response.status_code == 303
    db.expire_all()
    assert db.execute(select(Entry).where(Entry.source == "revaluation:2026-01-31")).scalars().all()
    bad = admin_client.post_form("/accounting/revalue", {"date": "31/01/2026"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)
