"""Books per company: two companies of one group, each with its own chart, taxes, numbering, lock
date and figures, and nothing of one seen from the other on any path; an instance of one company
migrates without breaking a hash chain."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from core import KontorError, all_companies, current_company_id, in_company
from core.testing import factories

from plugins.accounting.invoicing import services as invoicing
from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.ledger import services as ledger, years
from plugins.accounting.ledger.models import Account, Config, Entry, Journal, Line
from plugins.accounting.reports import dashboard, trial_balance
from plugins.accounting.tax.models import Tax
from plugins.accounting.testing import balanced_lines, customer, ensure_year, posted_invoice

DAY = date(2026, 2, 10)
#: what only the second company's books hold: its sale's reference and net amount
SECRET_REFERENCE = "NORDLYS-GEHEIM-42"
SECRET_AMOUNT = "7777.00"


def _sale_in_second(db, party) -> Invoice:
    """The second company's sale: 7,777.00 EUR net with the German 19 % VAT."""
    ensure_year(db, DAY)
    sale = invoicing.create_invoice(db, "out_invoice", {
        "party_id": party.id, "invoice_date": DAY.isoformat(), "currency": "EUR", "reference": SECRET_REFERENCE,
        "lines": [{"description": "Leuchten", "quantity": "1", "unit_price": SECRET_AMOUNT, "taxes": ["DE-S19"],
                   "account": "4000"}]})
    invoicing.post_invoice(db, sale)
    return sale


@pytest.fixture
def group(app):
    """The default company (Danish, DKK) with a posted sale of 1,000.00 + 25 % VAT, and a German EUR
    company with a posted sale of 7,777.00 + 19 % VAT; committed. Ids and numbers."""
    from core.db import session as db

    with app.app_context():
        first = current_company_id(db)
        second = factories.group_company(db, "Nordlys Vertrieb GmbH", country="DE", base_currency="EUR",
                                         locale="de")
        alfa = customer(db)
        sale_a = posted_invoice(db, alfa, day=DAY)
        with in_company(second.id):
            sale_b = _sale_in_second(db, alfa)
            account_b = db.scalar(select(Account).where(Account.code == "4000"))
            found = {"second_sale": sale_b.id, "second_number": sale_b.number, "second_entry": sale_b.entry_id,
                     "second_account": account_b.id}
        db.commit()
        return {"first": first, "second": second.id, "party": alfa.id, "first_sale": sale_a.id,
                "first_number": sale_a.number, **found}


# -- Each company's own books --


def test_each_company_has_its_own_chart_taxes_journals_and_settings_for_its_country(app, db, group):
    taxes_a = {t.code: t.rate for t in db.scalars(select(Tax))}
    assert "DK-S25" in taxes_a and not any(code.startswith("DE-") for code in taxes_a)
    with in_company(group["second"]):
        taxes_b = {t.code: t.rate for t in db.scalars(select(Tax))}
        assert taxes_b["DE-S19"] == Decimal("19.0000")
        assert not any(code.startswith("DK-") for code in taxes_b)
        codes_b = set(db.scalars(select(Account.code)))
        journals_b = set(db.scalars(select(Journal.code)))
        config_b = ledger.get_config(db)
        assert config_b.company_id == group["second"]
        assert db.get(Journal, config_b.sales_journal_id).company_id == group["second"]
    assert codes_b == set(db.scalars(select(Account.code)))  # the same generic chart, loaded twice
    assert journals_b == set(db.scalars(select(Journal.code)))
    with all_companies():
        assert db.scalar(select(text("count(*)")).select_from(Config)) == 2
        owners = {row.company_id for row in db.execute(select(Account.company_id).where(Account.code == "4000"))}
        assert owners == {group["first"], group["second"]}


