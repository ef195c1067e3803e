"""The ledger's services: posting and its rules, fiscal years and the year-end close, the chart, the
integrity guards, a state machine of postings and concurrent posting.
"""
from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings as hsettings, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule, run_state_machine_as_test
from sqlalchemy import create_engine, func, select, text

from core import KontorError
from core.db import get_engine, make_sessionmaker

from plugins.accounting.invoicing import intercompany
from plugins.accounting.ledger import chart, services, years
from plugins.accounting.ledger.models import Account, Entry, FiscalYear, Line, Period
from plugins.accounting.testing import balanced_lines, current_year, last_year
from tests.core import live_server


# -- posting --


TODAY = date.today()


def refusal(db, lines, **kwargs):
    entry = services.create_entry(db, journal=kwargs.pop("journal", "GEN"), date=kwargs.pop("date", TODAY), lines=lines)
    with pytest.raises(KontorError) as caught:
        services.post_entry(db, entry)
    db.rollback()
    return caught.value


def test_default_data(db):
    from plugins.accounting import account_for

    assert account_for(db, "accounting.retained_earnings") == services.account_by_code(db, "3100")
    assert services.account_by_code(db, "1200").kind == "receivable"
    assert services.journal_by_code(db, "BNK").default_account_id == services.account_by_code(db, "1100").id
    years = db.scalars(select(FiscalYear).order_by(FiscalYear.start_date)).all()
    assert len(years) == 2 and years[0].start_date <= TODAY <= years[0].end_date
    assert all(len(y.periods) == 12 for y in years)
    assert years[1].start_date == years[0].end_date + timedelta(days=1)


@pytest.mark.parametrize("lines, field", [
    ([{"account": "1100", "debit": "10.00"}], "lines"),
    ([{"account": "1100", "debit": "10.00"}, {"account": "4000", "credit": "9.99"}], "lines"),
    ([{"account": "1100"}, {"account": "4000"}], "lines[0].debit"),
    ([{"account": "1", "debit": "10.00"}, {"account": "4000", "credit": "10.00"}], "lines[0].account"),
])
def test_posting_rules_name_the_field(db, lines, field):
    assert refusal(db, lines).field == field


def test_input_rules_name_the_field(db):
    for lines, field in (([{"account": "9999", "debit": "1"}], "lines[0].account"),
                         ([{"account": "1100", "debit": "-1"}], "lines[0].debit"),
                         ([{"account": "1100", "debit": "1.001"}], "lines[0].debit"),
                         ([{"account": "1100", "debit": "abc"}], "lines[0].debit"),
                         ([{"account": "1100", "debit": 1.5}], "lines[0].debit")):
        with pytest.raises(KontorError) as caught:
            services.create_entry(db, journal="GEN", date=TODAY, lines=lines)
        assert caught.value.field == field
    with pytest.raises(KontorError) as caught:
        services.create_entry(db, journal="NOPE", date=TODAY, lines=[])
    assert caught.value.field == "journal"


def test_a_line_with_both_a_debit_and_a_credit_is_refused_when_drafted(db):
    both = [{"account": "1100", "debit": "10.00", "credit": "10.00"}, {"account": "4000", "credit": "0"}]
    with pytest.raises(KontorError) as caught:
        services.create_entry(db, journal="GEN", date=TODAY, lines=both)
    assert caught.value.field == "lines[0].debit" and caught.value.status == 422
    db.rollback()
    draft = services.create_entry(db, journal="GEN", date=TODAY, lines=balanced_lines())
    with pytest.raises(KontorError) as caught:
        services.update_entry(db, draft, lines=[balanced_lines()[0], {"account": "4000", "debit": "1", "credit": "10.00"}])
    assert caught.value.field == "lines[1].debit"


def test_inactive_account_and_closed_period_and_no_year(db):
    account = services.account_by_code(db, "6100")
    account.active = False
    db.flush()
    assert refusal(db, balanced_lines(debit="6100", credit="1100")).field == "lines[0].account"
    period = db.scalar(select(Period).where(Period.start_date <= TODAY, Period.end_date >= TODAY))
    period.state = "closed"
    db.commit()
    error = refusal(db, balanced_lines())
    assert error.field == "date" and "closed" in error.message
    far = date(TODAY.year + 5, 1, 1)
    assert refusal(db, balanced_lines(), date=far).field == "date"


