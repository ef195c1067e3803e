"""Consolidated reports: the trial balance, profit and loss and balance sheet of several companies of
the group, in one group currency, with the balances between them eliminated.

Each company's figures are read in its own books (``core.in_company``) and converted to the group
currency at that company's own rate of the report's date: the rate it keeps for the group currency
(one unit of the group currency in its base currency), the latest on or before the date. The
balance sheet and the trial balance convert at the rate of their date, the profit and loss at the
rate of its end date. A missing rate is an error naming the company, the currency and the date,
never a silent 1. Every amount is a ``Decimal``: a company's balance of an account is divided by
the rate and rounded half up to the group currency's minor unit, and totals add the rounded rows.

A company's accounts flagged ``intercompany`` (receivables, payables, revenue and expenses between
group companies) are eliminated: each row shows the companies' columns, the Eliminations column
(minus what the flagged accounts hold) and the consolidated total. The eliminated balances of a
matched pair (A's sale and B's purchase, A's receivable and B's payable) net to zero; when they do
not (a bill not yet posted, booked at another rate, or a company not included) the report says so.

Who may include a company: a user includes only companies they work in and in each of which they
hold ``accounting.report.read``; anything else is refused naming ``companies`` (403).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext
from typing import Any, Iterable

from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import (Company, InvalidInput, KontorError, current_actor, current_company_id, gettext as _,
                  has_permission, in_company, lazy_gettext as _l, list_companies)

from plugins.accounting.currencies import services as fx
from plugins.accounting.currencies.models import Currency
from plugins.accounting.ledger.models import Account, Line
from plugins.accounting.permissions import REPORT_READ
from plugins.accounting.reports.figures import ZERO, check_range, is_posted, money_sum, not_closing
from plugins.accounting.reports.schemas import RangeQuery

KINDS = ("trial-balance", "profit-and-loss", "balance-sheet")
TITLES = {"trial-balance": _l("Consolidated trial balance"), "profit-and-loss": _l("Consolidated profit and loss"),
          "balance-sheet": _l("Consolidated balance sheet")}
MAX_COMPANIES = 50


# -- The query --


class ConsolidatedQuery(RangeQuery):
    """A consolidated report's parameters: the companies (ids, comma-separated; default every company
    the user may include), the group currency (default the default company's) and the range."""

    companies = fields.String(load_default="", validate=validate.Length(max=500))
    currency = fields.String(load_default="", validate=validate.Length(max=3))


class ConsolidatedPage(ConsolidatedQuery):
    """The page's parameters: the query, and ``format`` for a CSV or XLSX download."""

    format = fields.String(load_default="", validate=validate.OneOf(("", "html", "csv", "xlsx")))


def parse_ids(raw: Any) -> list[int]:
    """``"1,2"`` (or a list) as company ids, in order, without repeats; InvalidInput naming ``companies``."""
    parts = raw if isinstance(raw, (list, tuple)) else str(raw or "").split(",")
    ids: list[int] = []
    for part in parts:
        text = str(part).strip()
        if not text:
            continue
        if not text.isdigit() or int(text) >= 2**31:
            raise InvalidInput(_("Name companies by their ids, separated by commas."), field="companies")
        if int(text) not in ids:
            ids.append(int(text))
    if len(ids) > MAX_COMPANIES:
        raise InvalidInput(_("Choose at most %(count)d companies.", count=MAX_COMPANIES), field="companies")
    return ids


# -- Who may include which company --


def may_include(db: Session, user, company: Company) -> bool:
    """Whether ``user`` works in ``company`` and holds the report permission there (the system, acting
    for nobody in a command, may include any company)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return user is None
    if company.id not in {c.id for c in list_companies(db, user=user)}:
        return False
    with in_company(company.id):
        return has_permission(REPORT_READ, user)


def includable(db: Session, user=None) -> list[Company]:
    """The active companies ``user`` (default: the acting user) may include, by name."""
    user = current_actor() if user is None else user
    return [c for c in list_companies(db, active_only=True) if may_include(db, user, c)]


def choose_companies(db: Session, ids: Iterable[int] = (), user=None) -> list[Company]:
    """The companies ``ids`` (default: every company the user may include), each checked: one that does
    not exist is refused (422), one the user may not include is refused (403), both naming ``companies``."""
    user = current_actor() if user is None else user
    ids = list(ids)
    if not ids:
        chosen = includable(db, user)
        if not chosen:
            raise KontorError(_("You may not include any company in a consolidated report."), field="companies",
                              status=403)
        return chosen
    known = {c.id: c for c in list_companies(db)}
    chosen = []
    for company_id in ids:
        company = known.get(company_id)
        if company is None:
            raise InvalidInput(_("There is no company %(id)s.", id=company_id), field="companies")
        if not may_include(db, user, company):
            raise KontorError(_("You may not include %(company)s: you do not work there or may not read its "
                                "reports.", company=company.legal_name), field="companies", status=403)
        chosen.append(company)
    return chosen


def group_currency(db: Session, code: str = "") -> str:
    """The group currency asked for (an active currency), else the default company's base currency."""
    code = (code or "").strip().upper()
    if not code:
        companies = list_companies(db)
        default = next((c for c in companies if c.is_default), companies[0] if companies else None)
        return (default.base_currency if default else fx.company_currency(db)).upper()
    known = db.get(Currency, code) if len(code) == 3 else None
    if known is None or not known.active:
        raise InvalidInput(_("There is no such currency."), field="currency")
    return code


# -- The report --


@dataclass
class Member:
    """A company of the report: its base currency and the rate converting it (one group unit in its base)."""

    id: int
    name: str
    currency: str
    rate: Decimal


@dataclass
class Row:
    """An account code across the companies: each company's converted amount, the eliminations and the total."""

    code: str
    name: str
    type: str
    values: list[Decimal]
    elimination: Decimal = ZERO
    intercompany: bool = False

    @property
    def total(self) -> Decimal:
        return sum(self.values, ZERO) + self.elimination


@dataclass
class Section:
    """Income, expenses, assets … (or the trial balance's accounts) with their totals per column."""

    key: str
    title: str
    total_title: str
    rows: list[Row] = field(default_factory=list)

    def totals(self, width: int) -> Row:
        values = [sum((row.values[i] for row in self.rows), ZERO) for i in range(width)]
        return Row("", self.total_title, self.key, values, sum((row.elimination for row in self.rows), ZERO))


@dataclass
class Consolidated:
    """A consolidated report: the companies, their sections, the result and how the eliminations net."""

    kind: str
    currency: str
    date_from: date
    date_to: date
    rate_date: date
    companies: list[Member]
    sections: list[Section]
    result: Row | None
    #: Σ (debit − credit) of the eliminated balances, of the balance sheet's accounts ("balance") and of the
    #: income and expenses ("result") the report covers: each is zero when the companies' documents match
    nets: dict[str, Decimal]

    @property
    def title(self) -> str:
        return str(TITLES[self.kind])

    @property
    def width(self) -> int:
        return len(self.companies)

    @property
    def unmatched(self) -> bool:
        return any(self.nets.values())

    @property
    def eliminations_net(self) -> Decimal:
        """The first of the eliminations that do not net to zero (the result's, then the balances'), else zero."""
        return next((net for net in (self.nets.get("result"), self.nets.get("balance")) if net), ZERO)

    def section_totals(self) -> list[Row]:
        return [section.totals(self.width) for section in self.sections]


def company_rate(db: Session, company: Company, currency: str, day: date) -> Decimal:
    """``company``'s rate for ``currency`` on ``day`` (1 when it is its base currency); run in its scope.
    A missing rate is an error naming the company, the currency and the date."""
    if company.base_currency.upper() == currency:
        return Decimal(1)
    try:
        return fx.rate_on(db, currency, day)
    except KontorError:
        raise KontorError(_("%(company)s has no exchange rate for %(currency)s on or before %(day)s: add it to "
                            "its rates to consolidate in %(currency)s.", company=company.legal_name,
                            currency=currency, day=day.isoformat()), field="currency", status=422) from None


def convert(amount: Decimal, rate: Decimal, digits: int) -> Decimal:
    """``amount`` of a company's base currency in the group currency (divided by the company's rate
    for it), rounded half up to ``digits``."""
    if rate == 1:
        return fx.round_money(amount, digits)
    with localcontext() as ctx:
        ctx.prec = 60
        return fx.round_money(amount / rate, digits)


def _balances(db: Session, date_from: date | None, date_to: date, *, without_closing: bool = False
              ) -> dict[int, Decimal]:
    """{account id: Σ(debit − credit)} of the current company's posted lines in the range."""
    stmt = select(Line.account_id, money_sum(Line.debit - Line.credit)).where(is_posted(), Line.date <= date_to)
    if date_from is not None:
        stmt = stmt.where(Line.date >= date_from)
    if without_closing:
        stmt = stmt.where(not_closing())
    return {account_id: amount for account_id, amount in db.execute(stmt.group_by(Line.account_id)) if amount}


#: Per report: the sections (key, title, total title, account types, sign shown: +1 debit, −1 credit).
SECTIONS = {
    "trial-balance": [("accounts", _l("Accounts"), _l("Total"), ("asset", "liability", "equity", "income", "expense"),
                       1)],
    "profit-and-loss": [("income", _l("Income"), _l("Total income"), ("income",), -1),
                        ("expense", _l("Expenses"), _l("Total expenses"), ("expense",), 1)],
    "balance-sheet": [("assets", _l("Assets"), _l("Total assets"), ("asset",), 1),
                      ("liabilities", _l("Liabilities"), _l("Total liabilities"), ("liability",), -1),
                      ("equity", _l("Equity"), _l("Total equity"), ("equity",), -1)],
}
RESULT_KEY = "__result__"
ROUNDING_KEY = "__rounding__"


def consolidate(db: Session, kind: str, *, companies: Iterable[int] = (), currency: str = "",
                date_from: date | None = None, date_to: date | None = None, user=None) -> Consolidated:
    """The consolidated ``kind`` report (see :data:`KINDS`) of ``companies`` (ids; default every company
    the acting user may include) in ``currency`` (default the default company's base currency), for
    ``date_from``–``date_to`` (the balance sheet and trial balance: at ``date_to``; default today and the
    start of its calendar year)."""
    if kind not in KINDS:
        raise InvalidInput(_("Choose a report: %(kinds)s.", kinds=", ".join(KINDS)), field="kind")
    chosen = choose_companies(db, companies, user)
    group = group_currency(db, currency)
    date_to = date_to or date.today()
    date_from = date_from or date(date_to.year, 1, 1)
    check_range(date_from, date_to)
    digits = fx.currency_digits(db, group)
    specs = SECTIONS[kind]
    members: list[Member] = []
    # per company: {(section key, code): (account, converted amount in the section's sign)}
    per_company: list[dict[tuple[str, str], tuple[Account | None, Decimal]]] = []
    nets = {"balance": ZERO, "result": ZERO} if kind != "profit-and-loss" else {"result": ZERO}
    current = current_company_id(db)
    with in_company(current, companies=[c.id for c in chosen]):
        for company in chosen:
            with in_company(company.id):
                rate = company_rate(db, company, group, date_to)
                figures, company_net = _company_figures(db, kind, specs, date_from, date_to, rate, digits)
            members.append(Member(company.id, company.legal_name, company.base_currency.upper(), rate))
            per_company.append(figures)
            for key in nets:
                nets[key] += company_net[key]
    sections, result = _lay_out(kind, specs, per_company, len(members))
    return Consolidated(kind, group, date_from, date_to, date_to, members, sections, result, nets)


def _company_figures(db: Session, kind: str, specs, date_from: date, date_to: date, rate: Decimal, digits: int):
    """One company's converted figures by (section, code), and its eliminated balances' Σ(debit − credit),
    of the balance sheet's accounts and of the income and expenses."""
    accounts = {a.id: a for a in db.scalars(select(Account))}
    if kind == "profit-and-loss":
        balances = _balances(db, date_from, date_to, without_closing=True)
    else:
        balances = _balances(db, None, date_to)
    figures: dict[tuple[str, str], tuple[Account | None, Decimal]] = {}
    net = {"balance": ZERO, "result": ZERO}
    result = ZERO
    result_ic = ZERO
    for account_id, amount in balances.items():
        account = accounts.get(account_id)
        if account is None:
            continue
        converted = convert(amount, rate, digits)
        placed = False
        for key, _title, _total, types, sign in specs:
            if account.type in types:
                figures[(key, account.code)] = (account, sign * converted)
                placed = True
        if not placed and kind == "balance-sheet" and account.type in ("income", "expense"):
            placed = True
            result -= converted  # credit − debit: the result not yet moved to retained earnings
            if account.intercompany:
                result_ic -= converted
        if placed and account.intercompany:
            net["result" if account.type in ("income", "expense") else "balance"] += converted
    if kind == "balance-sheet":
        figures[("equity", RESULT_KEY)] = (None, result)
        figures[("equity", "__result_ic__")] = (None, result_ic)
        assets = sum((v for (key, _c), (_a, v) in figures.items() if key == "assets"), ZERO)
        others = sum((v for (key, code), (_a, v) in figures.items()
                      if key in ("liabilities", "equity") and code != "__result_ic__"), ZERO)
        if assets != others:  # rounding each account's conversion: the company's own sheet balances
            figures[("equity", ROUNDING_KEY)] = (None, assets - others)
    return figures, net


def _lay_out(kind: str, specs, per_company, width: int) -> tuple[list[Section], Row | None]:
    sections = []
    for key, title, total_title, _types, _sign in specs:
        section = Section(key, str(title), str(total_title))
        codes = sorted({code for figures in per_company for (k, code) in figures
                        if k == key and not code.startswith("__")})
        for code in codes:
            row = Row(code, "", "", [ZERO] * width)
            for index, figures in enumerate(per_company):
                account, value = figures.get((key, code), (None, None))
                if account is None:
                    continue
                row.name = row.name or account.name
                row.type = row.type or account.type
                row.values[index] = value
                if account.intercompany:
                    row.intercompany = True
                    row.elimination -= value
            section.rows.append(row)
        if kind == "balance-sheet" and key == "equity":
            result = Row("", _("Result not yet allocated (the current year and unclosed years)"), "equity",
                         [figures.get(("equity", RESULT_KEY), (None, ZERO))[1] for figures in per_company])
            result.elimination = -sum((figures.get(("equity", "__result_ic__"), (None, ZERO))[1]
                                       for figures in per_company), ZERO)
            section.rows.append(result)
            rounding = [figures.get(("equity", ROUNDING_KEY), (None, ZERO))[1] for figures in per_company]
            if any(rounding):
                section.rows.append(Row("", _("Rounding on conversion"), "equity", rounding))
        sections.append(section)
    result = None
    if kind == "profit-and-loss":
        income, expense = (s.totals(width) for s in sections)
        result = Row("", _("Result"), "", [i - e for i, e in zip(income.values, expense.values)],
                     income.elimination - expense.elimination)
    return sections, result


# -- Spreadsheet rows --


def export_table(report: Consolidated):
    """Columns and rows of a consolidated report for ``core.export_response``."""
    columns = [("section", _("Section")), ("code", _("Code")), ("name", _("Account"))]
    columns += [(f"company_{m.id}", f"{m.name} ({report.currency})") for m in report.companies]
    columns += [("eliminations", _("Eliminations")), ("total", _("Consolidated"))]
    rows = []
    for section, totals in zip(report.sections, report.section_totals()):
        rows.extend([section.title, row.code, row.name, *row.values, row.elimination, row.total]
                    for row in section.rows)
        rows.append([section.title, "", totals.name, *totals.values, totals.elimination, totals.total])
    if report.result is not None:
        rows.append(["", "", report.result.name, *report.result.values, report.result.elimination,
                     report.result.total])
    return columns, rows


def as_json(report: Consolidated) -> dict[str, Any]:
    """The report as the API answers it (amounts as decimal strings)."""
    def row(item: Row) -> dict[str, Any]:
        return {"code": item.code or None, "name": item.name, "type": item.type or None,
                "intercompany": item.intercompany,
                "companies": {str(m.id): str(v) for m, v in zip(report.companies, item.values)},
                "eliminations": str(item.elimination), "total": str(item.total)}

    return {
        "kind": report.kind, "currency": report.currency, "date_from": report.date_from.isoformat(),
        "date_to": report.date_to.isoformat(), "rate_date": report.rate_date.isoformat(),
        "companies": [{"id": m.id, "name": m.name, "currency": m.currency, "rate": str(m.rate)}
                      for m in report.companies],
        "sections": [{"key": s.key, "title": s.title, "rows": [row(r) for r in s.rows], "total": row(t)}
                     for s, t in zip(report.sections, report.section_totals())],
        "result": row(report.result) if report.result is not None else None,
        "eliminations_net": str(report.eliminations_net), "unmatched": report.unmatched,
        "eliminations_nets": {key: str(value) for key, value in report.nets.items()},
    }
