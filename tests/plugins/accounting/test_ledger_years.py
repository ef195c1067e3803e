"""Fiscal years and periods, and the year-end close (reversible only by reversing its entry)."""
import re
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


def last_year(db):
    """The fiscal year before the current one (created here: install makes the current and the next)."""
    current = current_year(db)
    start = years.company_year_start(db, current.start_date - timedelta(days=1))
    return years.create_fiscal_year(db, start)


def test_year_end_close_and_reopen(db):
    year = last_year(db)
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
    with pytest.raises(KontorError) as caught:  # a bare reversal would bypass the accountant's reopen
        services.reverse_entry(db, db.merge(closing))
    assert caught.value.status == 409 and "reopen" in caught.value.message
    db.rollback()
    reversal = years.reopen_year(db, db.get(FiscalYear, year.id))
    db.commit()
    year = db.get(FiscalYear, year.id)
    assert year.state == "open" and year.closing_entry_id is None
    assert reversal.date == year.end_date and reversal.reversal_of_id == closing.id
    assert services.account_balances(db)[code["4000"]] == Decimal("-1000.00")
    assert services.verify_chains(db)[1] == []
    from core.audit.models import AuditRecord
    assert db.scalar(select(AuditRecord).where(AuditRecord.action == "accounting.year.reopen",
                                               AuditRecord.record_id == str(year.id))) is not None
    services.create_and_post(db, journal="GEN", date=day, lines=[  # the year takes postings again
        {"account": "1100", "debit": "1.00"}, {"account": "4000", "credit": "1.00"}])


def test_a_year_closes_only_after_its_end_and_after_the_years_before_it(db):
    current, earlier = current_year(db), last_year(db)
    following = db.scalar(select(FiscalYear).where(FiscalYear.start_date > current.end_date))
    db.commit()
    for year, words in ((current, "ends on"), (following, "ends on")):
        with pytest.raises(KontorError) as caught:
            years.close_year(db, year)
        assert caught.value.status == 409 and caught.value.field == "state" and words in caught.value.message
        assert db.get(FiscalYear, year.id).state == "open"
    # on its last day, the current year may close, but not while the year before it is open
    with pytest.raises(KontorError) as caught:
        years.close_year(db, current, today=current.end_date)
    assert caught.value.status == 409 and earlier.name in caught.value.message
    assert years.close_year(db, earlier) is None  # nothing to move: closed without an entry
    years.close_year(db, current, today=current.end_date)
    db.commit()
    assert current.state == "closed" and earlier.state == "closed"
    # reopen in reverse order: the earlier year waits for the later one
    with pytest.raises(KontorError) as caught:
        years.reopen_year(db, earlier)
    assert caught.value.status == 409 and current.name in caught.value.message
    years.reopen_year(db, current)
    assert years.reopen_year(db, earlier) is None and earlier.state == "open"
    with pytest.raises(KontorError) as caught:
        years.reopen_year(db, earlier)
    assert caught.value.status == 409


def test_reopen_refused_under_the_lock_date(db):
    year = last_year(db)
    years.close_year(db, year)
    years.set_lock_date(db, year.end_date)
    with pytest.raises(KontorError) as caught:
        years.reopen_year(db, year)
    assert caught.value.field == "state" and "lock date" in caught.value.message
    assert year.state == "closed"


def test_api_close_and_reopen(api, in_app):
    with in_app() as db:
        ids = (current_year(db).id, last_year(db).id)
    early = api.post(f"/api/v1/accounting/fiscal-years/{ids[0]}/close")
    assert early.status_code == 409 and early.mimetype == "application/problem+json"
    assert "state" in early.get_json()["errors"]
    assert api.post(f"/api/v1/accounting/fiscal-years/{ids[1]}/close").get_json()["state"] == "closed"
    assert api.post(f"/api/v1/accounting/fiscal-years/{ids[0]}/reopen").status_code == 409  # open
    reopened = api.post(f"/api/v1/accounting/fiscal-years/{ids[1]}/reopen")
    assert reopened.status_code == 200 and reopened.get_json()["state"] == "open"
    assert api.post("/api/v1/accounting/fiscal-years/999999/reopen").status_code == 404