def test_numbering_is_gapless_and_a_rollback_leaves_no_gap(db):
    first = services.create_and_post(db, journal="SAL", date=TODAY, lines=balanced_lines(debit="1200"))
    db.commit()
    services.create_and_post(db, journal="SAL", date=TODAY, lines=balanced_lines(debit="1200"))
    db.rollback()  # the second posting is abandoned: its number is not used up
    third = services.create_and_post(db, journal="SAL", date=TODAY, lines=balanced_lines(debit="1200"))
    db.commit()
    year = db.get(FiscalYear, first.fiscal_year_id)
    assert first.number == f"SAL/{year.name}/00001"
    assert third.sequence == 2 and third.number == f"SAL/{year.name}/00002"
    other = services.create_and_post(db, journal="GEN", date=TODAY, lines=balanced_lines())
    assert other.sequence == 1  # each journal numbers on its own
    # the next fiscal year starts again at 1
    next_year = db.scalar(select(FiscalYear).where(FiscalYear.start_date > TODAY))
    later = services.create_and_post(db, journal="SAL", date=next_year.start_date, lines=balanced_lines(debit="1200"))
    assert later.sequence == 1 and later.number == f"SAL/{next_year.name}/00001"


def test_post_sets_state_hash_and_chain(db):
    a = services.create_and_post(db, journal="GEN", date=TODAY, lines=balanced_lines(), user_id=None)
    b = services.create_and_post(db, journal="GEN", date=TODAY, lines=balanced_lines("5.00"))
    db.commit()
    assert all(line.state == "posted" for line in a.lines + b.lines)
    assert a.previous_hash == "" and b.previous_hash == a.hash and len(b.hash) == 64
    assert services.journal_by_code(db, "GEN").last_hash == b.hash
    with pytest.raises(KontorError) as caught:
        services.post_entry(db, a)
    assert caught.value.status == 409


def test_reversal_swaps_sides_and_happens_once(db):
    entry = services.create_and_post(db, journal="GEN", date=TODAY, lines=[
        {"account": "1100", "debit": "100.00", "party_id": None}, {"account": "4000", "credit": "80.00"},
        {"account": "2200", "credit": "20.00"}])
    reversal = services.reverse_entry(db, entry)
    db.commit()
    assert reversal.state == "posted" and reversal.reversal_of_id == entry.id and reversal.date == TODAY
    assert [(l.account.code, l.debit, l.credit) for l in reversal.lines] == [
        ("1100", Decimal("0.00"), Decimal("100.00")), ("4000", Decimal("80.00"), Decimal("0.00")),
        ("2200", Decimal("20.00"), Decimal("0.00"))]
    assert services.reversal_of(db, entry).id == reversal.id
    balances = services.account_balances(db)
    assert all(v == 0 for v in balances.values())
    with pytest.raises(KontorError) as caught:
        services.reverse_entry(db, entry)
    assert caught.value.status == 409
    draft = services.create_entry(db, journal="GEN", date=TODAY, lines=balanced_lines())
    with pytest.raises(KontorError):
        services.reverse_entry(db, draft)


def test_post_batch(db):
    specs = [{"journal": "SAL" if i % 2 else "PUR", "date": TODAY, "reference": f"b{i}",
              "lines": balanced_lines(f"{i + 1}.00", debit="1200" if i % 2 else "5100", credit="4000" if i % 2 else "2100")}
             for i in range(20)]
    entries = services.post_batch(db, specs)
    db.commit()
    assert [e.reference for e in entries] == [f"b{i}" for i in range(20)]
    assert [e.sequence for e in entries if e.journal.code == "SAL"] == list(range(1, 11))
    assert [e.sequence for e in entries if e.journal.code == "PUR"] == list(range(1, 11))
    assert all(e.state == "posted" and len(e.lines) == 2 for e in entries)
    assert db.scalar(select(func.count()).select_from(Line).where(Line.state == "posted")) == 40
    checked, breaks = services.verify_chains(db)
    assert checked == 20 and breaks == []
    # the ordinary path continues the same chain and numbering
    more = services.create_and_post(db, journal="SAL", date=TODAY, lines=balanced_lines(debit="1200"))
    assert more.sequence == 11
    assert services.verify_chains(db)[1] == []
    # audit: one record per row
    from core.audit.models import AuditRecord
    assert db.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.table_name == "accounting_line")) >= 40


