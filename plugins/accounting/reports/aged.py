"""Aged receivables and payables: open items per party in ageing buckets, and a party's open items."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.orm import Session

from core import KontorError, gettext as _

from plugins.accounting.banking import services as banking
from plugins.accounting.ledger.models import Account, Line
from plugins.accounting.reports.figures import ZERO, is_posted, money_sum, party_names

#: Ageing buckets: (key, first day overdue, last day overdue); None leaves the end open.
AGE_BUCKETS = (("not_due", None, 0), ("days_1_30", 1, 30), ("days_31_60", 31, 60), ("days_61_90", 61, 90),
               ("over_90", 91, None))

@dataclass
class AgedRow:
    """A party's open amounts by how long they are overdue."""

    party_id: int | None
    party_name: str
    buckets: list[Decimal]  # in AGE_BUCKETS order

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


@dataclass
class AgedReport:
    """Open receivables or payables per party as of a date, in ageing buckets."""

    kind: str
    on: date
    rows: list[AgedRow]
    totals: list[Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.totals, ZERO)


def _age_case(days_overdue, bucket_low, bucket_high, amount):
    conditions = []
    if bucket_low is not None:
        conditions.append(days_overdue >= bucket_low)
    if bucket_high is not None:
        conditions.append(days_overdue <= bucket_high)
    return case((and_(*conditions), amount), else_=0)


def _days_between(db: Session, later: date, earlier_column):
    """Whole days from ``earlier_column`` to ``later`` in SQL."""
    if db.get_bind().dialect.name == "postgresql":
        return type_coerce(later, earlier_column.type) - earlier_column
    return func.julianday(later.isoformat()) - func.julianday(earlier_column)


def aged_balances(db: Session, kind: str, on: date) -> AgedReport:
    """Open receivables (``kind="receivable"``) or payables per party as of ``on``, by days overdue:
    not yet due, 1–30, 31–60, 61–90, over 90. Receivables are positive when the customer owes us,
    payables when we owe the supplier."""
    if kind not in ("receivable", "payable"):
        raise KontorError(_("Choose receivables or payables."), field="kind")
    items = open_items_query(db, kind, on)
    due = func.coalesce(items.c.due_date, items.c.date)
    overdue = _days_between(db, on, due)
    sign = 1 if kind == "receivable" else -1
    amount = items.c.open_amount if sign == 1 else -items.c.open_amount
    columns = [money_sum(_age_case(overdue, low, high, amount)) for _key, low, high in AGE_BUCKETS]
    stmt = select(items.c.party_id, *columns).group_by(items.c.party_id)
    found = db.execute(stmt).all()
    names = party_names(db, {row[0] for row in found if row[0]})
    rows = [AgedRow(row[0], names.get(row[0], ""), list(row[1:])) for row in found if any(row[1:])]
    rows.sort(key=lambda r: (r.party_name.casefold(), r.party_id or 0))
    totals = [sum((r.buckets[i] for r in rows), ZERO) for i in range(len(AGE_BUCKETS))]
    return AgedReport(kind, on, rows, totals)


def open_items_query(db: Session, kind: str, on: date):
    """A subquery of the receivable or payable lines still open at ``on``: party (the surviving
    one, for a line booked on a party merged since), date, due date and the open amount in
    company money (signed: positive on the debit side).

    The open amount is computed by the banking area's own SQL (line amount less what
    reconciliations dated on or before ``on`` took), so the report can be run for any past day.
    """
    from core import Party  # the core's master data, read only

    reconciled, open_amount, _open_currency = banking.open_amount_columns(on)
    # Posted lines keep the party they were booked on; a merged party's lines count as the
    # surviving party's (a merge repoints earlier merges, so one step reaches the survivor).
    party = func.coalesce(Party.merged_into_id, Line.party_id).label("party_id")
    return (select(party, Line.date, Line.due_date, open_amount.label("open_amount"))
            .join(Account, Account.id == Line.account_id)
            .outerjoin(Party, Party.id == Line.party_id)
            .outerjoin(reconciled, reconciled.c.line_id == Line.id)
            .where(is_posted(), Account.kind == kind, Line.date <= on, open_amount != 0)
            .subquery("open_items"))


@dataclass
class OpenItem:
    """A receivable or payable line still open, with how many days it is overdue."""

    line_id: int
    entry_id: int
    entry_number: str
    invoice_number: str
    description: str
    date: date
    due_date: date
    days_overdue: int
    open_amount: Decimal


def party_open_items(db: Session, kind: str, on: date, party_id: int) -> list[OpenItem]:
    """The open receivable or payable lines of a party at ``on``, oldest due first (the lines
    behind a figure of the aged report); amounts signed as in :func:`aged_balances`."""
    sign = 1 if kind == "receivable" else -1
    items = []
    for item in banking.open_items(db, party_id=party_id, account_kind=kind, on=on):
        due = item["due_date"] or item["date"]
        items.append(OpenItem(item["line_id"], item["entry_id"], item["number"] or "", item["invoice_number"] or "",
                              item["description"] or "", item["date"], due, max((on - due).days, 0),
                              sign * item["open"]))
    return items


def bucket_labels() -> list[str]:
    """The ageing buckets' column titles, in order."""
    return [_("Not due"), _("1–30 days"), _("31–60 days"), _("61–90 days"), _("Over 90 days")]


def party_name(db: Session, party_id: int) -> str | None:
    """A party's name, or None when there is no such party."""
    return party_names(db, {party_id}).get(party_id)