def test_numbering_is_gapless_and_independent_per_company(app, db, group):
    assert group["first_number"] == group["second_number"] == "SAL/2026/00001"
    from core import Party

    alfa = db.get(Party, group["party"])
    assert posted_invoice(db, alfa, day=DAY).number == "SAL/2026/00002"
    assert posted_invoice(db, alfa, day=DAY).number == "SAL/2026/00003"
    with in_company(group["second"]):
        assert _sale_in_second(db, alfa).number == "SAL/2026/00002"
        entry = ledger.create_and_post(db, journal="GEN", date=DAY, lines=balanced_lines("5.00"))
        assert entry.number == "GEN/2026/00001" and entry.company_id == group["second"]
        assert all(line.company_id == group["second"] for line in entry.lines)
    db.commit()
    assert ledger.verify_chains(db)[1] == []
    results = ledger.verify_every_company(db)
    assert set(results) == {group["first"], group["second"]}
    assert all(not breaks for _checked, breaks in results.values())
    assert results[group["second"]][0] == 3  # two sales and one general entry


def test_the_lock_date_of_one_company_does_not_lock_the_other(app, db, group):
    years.set_lock_date(db, date(2026, 3, 31))
    db.commit()
    with pytest.raises(KontorError) as refused:
        ledger.create_and_post(db, journal="GEN", date=date(2026, 3, 15), lines=balanced_lines())
    assert refused.value.field == "date"
    db.rollback()
    with in_company(group["second"]):
        assert ledger.lock_date(db) is None
        # the database's own guard reads the lock date of the row's company too
        entry = ledger.create_and_post(db, journal="GEN", date=date(2026, 3, 15), lines=balanced_lines())
        db.commit()
        assert entry.state == "posted"
    assert ledger.lock_date(db) == date(2026, 3, 31)


def test_an_invoice_line_onto_an_account_of_another_company_is_refused(app, db, group):
    from core import Party

    alfa = db.get(Party, group["party"])
    data = {"party_id": alfa.id, "invoice_date": DAY.isoformat(), "currency": "DKK",
            "lines": [{"description": "Work", "quantity": "1", "unit_price": "10.00", "taxes": [],
                       "account": group["second_account"]}]}
    with pytest.raises(KontorError) as refused:
        invoicing.create_invoice(db, "out_invoice", data)
    assert refused.value.field.endswith("account")
    db.rollback()
    # even while reading both companies, a document of the first takes none of the second's accounts
    with in_company(group["first"], companies=[group["first"], group["second"]]):
        with pytest.raises(KontorError):
            invoicing.create_invoice(db, "out_invoice", data)
        db.rollback()
        with pytest.raises(KontorError):
            ledger.create_entry(db, journal="GEN", date=DAY, lines=[{"account": group["second_account"], "debit": "1"},
                                                                    {"account": "4000", "credit": "1"}])
    db.rollback()


def test_the_base_currency_is_locked_by_the_current_companys_entries_only(app, db, group):
    from core.company.services import locked_fields

    assert "base_currency" in locked_fields(db)
    third = factories.group_company(db, "Tredje AB", country="SE", base_currency="SEK", locale="sv")
    with in_company(third.id):
        assert "base_currency" not in locked_fields(db)


# -- Nothing of the other company on any path --


def test_a_user_of_one_company_sees_none_of_the_others_books_in_the_pages(admin_client, app, group):
    lists = [admin_client.get(path).get_data(as_text=True)
             for path in ("/accounting/invoices", "/accounting/invoices?q=NORDLYS", "/accounting/entries",
                          "/accounting/entries?q=NORDLYS", "/accounting/accounts",
                          "/accounting/invoices?format=csv", "/accounting/accounts?format=csv",
                          "/accounting/reports/trial-balance?date_from=2026-01-01&date_to=2026-12-31",
                          "/accounting/reports/trial-balance?date_from=2026-01-01&date_to=2026-12-31&format=csv",
                          "/accounting/reports/widgets/receivables", "/accounting/reports/widgets/monthly-result")]
    for body in lists:
        assert SECRET_REFERENCE not in body
        assert "7,777" not in body and "7777" not in body and "7.777" not in body
        assert "9,254" not in body and "9254" not in body  # 7,777.00 + 19 % VAT
    assert group["first_number"] in lists[0]
    for path in (f"/accounting/invoices/{group['second_sale']}", f"/accounting/invoices/{group['second_sale']}/print",
                 f"/accounting/entries/{group['second_entry']}",
                 f"/accounting/accounts/{group['second_account']}/edit"):
        assert admin_client.get(path).status_code == 404, path