def test_post_batch_is_all_or_nothing(db):
    specs = [{"journal": "GEN", "date": TODAY, "lines": balanced_lines()},
             {"journal": "GEN", "date": TODAY, "lines": balanced_lines()[:1]}]
    with pytest.raises(KontorError) as caught:
        services.post_batch(db, specs)
    assert caught.value.field == "entries[1].lines"
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Entry)) == 0


def test_demo_entries(db):
    from plugins.accounting.ledger import demo

    counted = []
    demo.load(db, counted.append)
    db.commit()
    assert counted and counted[0] >= 25
    assert services.account_balances(db)[services.account_by_code(db, "3000").id] == Decimal("-200000.00")
    assert services.verify_chains(db)[1] == []
    demo.load(db, counted.append)  # once only
    assert len(counted) == 1


# -- fiscal years --


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


# -- chart of accounts --


def test_account_rules(db):
    assets = services.account_by_code(db, "1")
    with pytest.raises(KontorError) as caught:
        chart.create_account(db, {"code": "2190", "name": "x", "type": "asset", "kind": "payable"})
    assert caught.value.field == "kind"
    with pytest.raises(KontorError) as caught:
        chart.create_account(db, {"code": "1200", "name": "x", "type": "asset"})
    assert caught.value.field == "code"
    with pytest.raises(KontorError) as caught:
        chart.create_account(db, {"code": "1105", "name": "x", "type": "asset", "parent": "1100"})
    assert caught.value.field == "parent_id"
    with pytest.raises(KontorError) as caught:
        chart.update_account(db, assets, {"parent_id": services.account_by_code(db, "1").id})
    assert caught.value.field == "parent_id"
    # once used, an account is deactivated rather than deleted, and keeps its type
    services.create_and_post(db, journal="GEN", date=date.today(),
                             lines=[{"account": "6100", "debit": "5.00"}, {"account": "1100", "credit": "5.00"}])
    rent = services.account_by_code(db, "6100")
    with pytest.raises(KontorError) as caught:
        chart.delete_account(db, rent)
    assert caught.value.field == "active"
    with pytest.raises(KontorError) as caught:
        chart.update_account(db, rent, {"type": "asset"})
    assert caught.value.field == "type"
    chart.update_account(db, rent, {"active": False})
    assert rent.active is False
    unused = chart.create_account(db, {"code": "6150", "name": "Leasing", "type": "expense", "parent": "6"})
    chart.delete_account(db, unused)
    assert db.scalar(select(Account).where(Account.code == "6150")) is None


def test_tree_rolls_up_by_sql(db):
    services.create_and_post(db, journal="GEN", date=date.today(), lines=[
        {"account": "1100", "debit": "70.00"}, {"account": "1200", "debit": "30.00"}, {"account": "3000", "credit": "100.00"}])
    rows = {r.account.code: r for r in chart.tree(db)}
    assert rows["1"].total == 100 and rows["1"].own == 0 and rows["1100"].total == 70
    assert rows["3"].total == -100
    filtered = [r.account.code for r in chart.tree(db, search="receivable")]
    assert filtered == ["1", "1200", "1250"]  # the matches (receivables, intercompany receivables) and their ancestor


def test_csv_round_trip(db):
    exported = chart.export_csv(db)
    assert exported.splitlines()[0] == ",".join(chart.CSV_FIELDS)
    # change the chart through an import: a new group with a child listed before it, and a rename
    text = exported.replace("1300,Inventory,", "1300,Stock,") + \
        "9100,Suspense items,asset,other,9,1,0,,1\n9,Suspense,asset,other,,0,0,,1\n"
    result = chart.import_chart(db, text.encode())
    assert result.created == 2 and result.updated == len(exported.splitlines()) - 1
    assert services.account_by_code(db, "1300").name == "Stock"
    assert services.account_by_code(db, "9100").parent.code == "9"
    again = chart.export_csv(db)
    assert "1300,Stock," in again and "9100,Suspense items,asset,other,9,1,0,,1" in again
    # importing the export changes nothing
    before = [(a.code, a.name, a.type, a.kind, a.parent_id, a.postable, a.reconcilable) for a in
              db.scalars(select(Account).order_by(Account.code))]
    chart.import_chart(db, again.encode())
    after = [(a.code, a.name, a.type, a.kind, a.parent_id, a.postable, a.reconcilable) for a in
             db.scalars(select(Account).order_by(Account.code))]
    assert before == after


