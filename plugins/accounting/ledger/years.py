"""Fiscal years and their monthly periods, the lock date and the year-end close."""
from __future__ import annotations

import calendar
from datetime import date as Date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import KontorError, NotFound, get_company, gettext as _, record_event

from plugins.accounting.ledger import roles, services
from plugins.accounting.ledger.models import DRAFT, POSTED, Account, Entry, FiscalYear, Line, Period

ZERO = Decimal("0.00")


def _add_months(day: Date, months: int, anchor_day: int) -> Date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return Date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def year_bounds(start: Date) -> tuple[Date, Date]:
    """The first and last day of the fiscal year starting on ``start``."""
    return start, _add_months(start, 12, start.day) - timedelta(days=1)


def year_name(start: Date, end: Date) -> str:
    """``2026`` for a calendar year, ``2026-27`` for a year across two calendar years."""
    return str(start.year) if start.year == end.year else f"{start.year}-{end.year % 100:02d}"


def company_year_start(db: Session, day: Date) -> Date:
    """The first day of the company's fiscal year that contains ``day``."""
    try:
        company = get_company(db)
        month, first = company.fiscal_year_start_month, company.fiscal_year_start_day
    except NotFound:  # before kontor init: calendar years
        month, first = 1, 1
    def start_in(year: int) -> Date:
        return Date(year, month, min(first, calendar.monthrange(year, month)[1]))
    start = start_in(day.year)
    return start if start <= day else start_in(day.year - 1)


def create_fiscal_year(db: Session, start: Date, name: str | None = None) -> FiscalYear:
    """Create the fiscal year starting on ``start`` with its twelve monthly periods.

    Refused when it would overlap an existing year.
    """
    if not isinstance(start, Date):
        raise KontorError(_("Give a date as YYYY-MM-DD."), field="start_date", status=422)
    start, end = year_bounds(start)
    overlap = db.scalar(select(FiscalYear).where(FiscalYear.start_date <= end, FiscalYear.end_date >= start))
    if overlap is not None:
        raise KontorError(_("It overlaps the fiscal year %(name)s.", name=overlap.name), field="start_date", status=422)
    name = (name or "").strip() or year_name(start, end)
    if len(name) > 40:
        raise KontorError(_("At most %(n)s characters.", n=40), field="name", status=422)
    if db.scalar(select(FiscalYear.id).where(FiscalYear.name == name)) is not None:
        raise KontorError(_("A fiscal year is already called %(name)s.", name=name), field="name", status=422)
    year = FiscalYear(name=name, start_date=start, end_date=end, state="open")
    for k in range(12):
        p_start = _add_months(start, k, start.day)
        p_end = _add_months(start, k + 1, start.day) - timedelta(days=1)
        year.periods.append(Period(name=f"{p_start.year}-{p_start.month:02d}", start_date=p_start, end_date=p_end,
                                   state="open"))
    db.add(year)
    db.flush()
    return year


def ensure_years(db: Session, day: Date) -> list[FiscalYear]:
    """Create the fiscal year containing ``day`` and the next one, where missing (install, new year)."""
    start = company_year_start(db, day)
    created = []
    for s in (start, year_bounds(start)[1] + timedelta(days=1)):
        if db.scalar(select(FiscalYear.id).where(FiscalYear.start_date <= s, FiscalYear.end_date >= s)) is None:
            created.append(create_fiscal_year(db, s))
    return created


def get_year(db: Session, year_id: int) -> FiscalYear:
    """The fiscal year with ``year_id``; :class:`NotFound` if none."""
    year = db.get(FiscalYear, year_id)
    if year is None:
        raise NotFound(_("There is no fiscal year %(id)s.", id=year_id), field="id")
    return year


def get_period(db: Session, period_id: int) -> Period:
    """The period with ``period_id``; :class:`NotFound` if none."""
    period = db.get(Period, period_id)
    if period is None:
        raise NotFound(_("There is no period %(id)s.", id=period_id), field="id")
    return period


def _drafts_between(db: Session, start: Date, end: Date) -> int:
    return db.scalar(select(func.count(Entry.id)).where(Entry.state == DRAFT, Entry.date >= start,
                                                        Entry.date <= end)) or 0


