"""The ledger's commands: the lock date, closing and reopening a year, the chart's export and
import, and verifying the hash chain."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from plugins.accounting.ledger import services
from plugins.accounting.ledger.models import Entry, FiscalYear
from plugins.accounting.testing import balanced_lines, current_year, last_year

TODAY = date.today()


def _sqlite(db):
    return db.get_bind().dialect.name == "sqlite"


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


def test_chart_cli(kontor, tmp_path, db):
    out = tmp_path / "chart.csv"
    result = kontor("accounting", "chart", "export", str(out))
    assert result.exit_code == 0 and "1200,Accounts receivable,asset,receivable" in out.read_text()
    extra = tmp_path / "extra.csv"
    extra.write_text("code,name,type,parent\n6500,Insurance,expense,6\n")
    result = kontor("accounting", "chart", "import", str(extra))
    assert result.exit_code == 0, result.output
    assert "1 accounts created" in result.output
    assert services.account_by_code(db, "6500").parent.code == "6"
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\n6600,No type\n")
    db.rollback()
    result = kontor("accounting", "chart", "import", str(bad))
    assert result.exit_code != 0


def test_verify_detects_a_tampered_row(db, kontor):
    for amount in ("1.00", "2.00", "3.00"):
        services.create_and_post(db, journal="GEN", date=TODAY, lines=balanced_lines(amount))
    db.commit()
    assert kontor("accounting", "verify").exit_code == 0
    db.rollback()
    second = db.scalars(__import__("sqlalchemy").select(Entry).order_by(Entry.id)).all()[1]
    # tamper: remove the trigger, change an amount behind the ledger's back, put the trigger back
    if _sqlite(db):
        db.execute(text("DROP TRIGGER accounting_line_immutable_update"))
        db.execute(text("UPDATE accounting_line SET debit = 999 WHERE entry_id = :id AND debit > 0"), {"id": second.id})
    else:
        db.execute(text("ALTER TABLE accounting_line DISABLE TRIGGER accounting_line_immutable"))
        db.execute(text("UPDATE accounting_line SET debit = 9.99 WHERE entry_id = :id AND debit > 0"), {"id": second.id})
        db.execute(text("ALTER TABLE accounting_line ENABLE TRIGGER accounting_line_immutable"))
    db.commit()
    checked, breaks = services.verify_chains(db)
    assert checked == 2 and len(breaks) == 1  # it stops at the first break
    assert breaks[0].number == second.number and "hash" in breaks[0].reason
    db.rollback()  # end the test's transaction: the command opens its own
    outcome = kontor("accounting", "verify")
    assert outcome.exit_code == 1
    assert second.number in outcome.output