def test_import_is_all_or_nothing_and_names_the_line(db):
    data = b"code;name;type;kind\n7100;Travel;expense;other\n7200;Bad;expense;payable\n"
    with pytest.raises(KontorError) as caught:
        chart.import_chart(db, data)
    assert "Line 3" in caught.value.message and caught.value.field == "kind"
    db.rollback()
    assert db.scalar(select(Account).where(Account.code == "7100")) is None


def test_default_chart_file_passes_the_import_rules(db):
    """The shipped chart, loaded fast on install, obeys every rule the checked import applies."""
    rows = {a.code: (a.name, a.type, a.kind, a.parent.code if a.parent else None, a.postable, a.reconcilable)
            for a in db.scalars(select(Account))}
    assert {"1100", "1110", "1200", "1400", "2100", "2200", "2210", "3100", "4000", "8300"} <= set(rows)
    assert rows["1200"][2:] == ("receivable", "1", True, True) and rows["1"][4] is False
    result = chart.import_chart(db, chart.DEFAULT_CHART.read_bytes())
    added = {code for code, *_ in intercompany.ACCOUNTS}  # the intercompany accounts join the chart on install
    assert added <= set(rows) and result.created == 0 and result.updated == len(rows) - len(added)
    again = {a.code: (a.name, a.type, a.kind, a.parent.code if a.parent else None, a.postable, a.reconcilable)
             for a in db.scalars(select(Account))}
    assert again == rows


# -- integrity --


YESTERDAY = TODAY - timedelta(days=1)


def _sqlite(db):
    return db.get_bind().dialect.name == "sqlite"


def raw_fails(db, sql, params=None):
    """Run raw SQL in a savepoint; True if the database refused it."""
    try:
        with db.begin_nested():
            db.execute(text(sql), params or {})
    except Exception:  # the driver's own error class: IntegrityError on both backends
        return True
    return False


@pytest.fixture
def posted(db):
    entry = services.create_and_post(db, journal="GEN", date=YESTERDAY if YESTERDAY.year == TODAY.year else TODAY,
                                     lines=balanced_lines())
    db.commit()
    return entry


def test_posted_entry_refuses_service_and_orm_changes(db, posted):
    with pytest.raises(KontorError) as caught:
        services.update_entry(db, posted, reference="changed")
    assert caught.value.status == 409 and caught.value.field == "state"
    with pytest.raises(KontorError):
        services.delete_entry(db, posted)
    db.rollback()
    posted.reference = "changed by ORM"
    with pytest.raises(KontorError):
        db.flush()
    db.rollback()
    posted.lines[0].debit = posted.lines[0].debit + 1
    with pytest.raises(KontorError):
        db.flush()
    db.rollback()
    db.delete(posted)
    with pytest.raises(KontorError):
        db.flush()
    db.rollback()


def test_posted_rows_refuse_raw_sql(db, posted):
    line = posted.lines[0]
    assert raw_fails(db, "UPDATE accounting_entry SET reference = 'x' WHERE id = :id", {"id": posted.id})
    assert raw_fails(db, "DELETE FROM accounting_entry WHERE id = :id", {"id": posted.id})
    assert raw_fails(db, "UPDATE accounting_line SET debit = debit + 100 WHERE id = :id", {"id": line.id})
    assert raw_fails(db, "UPDATE accounting_line SET state = 'draft' WHERE id = :id", {"id": line.id})
    assert raw_fails(db, "DELETE FROM accounting_line WHERE id = :id", {"id": line.id})
    assert raw_fails(db, "INSERT INTO accounting_line (entry_id, account_id, description, debit, credit, date, journal_id, "
                         "state) VALUES (:e, :a, '', 100, 0, :d, :j, 'draft')",
                     {"e": posted.id, "a": line.account_id, "d": posted.date, "j": posted.journal_id})
    db.rollback()
    db.expire_all()
    assert db.get(Entry, posted.id).reference == posted.reference
    assert services.verify_chains(db)[1] == []


def test_draft_rows_stay_editable_in_sql(db):
    draft = services.create_entry(db, journal="GEN", date=TODAY, lines=balanced_lines())
    db.commit()
    assert not raw_fails(db, "UPDATE accounting_entry SET reference = 'fine' WHERE id = :id", {"id": draft.id})
    assert not raw_fails(db, "DELETE FROM accounting_entry WHERE id = :id", {"id": draft.id})