def test_a_user_of_one_company_sees_none_of_the_others_books_in_the_api(api, app, group):
    listed = api.get("/api/v1/accounting/invoices").get_json()["items"]
    assert {item["id"] for item in listed} == {group["first_sale"]}
    for path in (f"/api/v1/accounting/invoices/{group['second_sale']}",
                 f"/api/v1/accounting/entries/{group['second_entry']}",
                 f"/api/v1/accounting/accounts/{group['second_account']}"):
        assert api.get(path).status_code == 404, path
    entries = api.get("/api/v1/accounting/entries").get_json()["items"]
    assert group["second_entry"] not in {item["id"] for item in entries}
    accounts = api.get("/api/v1/accounting/accounts").get_json()["items"]
    assert group["second_account"] not in {item["id"] for item in accounts}
    # naming a company one does not work in changes nothing
    again = api.get(f"/api/v1/accounting/invoices?company={group['second']}")
    assert group["second_sale"] not in {item["id"] for item in (again.get_json() or {}).get("items", [])}
    balance = api.get("/api/v1/accounting/reports/trial-balance?date_from=2026-01-01&date_to=2026-12-31")
    body = balance.get_data(as_text=True)
    assert balance.status_code == 200 and "7777" not in body and "9254" not in body


def test_the_figures_of_each_company_are_its_own(app, db, group):
    def sales_total() -> Decimal:
        report = trial_balance.trial_balance(db, date(2026, 1, 1), date(2026, 12, 31))
        return sum((row.values[2] - row.values[1] for row in report.rows if row.code == "4000"), Decimal("0.00"))

    def february_income() -> Decimal:
        return sum((income for month, income, _exp in dashboard.monthly_result(db, date(2026, 2, 28))
                    if month == date(2026, 2, 1)), Decimal("0.00"))

    assert sales_total() == Decimal("1000.00") and february_income() == Decimal("1000.00")
    with in_company(group["second"]):
        assert sales_total() == Decimal(SECRET_AMOUNT) and february_income() == Decimal(SECRET_AMOUNT)
    with in_company(group["first"], companies=[group["first"], group["second"]]):
        assert february_income() == Decimal("8777.00")  # a report over both sees both, when asked


# -- Migration --


def test_migrating_a_one_company_database_with_posted_entries_keeps_every_chain(app, db):
    import plugins
    from core.modules import migrate
    from core.modules.lifecycle import migration_connection

    for amount in ("1.00", "2.00"):
        ledger.create_and_post(db, journal="GEN", date=DAY, lines=balanced_lines(amount))
    posted_invoice(db, customer(db), day=DAY)
    db.commit()
    checked, breaks = ledger.verify_chains(db)
    assert checked == 3 and breaks == []
    heads = dict(db.execute(select(Journal.code, Journal.last_hash)).all())
    default = current_company_id(db)  # the one company (id 1 on an instance that had no companies yet)
    db.close()

    engine = db.get_bind()
    locations = [Path(plugins.__file__).parent / "accounting" / "migrations"]
    with migration_connection(engine) as conn:  # on SQLite, foreign keys checked before the commit
        migrate.downgrade(conn, "accounting@accounting_0006", locations)
        assert "company_id" not in {c["name"] for c in inspect(conn).get_columns("accounting_entry")}
        migrate.upgrade(conn, "accounting@head", locations)

    with all_companies():
        for model in (Entry, Line, Journal, Account, Config, Invoice, Tax):
            assert set(db.scalars(select(model.company_id).distinct())) == {default}, model
    assert dict(db.execute(select(Journal.code, Journal.last_hash)).all()) == heads
    checked, breaks = ledger.verify_chains(db)
    assert checked == 3 and breaks == []
    # the chains go on, the lock date still guards, and the numbering continues
    entry = ledger.create_and_post(db, journal="GEN", date=DAY, lines=balanced_lines("3.00"))
    assert entry.number == "GEN/2026/00003"
    years.set_lock_date(db, DAY)
    db.commit()
    assert ledger.verify_chains(db) == (4, [])
    with pytest.raises(Exception):
        db.execute(text("INSERT INTO accounting_entry (journal_id, date, reference, narration, state, source, "
                        "previous_hash, hash, created_at, company_id) VALUES (:j, :d, '', '', 'draft', '', '', '', "
                        ":d, :c)"), {"j": entry.journal_id, "d": DAY, "c": default})
    db.rollback()
