"""Fiscal years and periods, and the year-end close (reversible only by reversing its entry)."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import KontorError
from plugins.accounting.ledger import services, years
from plugins.accounting.ledger.models import FiscalYear, Period


def current_year(db):
    today = date.today()
    return db.scalar(select(FiscalYear).where(FiscalYear.start_date <= today, FiscalYear.end_date >= today))


def test_create_year_with_monthly_periods(db):
    last = db.scalar(select(FiscalYear).order_by(FiscalYear.start_date.desc()))
    start = last.end_date + timedelta(days=1)
    year = years.create_fiscal_year(db, start)
    assert year.name == str(start.year) and len(year.periods) == 12
    assert year.periods[0].start_date == start and year.periods[-1].end_date == year.end_date
    assert all(a.end_date + timedelta(days=1) == b.start_date for a, b in zip(year.periods, year.periods[1:]))
    with pytest.raises(KontorError) as caught:
        years.create_fiscal_year(db, start + timedelta(days=40))
    assert caught.value.field == "start_date"


def test_split_fiscal_year():
    start, end = years.year_bounds(date(2026, 7, 1))
    assert end == date(2027, 6, 30) and years.year_name(start, end) == "2026-27"


def test_close_period_refuses_drafts(db):
    today = date.today()
    period = db.scalar(select(Period).where(Period.start_date <= today, Period.end_date >= today))
    draft = services.create_entry(db, journal="GEN", date=today, lines=[])
    with pytest.raises(KontorError) as caught:
        years.close_period(db, period)
    assert caught.value.field == "state"
    services.delete_entry(db, draft)
    years.close_period(db, period)
    assert period.state == "closed"
    years.reopen_period(db, period)
    assert period.state == "open"


def test_year_end_close_and_reopen_by_reversal(db, api):
    year = current_year(db)
    day = year.start_date + timedelta(days=10)
    services.create_and_post(db, journal="SAL", date=day, lines=[
        {"account": "1200", "debit": "1250.00"}, {"account": "4000", "credit": "1000.00"},
        {"account": "2200", "credit": "250.00"}])
    services.create_and_post(db, journal="PUR", date=day, lines=[
        {"account": "6100", "debit": "400.00"}, {"account": "2100", "credit": "400.00"}])
    draft = services.create_entry(db, journal="GEN", date=day, lines=[])
    with pytest.raises(KontorError) as caught:
        years.close_year(db, year)
    assert caught.value.status == 409
    services.delete_entry(db, draft)
    closing = years.close_year(db, year)
    db.commit()
    assert year.state == "closed" and year.closing_entry_id == closing.id
    assert closing.journal.code == "GEN" and closing.date == year.end_date and closing.state == "posted"
    balances = services.account_balances(db)
    code = {a: services.account_by_code(db, a).id for a in ("4000", "6100", "3100", "1200")}
    assert balances[code["4000"]] == 0 and balances[code["6100"]] == 0
    assert balances[code["3100"]] == Decimal("-600.00")  # the profit, a credit
    assert balances[code["1200"]] == Decimal("1250.00")  # balance sheet accounts untouched
    with pytest.raises(KontorError) as caught:  # nothing more is posted into a closed year
        services.create_and_post(db, journal="GEN", date=day, lines=[
            {"account": "1100", "debit": "1.00"}, {"account": "4000", "credit": "1.00"}])
    assert caught.value.field == "date"
    db.rollback()
    reversal = services.reverse_entry(db, db.merge(closing))
    db.commit()
    year = db.get(FiscalYear, year.id)
    assert year.state == "open" and year.closing_entry_id is None and reversal.date == year.end_date
    assert services.account_balances(db)[code["4000"]] == Decimal("-1000.00")
    assert services.verify_chains(db)[1] == []


def test_year_close_needs_permission(make_user_clients, in_app):
    with in_app() as db:
        year_id = current_year(db).id
        services.create_and_post(db, journal="GEN", date=date.today(), lines=[
            {"account": "1100", "debit": "300.00"}, {"account": "4100", "credit": "300.00"}])
    keeper = make_user_clients("keeper2", ["bookkeeper"])
    assert keeper.post_form(f"/accounting/years/{year_id}/close", {}).status_code == 403
    accountant = make_user_clients("acc2", ["accountant"])
    assert accountant.post_form(f"/accounting/years/{year_id}/close", {}).status_code == 302
    with in_app() as db:
        assert db.get(FiscalYear, year_id).state == "closed"
    page = accountant.get("/accounting/years").get_data(as_text=True)
    assert "Closed" in page
    again = accountant.post_form(f"/accounting/years/{year_id}/close", {})
    assert again.status_code == 409 and "already closed" in again.get_data(as_text=True)


@pytest.fixture
def make_user_clients(app, dispatcher):
    from tests.conftest import WebClient, make_user

    def make(username, roles):
        make_user(app, username, roles, "a long password 42")
        client = WebClient(dispatcher)
        assert client.login(username, "a long password 42").status_code == 302
        return client
    return make


@pytest.fixture
def in_app(app):
    """Run a block in its own app context and session, committed at the end (for tests that also make
    HTTP requests: a request would otherwise share and close the test's session)."""
    from contextlib import contextmanager

    @contextmanager
    def block():
        with app.app_context():
            from core.db import session

            yield session
            session.commit()
    return block


def test_cli_lock_date_and_close_year(kontor, db):
    year = current_year(db)
    name, year_id, day = year.name, year.id, (year.start_date + timedelta(days=3)).isoformat()
    db.rollback()  # end the test's transaction: each command opens its own
    assert kontor("accounting", "lock-date").output.strip() == "no lock date"
    moved = kontor("accounting", "lock-date", day)
    assert moved.exit_code == 0 and day in moved.output
    assert kontor("accounting", "lock-date").output.strip() == day
    assert kontor("accounting", "lock-date", "not-a-date").exit_code != 0
    closed = kontor("accounting", "close-year", name)
    assert closed.exit_code == 0, closed.output
    db.expire_all()
    assert db.get(FiscalYear, year_id).state == "closed"
    db.rollback()  # end the test's transaction: each command opens its own
    assert kontor("accounting", "close-year", name).exit_code != 0  # already closed
    assert kontor("accounting", "lock-date", "--clear").exit_code == 0
    db.rollback()
    assert services.lock_date(db) is None