def _lock(db, day):
    years.set_lock_date(db, day)
    db.commit()


def test_lock_date_refuses_services(db):
    draft = services.create_entry(db, journal="GEN", date=TODAY, lines=balanced_lines())
    old = services.create_and_post(db, journal="GEN", date=TODAY, lines=balanced_lines())
    db.commit()
    with pytest.raises(KontorError) as caught:
        years.set_lock_date(db, TODAY)  # a draft lies on it
    assert caught.value.field == "lock_date"
    db.rollback()
    services.delete_entry(db, db.get(Entry, draft.id))
    db.commit()
    _lock(db, TODAY)
    for act in (lambda: services.create_entry(db, journal="GEN", date=TODAY, lines=balanced_lines()),
                lambda: services.create_and_post(db, journal="GEN", date=TODAY - timedelta(days=40), lines=balanced_lines()),
                lambda: services.post_batch(db, [{"journal": "GEN", "date": TODAY, "lines": balanced_lines()}]),
                lambda: services.reverse_entry(db, old, date=TODAY)):
        with pytest.raises(KontorError) as caught:
            act()
        assert caught.value.field in ("date", "entries[0].date")
        db.rollback()
    with pytest.raises(KontorError):
        services.check_lock_date(db, TODAY)
    services.check_lock_date(db, TODAY + timedelta(days=1))
    # the reversal without a date goes to the first open day: today is locked, so it is refused
    if TODAY + timedelta(days=1) <= db.get(Entry, old.id).date.replace(month=12, day=31):
        reversal = services.reverse_entry(db, old, date=TODAY + timedelta(days=1))
        assert reversal.date == TODAY + timedelta(days=1)
    from core.audit.models import AuditRecord
    from sqlalchemy import select
    assert db.scalar(select(AuditRecord).where(AuditRecord.action == "accounting.lock_date")) is not None


def test_lock_date_refuses_raw_sql(db):
    draft = services.create_entry(db, journal="GEN", date=TODAY + timedelta(days=1), lines=balanced_lines())
    db.commit()
    _lock(db, TODAY)
    line = draft.lines[0]
    params = {"j": draft.journal_id, "d": TODAY, "a": line.account_id, "e": draft.id}
    assert raw_fails(db, "INSERT INTO accounting_entry (journal_id, date, reference, narration, state, source, "
                         "previous_hash, hash, created_at) VALUES (:j, :d, '', '', 'draft', '', '', '', :now)",
                     dict(params, now=TODAY.isoformat() + " 00:00:00"))
    assert raw_fails(db, "INSERT INTO accounting_line (entry_id, account_id, description, debit, credit, date, journal_id, "
                         "state) VALUES (:e, :a, '', 100, 0, :d, :j, 'draft')", params)
    assert raw_fails(db, "UPDATE accounting_entry SET date = :d WHERE id = :e", params)
    assert raw_fails(db, "UPDATE accounting_line SET date = :d WHERE entry_id = :e", params)
    # after the lock date, raw SQL on a draft is a draft's business
    assert not raw_fails(db, "UPDATE accounting_entry SET reference = 'ok' WHERE id = :e", params)


def test_no_sql_names_a_core_table():
    """The module reads the company and serialises with the audit chain through the core's
    functions (core.get_company, core.lock_audit_chain), never by naming core tables."""
    import re
    from pathlib import Path

    import plugins.accounting

    root = Path(plugins.accounting.__file__).parent
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if "migrations" not in path.parts and re.search(r"\b(FROM|UPDATE|JOIN|INTO)\s+core_\w+", path.read_text())]
    assert offenders == []


# -- a state machine of postings --


ACCOUNTS = ("1100", "1110", "1200", "2100", "3000", "4000", "5100", "6100")


ZERO = Decimal("0.00")


amounts = st.integers(min_value=1, max_value=1_000_000).map(lambda cents: Decimal(cents).scaleb(-2))


line_specs = st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.booleans(), amounts), min_size=1, max_size=4)


