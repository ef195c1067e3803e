"""Financial reports over a small crafted ledger, figure by figure.

The books (company currency DKK, fiscal years = calendar years):

1. 2025-03-10  the owners pay in 10,000.00 share capital (bank / share capital).
2. 2025-06-15  invoice to Alfa: 1,000.00 sales + 250.00 VAT, due 2025-07-15.
3. 2025-08-01  rent bill from Beta, 400.00, due 2025-08-31.
4. The year 2025 is closed: its result 600.00 goes to retained earnings.
5. 2026-01-20  invoice to Alfa in EUR: 100.00 EUR at 7.455 = 745.50 services, due 2026-02-19.
6. 2026-02-05  123.45 other expenses paid in cash.
7. 2026-03-01  salaries 2,000.00 from the bank, reversed on 2026-03-02 (a mistake).
8. 2026-03-15  Alfa pays the 2025 invoice: 1,250.00 into the bank.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import KontorError
from core.parties.services import create_party
from plugins.accounting.ledger import services as ledger
from plugins.accounting.ledger import years
from plugins.accounting.ledger.models import FiscalYear
from plugins.accounting.testing import sample_books
from plugins.accounting.reports import aged, dashboard, figures, general_ledger, statements, trial_balance

D = Decimal


def _year(db, start: date) -> FiscalYear:
    found = db.execute(select(FiscalYear).where(FiscalYear.start_date == start)).scalar_one_or_none()
    return found or years.create_fiscal_year(db, start)


@pytest.fixture
def books(db):
    return sample_books(db)


def by_code(rows):
    return {row.code: row for row in rows}


# -- Trial balance --

def test_trial_balance_figures_per_account(db, books):
    report = trial_balance.trial_balance(db, date(2026, 1, 1), date(2026, 3, 31))
    rows = by_code(report.rows)
    # opening, debit, credit, closing
    assert rows["1100"].values == [D("10000.00"), D("3250.00"), D("2000.00"), D("11250.00")]
    assert rows["1110"].values == [D("0.00"), D("0.00"), D("123.45"), D("-123.45")]
    assert rows["1200"].values == [D("1250.00"), D("745.50"), D("1250.00"), D("745.50")]
    assert rows["3100"].values == [D("-600.00"), D("0.00"), D("0.00"), D("-600.00")]
    assert rows["4100"].values == [D("0.00"), D("0.00"), D("745.50"), D("-745.50")]
    # the salaries and their reversal: activity on both sides, nothing left
    assert rows["6000"].values == [D("0.00"), D("2000.00"), D("2000.00"), D("0.00")]
    # the closed year left nothing on income and expense accounts
    assert rows["4000"].values == [D("0.00")] * 4
    assert rows["6100"].values == [D("0.00")] * 4
    assert all(isinstance(v, Decimal) for row in report.rows for v in row.values)


def test_trial_balance_sums_to_zero(db, books):
    for start, end in [(date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 3, 31)),
                       (date(2025, 6, 15), date(2026, 1, 20))]:
        report = trial_balance.trial_balance(db, start, end)
        opening, debit, credit, closing = report.totals
        assert opening == D("0.00") and closing == D("0.00")
        assert debit == credit
    assert trial_balance.trial_balance(db, date(2026, 1, 1), date(2026, 3, 31)).totals[1] == D("6118.95")


def test_trial_balance_rolls_up_to_parents(db, books):
    report = trial_balance.trial_balance(db, date(2026, 1, 1), date(2026, 3, 31), roll_up=True)
    rows = by_code(report.rows)
    assets = rows["1"]
    assert assets.is_group and assets.depth == 0
    assert assets.values[3] == D("11250.00") + D("-123.45") + D("745.50")
    assert rows["1100"].depth == 1
    codes = [row.code for row in report.rows]
    assert codes.index("1") < codes.index("1100") < codes.index("1200")
    assert report.totals == trial_balance.trial_balance(db, date(2026, 1, 1), date(2026, 3, 31)).totals


def test_a_range_that_ends_before_it_starts_is_refused(db, books):
    with pytest.raises(KontorError) as refused:
        trial_balance.trial_balance(db, date(2026, 3, 1), date(2026, 1, 1))
    assert refused.value.field == "date_to"


# -- General ledger --

def test_general_ledger_opening_lines_and_running_balance(db, books):
    gl = general_ledger.general_ledger(db, "1100", date(2026, 1, 1), date(2026, 12, 31))
    assert gl.opening == D("10000.00")
    assert [(line.date, line.debit, line.credit, line.balance) for line in gl.lines] == [
        (date(2026, 3, 1), D("0.00"), D("2000.00"), D("8000.00")),
        (date(2026, 3, 2), D("2000.00"), D("0.00"), D("10000.00")),
        (date(2026, 3, 15), D("1250.00"), D("0.00"), D("11250.00")),
    ]
    assert (gl.debit, gl.credit, gl.closing) == (D("3250.00"), D("2000.00"), D("11250.00"))
    assert gl.next_cursor is None and gl.first
    assert all(line.entry_number.startswith(("GEN/2026/", "BNK/2026/")) for line in gl.lines)


def test_general_ledger_shows_foreign_currency_and_party(db, books):
    gl = general_ledger.general_ledger(db, "1200", date(2026, 1, 1), date(2026, 1, 31))
    (line,) = gl.lines
    assert (line.currency, line.amount_currency, line.party_name) == ("EUR", D("100.000"), "Alfa A/S")
    assert line.balance == D("1995.50")


def test_general_ledger_balance_is_right_on_every_page(db, books):
    # 25 more lines on the cash account, several on the same day, so pages cut inside a day
    specs = [{"journal": "CSH", "date": date(2026, 4, 1) + timedelta(days=i // 3),
              "lines": [{"account": "1110", "debit": f"{i + 1}.01", "credit": "0"},
                        {"account": "6900", "debit": "0", "credit": f"{i + 1}.01"}]} for i in range(25)]
    ledger.post_batch(db, specs)
    db.commit()
    whole = general_ledger.general_ledger(db, "1110", date(2026, 1, 1), date(2026, 12, 31), size=1000)
    assert len(whole.lines) == 26
    expected, balance = [], whole.opening
    for line in whole.lines:
        balance += line.debit - line.credit
        expected.append((line.id, balance))
    assert [(line.id, line.balance) for line in whole.lines] == expected
    seen, cursor, pages = [], None, 0
    while True:
        page = general_ledger.general_ledger(db, "1110", date(2026, 1, 1), date(2026, 12, 31), after=cursor, size=7)
        seen.extend((line.id, line.balance) for line in page.lines)
        pages += 1
        assert page.closing == whole.closing
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 4
    assert seen == expected


def test_general_ledger_of_a_parent_account_covers_its_subtree(db, books):
    gl = general_ledger.general_ledger(db, "1", date(2026, 1, 1), date(2026, 3, 31))
    assert gl.opening == D("11250.00")  # 10,000 bank + 1,250 receivable
    assert gl.closing == D("11872.05")


def test_general_ledger_refuses_a_bad_cursor_and_an_unknown_account(db, books):
    with pytest.raises(KontorError) as refused:
        general_ledger.general_ledger(db, "1100", date(2026, 1, 1), date(2026, 12, 31), after="yesterday")
    assert refused.value.field == "after"
    with pytest.raises(KontorError) as missing:
        general_ledger.general_ledger(db, "9999", date(2026, 1, 1), date(2026, 12, 31))
    assert missing.value.status == 404


# -- Profit and loss, balance sheet --

def test_profit_and_loss_with_previous_period(db, books):
    pl = statements.profit_and_loss(db, date(2026, 1, 1), date(2026, 3, 31), compare="previous")
    assert pl.compare == (date(2025, 10, 1), date(2025, 12, 31))
    income, expense = pl.sections
    assert by_code(income.rows)["4100"].values == [D("745.50"), D("0.00")]
    assert by_code(expense.rows)["6900"].values == [D("123.45"), D("0.00")]
    assert "6000" not in by_code(expense.rows)  # booked and reversed: nothing left
    # the year-end close on 2025-12-31 is not part of the year's income or expenses
    assert income.total == [D("745.50"), D("0.00")]
    assert pl.result == [D("622.05"), D("0.00")]


def test_profit_and_loss_of_a_closed_year_ignores_the_closing_entry(db, books):
    pl = statements.profit_and_loss(db, date(2026, 1, 1), date(2026, 12, 31), compare="year")
    assert pl.compare == (date(2025, 1, 1), date(2025, 12, 31))
    income, expense = pl.sections
    assert by_code(income.rows)["4000"].values == [D("0.00"), D("1000.00")]
    assert by_code(expense.rows)["6100"].values == [D("0.00"), D("400.00")]
    assert pl.result == [D("622.05"), D("600.00")]
    # parent groups carry their children's sums
    assert by_code(income.rows)["4"].values == [D("745.50"), D("1000.00")]


def test_profit_and_loss_custom_comparison(db, books):
    pl = statements.profit_and_loss(db, date(2026, 2, 1), date(2026, 2, 28), compare="custom",
                                 compare_from=date(2026, 1, 1), compare_to=date(2026, 1, 31))
    assert pl.result == [D("-123.45"), D("745.50")]
    with pytest.raises(KontorError) as refused:
        statements.profit_and_loss(db, date(2026, 2, 1), date(2026, 2, 28), compare="custom")
    assert refused.value.field == "compare_from"


def test_comparison_ranges():
    assert figures.comparison_range(date(2026, 3, 1), date(2026, 3, 31), "previous") == (date(2026, 2, 1),
                                                                                        date(2026, 2, 28))
    assert figures.comparison_range(date(2026, 1, 1), date(2026, 6, 30), "previous") == (date(2025, 7, 1),
                                                                                        date(2025, 12, 31))
    assert figures.comparison_range(date(2026, 3, 5), date(2026, 3, 14), "previous") == (date(2026, 2, 23),
                                                                                        date(2026, 3, 4))
    assert figures.comparison_range(date(2024, 2, 1), date(2024, 2, 29), "year") == (date(2023, 2, 1),
                                                                                    date(2023, 2, 28))
    assert figures.comparison_range(date(2026, 1, 1), date(2026, 1, 31), "none") is None


def test_balance_sheet_balances_with_the_current_result(db, books):
    bs = statements.balance_sheet(db, date(2026, 3, 31), compare="year")
    assets, liabilities, equity = bs.sections
    assert bs.compare == (date(2025, 1, 1), date(2025, 3, 31))
    assert by_code(assets.rows)["1100"].values == [D("11250.00"), D("10000.00")]
    assert by_code(assets.rows)["1200"].values == [D("745.50"), D("0.00")]
    assert assets.total == [D("11872.05"), D("10000.00")]
    assert liabilities.total == [D("650.00"), D("0.00")]
    assert by_code(equity.rows)["3100"].values == [D("600.00"), D("0.00")]
    current = [row for row in equity.rows if not row.code]
    assert [row.values for row in current] == [[D("622.05"), D("0.00")]]
    assert equity.total == [D("11222.05"), D("10000.00")]
    assert bs.result == [D("0.00"), D("0.00")]


def test_balance_sheet_shows_unclosed_earlier_years(db, books):
    # reopening 2025 (reversing its close) puts its result back among the unallocated
    year = db.execute(select(FiscalYear).where(FiscalYear.start_date == date(2025, 1, 1))).scalar_one()
    years.reopen_year(db, year)
    db.commit()
    bs = statements.balance_sheet(db, date(2026, 3, 31))
    equity = bs.sections[2]
    unallocated = {row.name: row.values[0] for row in equity.rows if not row.code}
    assert sorted(unallocated.values()) == [D("600.00"), D("622.05")]
    assert bs.result == [D("0.00")]


# -- Aged receivables and payables --

def test_aged_buckets_at_their_boundaries(db):
    _year(db, date(2026, 1, 1))
    on = date(2026, 6, 30)
    customer = create_party(db, {"name": "Gamma Oy", "kind": "company"})
    specs = []
    for days, amount in [(-5, "1.00"), (0, "2.00"), (1, "4.00"), (30, "8.00"), (31, "16.00"), (60, "32.00"),
                         (61, "64.00"), (90, "128.00"), (91, "256.00")]:
        due = on - timedelta(days=days)
        specs.append({"journal": "SAL", "date": min(due, on) - timedelta(days=1), "lines": [
            {"account": "1200", "debit": amount, "credit": "0", "party_id": customer.id, "due_date": due},
            {"account": "4000", "debit": "0", "credit": amount}]})
    specs.append({"journal": "PUR", "date": date(2026, 5, 1), "lines": [
        {"account": "6100", "debit": "50.00", "credit": "0"},
        {"account": "2100", "debit": "0", "credit": "50.00", "party_id": customer.id, "due_date": date(2026, 5, 31)}]})
    ledger.post_batch(db, specs)
    db.commit()
    report = aged.aged_balances(db, "receivable", on)
    (row,) = report.rows
    assert row.party_name == "Gamma Oy"
    assert row.buckets == [D("3.00"), D("12.00"), D("48.00"), D("192.00"), D("256.00")]
    assert report.total == D("511.00")
    payables = aged.aged_balances(db, "payable", on)
    assert payables.rows[0].buckets == [D("0.00"), D("50.00"), D("0.00"), D("0.00"), D("0.00")]
    # a day earlier, everything is one day younger; the lines dated after it are left out
    earlier = aged.aged_balances(db, "receivable", on - timedelta(days=1))
    assert earlier.rows[0].buckets == [D("7.00"), D("24.00"), D("96.00"), D("384.00"), D("0.00")]


def test_aged_receivables_of_the_books(db, books):
    report = aged.aged_balances(db, "receivable", date(2026, 3, 31))
    (alfa,) = report.rows
    # the 2025 invoice and its payment are not reconciled: the payment is an open credit
    assert alfa.party_name == "Alfa A/S"
    assert alfa.total == D("745.50")
    items = aged.party_open_items(db, "receivable", date(2026, 3, 31), alfa.party_id)
    assert sum(item.open_amount for item in items) == D("745.50")
    assert {item.days_overdue for item in items if item.open_amount == D("745.50")} == {40}


def test_aged_report_is_by_the_surviving_party_after_a_merge(app, db):
    from core.parties.services import merge_parties
    from plugins.accounting.ledger.models import Line

    _year(db, date(2026, 1, 1))
    on = date(2026, 6, 30)
    old = create_party(db, {"name": "Delta Handel", "kind": "company"})
    new = create_party(db, {"name": "Delta Handel ApS", "kind": "company"})
    for party, amount in ((old, "100.00"), (new, "20.00")):
        ledger.create_and_post(db, journal="SAL", date=date(2026, 6, 1), lines=[
            {"account": "1200", "debit": amount, "party_id": party.id, "due_date": date(2026, 6, 15)},
            {"account": "4000", "credit": amount}])
    db.commit()
    merge_parties(db, old, new, on_merging=app.extensions["kontor"].pm.hook.party_merging)
    db.commit()
    report = aged.aged_balances(db, "receivable", on)
    assert [(r.party_id, r.party_name, r.total) for r in report.rows] == [(new.id, "Delta Handel ApS", D("120.00"))]
    items = aged.party_open_items(db, "receivable", on, new.id)
    assert sorted(item.open_amount for item in items) == [D("20.00"), D("100.00")]
    # the posted lines still name the party they were booked on
    assert db.scalar(select(Line.party_id).where(Line.debit == D("100.00"))) == old.id


# -- Dashboard figures --

def test_monthly_result_and_cash_position(db, books):
    months = dashboard.monthly_result(db, date(2026, 3, 20))
    assert len(months) == 12 and months[0][0] == date(2025, 4, 1)
    by_month = {m[0]: (m[1], m[2]) for m in months}
    assert by_month[date(2025, 6, 1)] == (D("1000.00"), D("0.00"))
    assert by_month[date(2025, 8, 1)] == (D("0.00"), D("400.00"))
    assert by_month[date(2025, 12, 1)] == (D("0.00"), D("0.00"))  # the close is not income
    assert by_month[date(2026, 3, 1)] == (D("0.00"), D("0.00"))  # salaries and reversal
    cash = dashboard.cash_position(db, date(2026, 3, 20))
    assert cash[0] == (date(2025, 4, 30), D("10000.00"))
    assert cash[-2] == (date(2026, 2, 28), D("9876.55"))
    assert cash[-1] == (date(2026, 3, 31), D("11126.55"))
    balances = {a.code: a.balance for a in dashboard.cash_balances(db, date(2026, 3, 20))}
    assert balances == {"1100": D("11250.00"), "1110": D("-123.45")}