def close_period(db: Session, period: Period) -> Period:
    """Close a period: nothing more is posted into it. Refused while it holds drafts."""
    if period.state == "closed":
        raise KontorError(_("The period %(name)s is already closed.", name=period.name), field="state", status=409)
    drafts = _drafts_between(db, period.start_date, period.end_date)
    if drafts:
        raise KontorError(_("The period %(name)s holds %(n)s draft entries: post or delete them first.",
                            name=period.name, n=drafts), field="state", status=409)
    period.state = "closed"
    db.flush()
    return period


def reopen_period(db: Session, period: Period) -> Period:
    """Reopen a closed period of an open fiscal year (the lock date still protects what it covers)."""
    if period.state == "open":
        raise KontorError(_("The period %(name)s is open.", name=period.name), field="state", status=409)
    if period.fiscal_year.state != "open":
        raise KontorError(_("The fiscal year %(name)s is closed.", name=period.fiscal_year.name), field="state",
                          status=409)
    services.check_lock_date(db, period.end_date, field="state")
    period.state = "open"
    db.flush()
    return period


def set_lock_date(db: Session, day: Date | None) -> Date | None:
    """Move the lock date (``None`` removes it); audited. Refused while drafts lie on or before it.

    Only users with ``accounting.lock.manage`` may call this (the routes check it).
    """
    config = services.get_config(db)
    old = config.lock_date
    if day is not None:
        if not isinstance(day, Date):
            raise KontorError(_("Give a date as YYYY-MM-DD."), field="lock_date", status=422)
        drafts = db.scalar(select(func.count(Entry.id)).where(Entry.state == DRAFT, Entry.date <= day)) or 0
        if drafts:
            raise KontorError(_("%(n)s draft entries are dated on or before %(day)s: post or delete them first.",
                                n=drafts, day=day.isoformat()), field="lock_date", status=422)
    config.lock_date = day
    db.flush()
    record_event(db, "accounting.lock_date", module="accounting", table_name="accounting_config", record_id=config.id,
                 changes={"lock_date": [old.isoformat() if old else None, day.isoformat() if day else None]})
    return day


def closing_lines(db: Session, year: FiscalYear) -> list[dict]:
    """The lines of the year-end close: each income and expense balance of the year to retained earnings."""
    retained_earnings = roles.account_for(db, roles.RETAINED_EARNINGS)
    rows = db.execute(
        select(Line.account_id, func.sum(Line.debit), func.sum(Line.credit))
        .join(Account, Account.id == Line.account_id)
        .where(Line.state == POSTED, Line.date >= year.start_date, Line.date <= year.end_date,
               Account.type.in_(("income", "expense")))
        .group_by(Line.account_id).order_by(Line.account_id)
    ).all()
    lines, result = [], ZERO
    for account_id, debit, credit in rows:
        balance = (debit or ZERO) - (credit or ZERO)
        if balance == 0:
            continue
        result += balance
        lines.append({"account": account_id, "debit": ZERO if balance > 0 else -balance,
                      "credit": balance if balance > 0 else ZERO, "description": _("Year-end close")})
    if lines:
        lines.append({"account": retained_earnings.id, "debit": result if result > 0 else ZERO,
                      "credit": -result if result < 0 else ZERO, "description": _("Result of the year")})
    return lines


def close_refusal(db: Session, year: FiscalYear, today: Date | None = None) -> KontorError | None:
    """Why ``year`` cannot be year-end closed now, as the :class:`KontorError` :func:`close_year`
    would raise (``None`` when it can): it is closed already, it has not ended yet (``today`` is
    before its last day), or an earlier year is still open (years close in order).

    The fiscal years page shows the reason beside a disabled close button.
    """
    today = today or Date.today()
    if year.state == "closed":
        return KontorError(_("The fiscal year %(name)s is already closed.", name=year.name), field="state", status=409)
    if today < year.end_date:
        return KontorError(_("The fiscal year %(name)s ends on %(end)s: it can be closed from that day on.",
                             name=year.name, end=year.end_date.isoformat()), field="state", status=409)
    earlier = db.scalar(select(FiscalYear).where(FiscalYear.start_date < year.start_date, FiscalYear.state != "closed")
                        .order_by(FiscalYear.start_date).limit(1))
    if earlier is not None:
        return KontorError(_("The earlier fiscal year %(earlier)s is still open: close it first.",
                             earlier=earlier.name), field="state", status=409)
    return None