def machine_for(db):
    today = date.today()

    class Ledger(RuleBasedStateMachine):
        drafts = Bundle("drafts")
        posted = Bundle("posted")

        def __init__(self):
            super().__init__()
            self.db = db
            self.ids = {code: services.account_by_code(db, code).id for code in ACCOUNTS}
            self.model = {k: v for k, v in services.account_balances(db).items()}
            self.snapshot = self._posted_rows()
            self.reversed: set[int] = set()
            self.party_id = None

        def _posted_rows(self):
            entries = {r[0]: tuple(r[1:]) for r in db.execute(select(
                Entry.id, Entry.number, Entry.date, Entry.hash, Entry.previous_hash, Entry.journal_id)
                .where(Entry.state == "posted"))}
            lines = {r[0]: tuple(r[1:]) for r in db.execute(select(
                Line.id, Line.entry_id, Line.account_id, Line.debit, Line.credit, Line.party_id, Line.date)
                .where(Line.state == "posted"))}
            return entries, lines

        def _book(self, entry):
            for line in entry.lines:
                self.model[line.account_id] = self.model.get(line.account_id, ZERO) + line.debit - line.credit

        @rule(target=drafts, specs=line_specs, balanced=st.booleans(), journal=st.sampled_from(("GEN", "SAL", "BNK")))
        def create_draft(self, specs, balanced, journal):
            lines = [{"account": code, "debit": amount if is_debit else "", "credit": "" if is_debit else amount}
                     for code, is_debit, amount in specs]
            if balanced:
                gap = sum((a if d else -a for _c, d, a in specs), ZERO)
                if gap:
                    lines.append({"account": "3000", "debit": -gap if gap < 0 else "", "credit": gap if gap > 0 else ""})
            entry = services.create_entry(db, journal=journal, date=today, lines=lines)
            db.commit()
            return entry.id

        @rule(target=posted, entry_id=consumes(drafts))
        def post(self, entry_id):
            entry = db.get(Entry, entry_id)
            debit, credit = services.entry_totals(entry)
            should_post = len(entry.lines) >= 2 and debit == credit
            try:
                services.post_entry(db, entry)
                db.commit()
            except KontorError as exc:
                db.rollback()
                assert not should_post, exc.message
                assert exc.field == "lines"
                services.delete_entry(db, db.get(Entry, entry_id))
                db.commit()
                return None
            assert should_post
            self._book(entry)
            return entry_id

        @rule(entry_id=posted)
        def reverse(self, entry_id):
            if entry_id is None:
                return
            entry = db.get(Entry, entry_id)
            try:
                reversal = services.reverse_entry(db, entry, date=today)
                db.commit()
            except KontorError as exc:
                db.rollback()
                assert entry_id in self.reversed and exc.status == 409
                return
            assert entry_id not in self.reversed
            self.reversed.add(entry_id)
            self._book(reversal)

        @rule(entry_id=posted, new_reference=st.text(max_size=5))
        def tamper_through_the_orm(self, entry_id, new_reference):
            if entry_id is None:
                return
            entry = db.get(Entry, entry_id)
            entry.reference = entry.reference + "!" + new_reference
            with pytest.raises(KontorError):
                db.flush()
            db.rollback()

        @rule(amount=amounts, pay=st.booleans())
        def invoice_and_payment(self, amount, pay):
            try:
                from core.parties.services import create_party
                from plugins.accounting.banking.services import register_payment
                from plugins.accounting.invoicing.services import create_invoice, post_invoice
            except ImportError:
                return
            if self.party_id is None:
                self.party_id = create_party(db, {"kind": "company", "name": "Stateful Customer A/S"}).id
                db.commit()
            invoice = create_invoice(db, "out_invoice", {
                "party_id": self.party_id, "invoice_date": today.isoformat(),
                "lines": [{"description": "Work", "quantity": "1", "unit_price": str(amount), "account": "4100",
                           "taxes": []}]})
            post_invoice(db, invoice)
            db.commit()
            self._book(db.get(Entry, invoice.entry_id))
            if pay:
                payment = register_payment(db, party_id=self.party_id, amount=invoice.amount_total,
                                           currency=invoice.currency, date=today, journal="BNK",
                                           allocations=[(invoice, invoice.amount_total)])
                db.commit()
                self._book(db.get(Entry, payment.entry_id))
                assert invoice.state == "paid" and invoice.amount_residual == 0

        @invariant()
        def every_posted_entry_balances(self):
            unbalanced = db.execute(select(Line.entry_id).where(Line.state == "posted").group_by(Line.entry_id)
                                    .having(func.sum(Line.debit) != func.sum(Line.credit))).all()
            assert unbalanced == []

        @invariant()
        def trial_balance_is_zero_and_matches_the_model(self):
            debit, credit = db.execute(select(func.coalesce(func.sum(Line.debit), 0),
                                              func.coalesce(func.sum(Line.credit), 0))
                                       .where(Line.state == "posted")).one()
            assert Decimal(debit) == Decimal(credit)
            actual = {k: v for k, v in services.account_balances(db).items() if v != 0}
            assert actual == {k: v for k, v in self.model.items() if v != 0}

        @invariant()
        def posted_rows_never_change(self):
            entries, lines = self._posted_rows()
            old_entries, old_lines = self.snapshot
            assert all(entries.get(k) == v for k, v in old_entries.items())
            assert all(lines.get(k) == v for k, v in old_lines.items())
            self.snapshot = (entries, lines)

    return Ledger