def test_year_close_and_reopen_need_permission(make_user_clients, in_app):
    with in_app() as db:
        current_id = current_year(db).id
        year = last_year(db)
        year_id = year.id
        services.create_and_post(db, journal="GEN", date=year.start_date, lines=[
            {"account": "1100", "debit": "300.00"}, {"account": "4100", "credit": "300.00"}])
    keeper = make_user_clients("keeper2", ["bookkeeper"])
    assert keeper.post_form(f"/accounting/years/{year_id}/close", {}).status_code == 403
    accountant = make_user_clients("acc2", ["accountant"])
    page = accountant.get("/accounting/years").get_data(as_text=True)
    # the current year has not ended: its close button is disabled, with the reason beside it
    assert re.search(rf'disabled aria-describedby="why-{current_id}"', page)
    assert re.search(rf'id="why-{current_id}"[^>]*>[^<]*ends on', page)
    assert f"/accounting/years/{current_id}/close" not in page and f"/accounting/years/{year_id}/close" in page
    early = accountant.post_form(f"/accounting/years/{current_id}/close", {})
    assert early.status_code == 409 and "ends on" in early.get_data(as_text=True)
    assert accountant.post_form(f"/accounting/years/{year_id}/close", {}).status_code == 303
    with in_app() as db:
        assert db.get(FiscalYear, year_id).state == "closed"
    page = accountant.get("/accounting/years").get_data(as_text=True)
    assert "Closed" in page and f"/accounting/years/{year_id}/reopen" in page and "data-confirm" in page
    again = accountant.post_form(f"/accounting/years/{year_id}/close", {})
    assert again.status_code == 409 and "already closed" in again.get_data(as_text=True)
    assert keeper.post_form(f"/accounting/years/{year_id}/reopen", {}).status_code == 403
    assert accountant.post_form(f"/accounting/years/{year_id}/reopen", {}).status_code == 303
    with in_app() as db:
        assert db.get(FiscalYear, year_id).state == "open"


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


def test_cli_lock_date_close_and_reopen_year(kontor, db):
    current = current_year(db)
    year = last_year(db)
    db.commit()
    name, year_id, day = year.name, year.id, (year.start_date + timedelta(days=3)).isoformat()
    db.rollback()  # end the test's transaction: each command opens its own
    assert kontor("accounting", "lock-date").output.strip() == "no lock date"
    moved = kontor("accounting", "lock-date", day)
    assert moved.exit_code == 0 and day in moved.output
    assert kontor("accounting", "lock-date").output.strip() == day
    assert kontor("accounting", "lock-date", "not-a-date").exit_code != 0
    early = kontor("accounting", "close-year", current.name)
    assert early.exit_code != 0 and "ends on" in early.output
    closed = kontor("accounting", "close-year", name)
    assert closed.exit_code == 0, closed.output
    db.expire_all()
    assert db.get(FiscalYear, year_id).state == "closed"
    db.rollback()  # end the test's transaction: each command opens its own
    assert kontor("accounting", "close-year", name).exit_code != 0  # already closed
    reopened = kontor("accounting", "reopen-year", name)
    assert reopened.exit_code == 0 and "reopened" in reopened.output, reopened.output
    db.expire_all()
    assert db.get(FiscalYear, year_id).state == "open"
    db.rollback()
    assert kontor("accounting", "reopen-year", name).exit_code != 0  # open already
    assert kontor("accounting", "reopen-year", "1900").exit_code != 0
    assert kontor("accounting", "lock-date", "--clear").exit_code == 0
    db.rollback()
    assert services.lock_date(db) is None