def close_year(db: Session, year: FiscalYear, *, user_id: int | None = None, today: Date | None = None) -> Entry | None:
    """The year-end close: post an ordinary entry in the general journal, dated the year's last day,
    moving every income and expense balance of the year to retained earnings; mark the year closed.

    Refused (see :func:`close_refusal`) before the year's last day, while an earlier year is open,
    and while drafts of that year exist; audited. Undone by :func:`reopen_year`. Returns the
    closing entry (``None`` when the year had no result to move).
    """
    refusal = close_refusal(db, year, today)
    if refusal is not None:
        raise refusal
    drafts = _drafts_between(db, year.start_date, year.end_date)
    if drafts:
        raise KontorError(_("The fiscal year %(name)s holds %(n)s draft entries: post or delete them first.",
                            name=year.name, n=drafts), field="state", status=409)
    services.check_lock_date(db, year.end_date, field="state")
    lines = closing_lines(db, year)
    entry = None
    if lines:
        config = services.get_config(db)
        journal = config.general_journal_id or services.journal_by_code(db, "GEN")
        entry = services.create_entry(db, journal=journal, date=year.end_date, lines=lines,
                                      reference=_("Year-end close %(name)s", name=year.name)[:100],
                                      source=f"year-close:{year.name}"[:60])
        services.post_entry(db, entry, user_id=user_id, _closing=True)
    year.state = "closed"
    year.closing_entry_id = entry.id if entry is not None else None
    db.flush()
    record_event(db, "accounting.year.close", module="accounting", table_name="accounting_fiscal_year", record_id=year.id,
                 changes={"entry": [None, entry.number if entry is not None else None]})
    return entry


def reopen_refusal(db: Session, year: FiscalYear) -> KontorError | None:
    """Why ``year`` cannot be reopened now (``None`` when it can): it is open, a later year is
    closed (years reopen in reverse order), or its last day is on or before the lock date."""
    if year.state != "closed":
        return KontorError(_("The fiscal year %(name)s is open.", name=year.name), field="state", status=409)
    later = db.scalar(select(FiscalYear).where(FiscalYear.start_date > year.start_date, FiscalYear.state == "closed")
                      .order_by(FiscalYear.start_date.desc()).limit(1))
    if later is not None:
        return KontorError(_("The later fiscal year %(later)s is closed: reopen it first.", later=later.name),
                           field="state", status=409)
    locked = services.lock_date(db)
    if locked is not None and year.end_date <= locked:
        return KontorError(_("The fiscal year %(name)s ends on or before the lock date %(lock)s: move the lock date "
                             "first.", name=year.name, lock=locked.isoformat()), field="state", status=409)
    return None


def reopen_year(db: Session, year: FiscalYear, *, user_id: int | None = None) -> Entry | None:
    """Reopen a closed fiscal year: reverse its closing entry (dated the year's last day, so the
    year's result is back in the year) or, when the close moved nothing, simply mark it open.

    An accountant's act (``accounting.year.close``; the routes, API and CLI check it). Refused
    (see :func:`reopen_refusal`) while a later year is closed or under the lock date; audited.
    Returns the reversing entry, or ``None``.
    """
    refusal = reopen_refusal(db, year)
    if refusal is not None:
        raise refusal
    closing = db.get(Entry, year.closing_entry_id) if year.closing_entry_id else None
    reversal = None
    if closing is not None:
        reversal = services.reverse_entry(db, closing, date=year.end_date, user_id=user_id, _reopening=True)
    year.state = "open"
    year.closing_entry_id = None
    db.flush()
    record_event(db, "accounting.year.reopen", module="accounting", table_name="accounting_fiscal_year",
                 record_id=year.id, changes={"state": ["closed", "open"],
                                             "entry": [closing.number if closing is not None else None,
                                                       reversal.number if reversal is not None else None]})
    return reversal