def test_ledger_state_machine(db):
    run_state_machine_as_test(machine_for(db), settings=hsettings(
        max_examples=12, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    assert services.verify_chains(db)[1] == []


# -- concurrent posting --


WORKERS, EACH = 8, 25


_databases = itertools.count()


def _lines(i):
    amount = f"{i % 97 + 1}.00"
    return [{"account": "1200", "debit": amount}, {"account": "4000", "credit": amount}]


def _check(db_factory, expected):
    with db_factory() as db:
        numbers = db.execute(select(Entry.sequence).where(Entry.state == "posted").order_by(Entry.sequence)).scalars().all()
        assert numbers == list(range(1, expected + 1))  # unique and contiguous
        checked, breaks = services.verify_chains(db)
        assert checked == expected and breaks == []


def test_threads_posting_into_one_journal(settings, app):
    """Separate connections, one thread each, posting through the service at the same time."""
    engine = get_engine(settings["DATABASE_URL"])
    factory = make_sessionmaker(engine)
    start = threading.Barrier(WORKERS)
    errors = []

    def worker(w):
        start.wait()
        for i in range(EACH):
            with app.app_context(), factory() as db:  # the app's modules hear the posting hooks
                try:
                    services.create_and_post(db, journal="SAL", date=date.today(), lines=_lines(w * EACH + i),
                                             reference=f"w{w}-{i}")
                    if i % 5 == 4:
                        db.rollback()  # an abandoned posting must leave no gap
                        continue
                    db.commit()
                except Exception as exc:  # collected: the assertion below reports it
                    errors.append(repr(exc))
                    db.rollback()

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(worker, range(WORKERS)))
    assert errors == []
    _check(factory, WORKERS * EACH - WORKERS * (EACH // 5))


@pytest.fixture
def live_accounting(backend, request, tmp_path):
    """``kontor serve --workers 4`` on a fresh PostgreSQL database with accounting installed."""
    if backend != "postgresql":
        pytest.skip("the live-server run is for PostgreSQL (SQLite serialises writers by design)")
    server = request.getfixturevalue("postgres_server")
    name = f"kontor_accounting_live{next(_databases)}"
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = server.url(name)
    env = live_server.environment(url, tmp_path / "instance")
    token = live_server.prepare(env, tmp_path)
    live_server.kontor(env, "modules", "install", "accounting", cwd=tmp_path)
    running = live_server.start(env, tmp_path, "serve", "--bind", "127.0.0.1:{port}", "--workers", "4")
    try:
        yield running, token, url
    finally:
        running.stop()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.mark.slow
def test_live_workers_posting_through_http(live_accounting):
    server, token, url = live_accounting
    today = date.today().isoformat()

    def post(i):
        created = live_server.request(server.url("/api/v1/accounting/entries"), "POST", token,
                                      body={"journal": "SAL", "date": today, "lines": _lines(i)})
        if created.status != 201:
            return created.status
        entry_id = created.json()["id"]
        return live_server.request(server.url(f"/api/v1/accounting/entries/{entry_id}/post"), "POST", token).status

    with ThreadPoolExecutor(WORKERS) as pool:
        statuses = list(pool.map(post, range(WORKERS * EACH)))
    assert statuses == [200] * (WORKERS * EACH)
    engine = create_engine(url)
    try:
        from sqlalchemy.orm import sessionmaker
        _check(sessionmaker(bind=engine), WORKERS * EACH)
    finally:
        engine.dispose()
