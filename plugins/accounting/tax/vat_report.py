"""The VAT report: bases and tax amounts per tax and per box of the VAT return, from posted lines.

A line with ``tax_id`` is a tax amount of that tax; a line is a part of the base of every tax in its
``accounting_line_tax_base`` rows (a line taxed twice is in the base of both).
The settlement of a period moves its tax amounts to 2210 VAT settlement.
The sums are SQL aggregates grouped by tax and account; Python only sorts the handful of groups
into the tax due (on the tax's collected account) and the tax deductible (on its paid account),
so the report matches the movement of those accounts to the cent.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session, selectinload

from core import KontorError, Money, gettext as _

from plugins.accounting.ledger import roles
from plugins.accounting.ledger.models import POSTED, Entry, Line, LineTaxBase
from plugins.accounting.tax.models import Tax

ZERO = Decimal("0.00")
KINDS = ("base", "tax")


def _sum(column):
    return type_coerce(func.coalesce(func.sum(column), 0), Money())


@dataclass
class VatRow:
    """The figures of one tax in a period: its base, the tax due and the tax deductible."""

    tax: Tax
    base: Decimal = ZERO
    due: Decimal = ZERO
    deductible: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        """What this tax adds to the amount payable (due less deductible)."""
        return self.due - self.deductible


@dataclass
class VatBox:
    """The figures of one box (report code) of the national VAT return."""

    code: str
    base: Decimal = ZERO
    due: Decimal = ZERO
    deductible: Decimal = ZERO


@dataclass
class VatReport:
    """The VAT report of a date range: rows per tax, boxes per report code, and the totals."""

    date_from: date
    date_to: date
    rows: list[VatRow] = field(default_factory=list)

    @property
    def due(self) -> Decimal:
        """The tax due in the period (output VAT and reverse-charge VAT)."""
        return sum((row.due for row in self.rows), ZERO)

    @property
    def deductible(self) -> Decimal:
        """The tax deductible in the period (input VAT)."""
        return sum((row.deductible for row in self.rows), ZERO)

    @property
    def payable(self) -> Decimal:
        """What is owed to the tax authority (negative: a refund)."""
        return self.due - self.deductible

    @property
    def boxes(self) -> list[VatBox]:
        """The rows added up per report code (taxes without one are left out)."""
        boxes: dict[str, VatBox] = {}
        for row in self.rows:
            if not row.tax.report_code:
                continue
            box = boxes.setdefault(row.tax.report_code, VatBox(row.tax.report_code))
            box.base += row.base
            box.due += row.due
            box.deductible += row.deductible
        return sorted(boxes.values(), key=lambda b: (len(b.code), b.code))


def check_range(date_from: date, date_to: date) -> None:
    """Refuse a range that ends before it starts."""
    if date_from > date_to:
        raise KontorError(_("The end date is before the start date."), field="date_to")


def vat_report(db: Session, date_from: date, date_to: date) -> VatReport:
    """The VAT report of posted lines dated from ``date_from`` to ``date_to`` (both included)."""
    check_range(date_from, date_to)
    in_range = (Line.state == POSTED, Line.date >= date_from, Line.date <= date_to)
    bases = db.execute(
        select(LineTaxBase.tax_id, _sum(Line.debit), _sum(Line.credit))
        .join(Line, Line.id == LineTaxBase.line_id).where(*in_range)
        .group_by(LineTaxBase.tax_id)
    ).all()
    amounts = db.execute(
        select(Line.tax_id, Line.account_id, _sum(Line.debit), _sum(Line.credit))
        .where(*in_range, Line.tax_id.is_not(None))
        .group_by(Line.tax_id, Line.account_id)
    ).all()
    taxes = {tax.id: tax for tax in db.execute(select(Tax)).scalars()}
    rows: dict[int, VatRow] = {}
    for base_id, debit, credit in bases:
        tax = taxes[base_id]
        row = rows.setdefault(tax.id, VatRow(tax))
        row.base += (credit - debit) if tax.scope == "sale" else (debit - credit)
    for tax_id, account_id, debit, credit in amounts:
        tax = taxes[tax_id]
        row = rows.setdefault(tax.id, VatRow(tax))
        if account_id == tax.collected_account_id or (tax.scope == "sale" and account_id != tax.paid_account_id):
            row.due += credit - debit
        else:
            row.deductible += debit - credit
    ordered = sorted(rows.values(), key=lambda r: (r.tax.scope != "sale", r.tax.report_code, r.tax.code))
    return VatReport(date_from, date_to, ordered)


def vat_lines_query(tax_id: int, kind: str, date_from: date, date_to: date):
    """The posted lines behind a figure of the report: the base (``kind`` "base") or the tax
    amounts ("tax") of a tax in the range, with their entry and account loaded."""
    if kind not in KINDS:
        raise KontorError(_("Choose base or tax."), field="kind")
    check_range(date_from, date_to)
    stmt = select(Line).options(selectinload(Line.entry), selectinload(Line.account))
    if kind == "base":
        stmt = stmt.where(Line.id.in_(select(LineTaxBase.line_id).where(LineTaxBase.tax_id == tax_id)))
    else:
        stmt = stmt.where(Line.tax_id == tax_id)
    return stmt.where(Line.state == POSTED, Line.date >= date_from, Line.date <= date_to)


def export_rows(report: VatReport) -> tuple[list[tuple[str, str]], list[dict]]:
    """The report as (columns, rows) for a CSV/XLSX download."""
    columns = [("code", _("Tax")), ("name", _("Name")), ("report_code", _("Box")), ("rate", _("Rate (%)")),
               ("base", _("Base")), ("due", _("Tax due")), ("deductible", _("Tax deductible")), ("net", _("Net"))]
    rows = [{"code": r.tax.code, "name": r.tax.name, "report_code": r.tax.report_code, "rate": r.tax.rate,
             "base": r.base, "due": r.due, "deductible": r.deductible, "net": r.net} for r in report.rows]
    rows.append({"code": _("Total"), "name": "", "report_code": "", "rate": None, "base": None,
                 "due": report.due, "deductible": report.deductible, "net": report.payable})
    return columns, rows


def settlement_source(date_from: date, date_to: date) -> str:
    """The ``source`` of the settlement entry of a range."""
    return f"vat_settlement:{date_from.isoformat()}:{date_to.isoformat()}"


def settlement_of(db: Session, date_from: date, date_to: date) -> Entry | None:
    """The posted settlement entry of exactly this range that has not been reversed, if any."""
    reversed_ids = select(Entry.reversal_of_id).where(Entry.reversal_of_id.is_not(None))
    return db.execute(select(Entry).where(Entry.source == settlement_source(date_from, date_to),
                                          Entry.state == POSTED, Entry.reversal_of_id.is_(None),
                                          Entry.id.not_in(reversed_ids)).limit(1)).scalar_one_or_none()


def settle(db: Session, date_from: date, date_to: date, *, user_id: int | None = None) -> Entry:
    """Post the VAT settlement of a range: the tax amounts of its posted lines are moved off the
    tax accounts (2200 Output VAT, 1400 Input VAT) to the VAT settlement account (the role
    ``accounting.vat_settlement``, 2210 by default), which then holds what
    is owed to (credit) or refundable by (debit) the tax authority. One ordinary entry in the
    general journal dated ``date_to``; its lines carry no tax, so the VAT report is unchanged.
    Refused when the range is settled already (unless that settlement was reversed)."""
    from plugins.accounting.ledger import services as ledger

    check_range(date_from, date_to)
    existing = settlement_of(db, date_from, date_to)
    if existing is not None:
        raise KontorError(_("This period is settled already by %(number)s.", number=existing.number),
                          field="date_to", status=409)
    balances = db.execute(
        select(Line.account_id, _sum(Line.debit), _sum(Line.credit))
        .where(Line.state == POSTED, Line.date >= date_from, Line.date <= date_to, Line.tax_id.is_not(None))
        .group_by(Line.account_id).order_by(Line.account_id)
    ).all()
    zero = Decimal("0.00")
    lines = [{"account": account_id, "debit": credit - debit if credit > debit else zero,
              "credit": debit - credit if debit > credit else zero, "description": _("VAT settlement")}
             for account_id, debit, credit in balances if debit != credit]
    if not lines:
        raise KontorError(_("There is no VAT to settle in this period."), field="date_to")
    owed = sum((line["debit"] - line["credit"] for line in lines), zero)
    settlement = roles.account_for(db, roles.VAT_SETTLEMENT)
    lines.append({"account": settlement.id, "debit": -owed if owed < 0 else zero, "credit": owed if owed > 0 else zero,
                  "description": _("VAT payable") if owed >= 0 else _("VAT refundable")})
    config = ledger.get_config(db)
    return ledger.create_and_post(
        db, journal=config.general_journal_id or "GEN", date=date_to, lines=lines,
        source=settlement_source(date_from, date_to),
        reference=_("VAT %(start)s – %(end)s", start=date_from.isoformat(), end=date_to.isoformat())[:100],
        narration=_("VAT settlement of the period"), user_id=user_id)
