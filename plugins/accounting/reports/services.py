"""Financial reports: aggregates computed by the database over posted ledger lines.

Every figure is a SQL aggregate over ``accounting_line`` restricted to ``state = 'posted'`` (the index
``ix_accounting_line_account_state_date`` serves each per-account query); Python only walks the chart of
accounts (hundreds of rows) to roll balances up the parent tree, never the lines themselves.
"""
from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, select, tuple_, type_coerce
from sqlalchemy.orm import Session

from core import KontorError, Money, NotFound, gettext as _

from plugins.accounting.banking import services as banking
from plugins.accounting.ledger.models import POSTED, Account, Entry, FiscalYear, Line

ZERO = Decimal("0.00")
COMPARISONS = ("none", "previous", "year", "custom")
#: Ageing buckets: (key, first day overdue, last day overdue); None leaves the end open.
AGE_BUCKETS = (("not_due", None, 0), ("days_1_30", 1, 30), ("days_31_60", 31, 60), ("days_61_90", 61, 90),
               ("over_90", 91, None))


def _money(expr):
    """``expr`` read as company money (scaled integers on SQLite, NUMERIC on PostgreSQL)."""
    return type_coerce(expr, Money())


def _sum(expr):
    """The exact sum of a money expression, zero when there are no rows."""
    return _money(func.coalesce(func.sum(expr), 0))


def _posted():
    return Line.state == POSTED


# --------------------------------------------------------------------------------------------
# The chart as a tree
# --------------------------------------------------------------------------------------------

@dataclass
class ChartNode:
    """An account with its place in the tree (depth counts from the top)."""

    account: Account
    depth: int
    children: list[ChartNode] = field(default_factory=list)


def chart_tree(db: Session) -> list[ChartNode]:
    """The chart of accounts as a forest of nodes ordered by code."""
    accounts = list(db.execute(select(Account).order_by(Account.code)).scalars())
    nodes = {a.id: ChartNode(a, 0) for a in accounts}
    roots: list[ChartNode] = []
    for account in accounts:
        node = nodes[account.id]
        parent = nodes.get(account.parent_id) if account.parent_id else None
        (parent.children if parent else roots).append(node)

    def set_depth(items: list[ChartNode], depth: int) -> None:
        for item in items:
            item.depth = depth
            set_depth(item.children, depth + 1)

    set_depth(roots, 0)
    return roots


@dataclass
class TreeRow:
    """A row of a report laid out on the chart: an account with its figures (a group sums its descendants)."""

    account_id: int
    code: str
    name: str
    type: str
    depth: int
    is_group: bool
    values: list[Decimal]


def _tree_rows(roots: list[ChartNode], figures: dict[int, list[Decimal]], width: int, *,
               types: tuple[str, ...] | None = None) -> list[TreeRow]:
    """Depth-first rows of the accounts with non-zero figures, each group before its children and
    summing them; ``types`` keeps the accounts of those types only."""

    def visit(node: ChartNode) -> tuple[list[Decimal] | None, list[TreeRow]]:
        account = node.account
        own = figures.get(account.id)
        totals = list(own) if own else [ZERO] * width
        seen, below = own is not None, []
        for child in node.children:
            child_totals, child_rows = visit(child)
            if child_totals is not None:
                seen = True
                totals = [a + b for a, b in zip(totals, child_totals)]
            below.extend(child_rows)
        if not seen:
            return None, []
        if (types is None or account.type in types) and any(totals):
            row = TreeRow(account.id, account.code, account.name, account.type, node.depth,
                          bool(node.children) or not account.postable, totals)
            below.insert(0, row)
        return totals, below

    return [row for root in roots for row in visit(root)[1]]


# --------------------------------------------------------------------------------------------
# Dates and comparison periods
# --------------------------------------------------------------------------------------------

def check_range(date_from: date | None, date_to: date | None) -> None:
    """Refuse a range that ends before it starts."""
    if date_from and date_to and date_to < date_from:
        raise KontorError(_("The end date is before the start date."), field="date_to")


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _whole_months(date_from: date, date_to: date) -> int | None:
    """How many whole calendar months the range covers exactly, or None."""
    if date_from.day != 1 or date_to.day != monthrange(date_to.year, date_to.month)[1]:
        return None
    return (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1


def comparison_range(date_from: date, date_to: date, mode: str, custom_from: date | None = None,
                     custom_to: date | None = None) -> tuple[date, date] | None:
    """The comparison period of a range: ``previous`` (the period just before, of the same length),
    ``year`` (the same dates a year earlier), ``custom`` (the given dates) or ``none``."""
    if mode in (None, "", "none"):
        return None
    if mode == "previous":
        months = _whole_months(date_from, date_to)
        if months:
            start = _add_months(date_from, -months)
            end = _add_months(start, months) - timedelta(days=1)
            return start, end
        length = date_to - date_from
        end = date_from - timedelta(days=1)
        return end - length, end
    if mode == "year":
        end = _add_months(date_to, -12)
        if _whole_months(date_from, date_to):
            end = date(end.year, end.month, monthrange(end.year, end.month)[1])
        return _add_months(date_from, -12), end
    if mode == "custom":
        if custom_from is None:
            raise KontorError(_("Give the start of the comparison period."), field="compare_from")
        if custom_to is None:
            raise KontorError(_("Give the end of the comparison period."), field="compare_to")
        if custom_to < custom_from:
            raise KontorError(_("The comparison period ends before it starts."), field="compare_to")
        return custom_from, custom_to
    raise KontorError(_("Choose a comparison: none, previous period, previous year or custom."), field="compare")


def fiscal_year_start(db: Session, day: date) -> date:
    """The first day of the fiscal year containing ``day`` (1 January when no fiscal year covers it)."""
    start = db.execute(select(FiscalYear.start_date).where(FiscalYear.start_date <= day, FiscalYear.end_date >= day)
                       ).scalar_one_or_none()
    return start or date(day.year, 1, 1)


# --------------------------------------------------------------------------------------------
# Trial balance
# --------------------------------------------------------------------------------------------

@dataclass
class TrialBalance:
    """Per account: balance before ``date_from``, debits and credits in the range, balance at ``date_to``."""

    date_from: date
    date_to: date
    rows: list[TreeRow]  # values: opening, debit, credit, closing
    totals: list[Decimal]
    rolled_up: bool


def account_figures_statements(date_from: date, date_to: date, dialect: str) -> list:
    """The trial balance's aggregates over the posted lines, each row (account id, opening,
    debit, credit): the balance before ``date_from``, and the debits and credits from it to
    ``date_to``.

    PostgreSQL reads the lines once, in one GROUP BY with FILTER clauses. SQLite runs two plain
    GROUP BYs, one per date range: each seeks its range in ``ix_accounting_line_account_state_date``
    and sums without testing every line's date again, which is about twice as fast there.
    """
    if dialect == "postgresql":
        before, since = Line.date < date_from, Line.date >= date_from
        return [select(Line.account_id,
                       _money(func.coalesce(func.sum(Line.debit - Line.credit).filter(before), 0)),
                       _money(func.coalesce(func.sum(Line.debit).filter(since), 0)),
                       _money(func.coalesce(func.sum(Line.credit).filter(since), 0)))
                .where(_posted(), Line.date <= date_to).group_by(Line.account_id)]
    zero = _money(literal(0))
    return [select(Line.account_id, _sum(Line.debit - Line.credit), zero, zero)
            .where(_posted(), Line.date < date_from).group_by(Line.account_id),
            select(Line.account_id, zero, _sum(Line.debit), _sum(Line.credit))
            .where(_posted(), Line.date >= date_from, Line.date <= date_to).group_by(Line.account_id)]


def account_figures(db: Session, date_from: date, date_to: date) -> dict[int, list[Decimal]]:
    """{account id: [opening, debit, credit, closing]} for every account with posted lines up to ``date_to``."""
    figures: dict[int, list[Decimal]] = {}
    for stmt in account_figures_statements(date_from, date_to, db.get_bind().dialect.name):
        for account_id, opening, debit, credit in db.execute(stmt):
            known = figures.setdefault(account_id, [ZERO, ZERO, ZERO])
            figures[account_id] = [known[0] + opening, known[1] + debit, known[2] + credit]
    return {account_id: [opening, debit, credit, opening + debit - credit]
            for account_id, (opening, debit, credit) in figures.items()}


def trial_balance(db: Session, date_from: date, date_to: date, *, roll_up: bool = False) -> TrialBalance:
    """The trial balance for a range; with ``roll_up`` the parent accounts show their subtree's sums.

    The totals add the postable accounts only, so they are the same either way; opening and
    closing totals are zero in a balanced ledger.
    """
    check_range(date_from, date_to)
    figures = account_figures(db, date_from, date_to)
    totals = [sum((v[i] for v in figures.values()), ZERO) for i in range(4)]
    if roll_up:
        rows = _tree_rows(chart_tree(db), figures, 4)
    else:
        accounts = {a.id: a for a in db.execute(select(Account).where(Account.id.in_(figures))).scalars()}
        rows = [TreeRow(a.id, a.code, a.name, a.type, 0, False, figures[a.id])
                for a in sorted(accounts.values(), key=lambda a: a.code)]
    return TrialBalance(date_from, date_to, rows, totals, roll_up)


# --------------------------------------------------------------------------------------------
# General ledger
# --------------------------------------------------------------------------------------------

@dataclass
class LedgerLine:
    """A posted line of the general ledger with the account's balance after it."""

    id: int
    date: date
    entry_id: int
    entry_number: str
    reference: str
    description: str
    party_id: int | None
    party_name: str
    debit: Decimal
    credit: Decimal
    currency: str | None
    amount_currency: Decimal | None
    balance: Decimal


@dataclass
class GeneralLedger:
    """One page of an account's ledger for a range, with the balance before the range; the range's
    debits, credits and closing balance when asked for (else None)."""

    account: Account
    date_from: date
    date_to: date
    opening: Decimal
    debit: Decimal | None
    credit: Decimal | None
    closing: Decimal | None
    lines: list[LedgerLine]
    next_cursor: str | None
    first: bool


def encode_position(day: date, line_id: int) -> str:
    """A general ledger cursor: the (date, id) of the last line shown."""
    return f"{day.isoformat()}_{line_id}"


def decode_position(cursor: str | None) -> tuple[date, int] | None:
    """The (date, id) in a cursor; a malformed cursor raises a KontorError naming ``after``."""
    if not cursor:
        return None
    try:
        day, line_id = cursor.split("_")
        position = date.fromisoformat(day), int(line_id)
        if not 0 < position[1] < 2**63:  # an id either database can compare with
            raise ValueError(line_id)
        return position
    except ValueError:
        raise KontorError(_("This page position is not valid."), field="after") from None


def get_account(db: Session, account_id_or_code) -> Account:
    """An account by code, else by id (404 KontorError when there is none)."""
    account = db.execute(select(Account).where(Account.code == str(account_id_or_code))).scalar_one_or_none()
    if account is None and str(account_id_or_code).isdigit() and int(account_id_or_code) < 2**31:
        account = db.get(Account, int(account_id_or_code))
    if account is None:
        raise NotFound(_("There is no such account."), field="account")
    return account


def _subtree_ids(db: Session, account: Account) -> list[int]:
    """The account and every account below it."""
    children: dict[int | None, list[int]] = {}
    for account_id, parent_id in db.execute(select(Account.id, Account.parent_id)):
        children.setdefault(parent_id, []).append(account_id)
    found, todo = [], [account.id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _ledger_scope(db: Session, account):
    """The account (from an id, code or Account) and the condition selecting its lines (its
    subtree's, for a parent account)."""
    if not isinstance(account, Account):
        account = get_account(db, account)
    ids = _subtree_ids(db, account) if not account.postable else [account.id]
    return account, (Line.account_id.in_(ids) if len(ids) > 1 else Line.account_id == account.id)


def _opening(db: Session, on_account, date_from: date) -> Decimal:
    return db.execute(select(_sum(Line.debit - Line.credit)).where(on_account, _posted(), Line.date < date_from)
                      ).scalar_one()


def general_ledger_totals(db: Session, account, date_from: date, date_to: date) -> tuple[Decimal, ...]:
    """(opening, debit, credit, closing) of an account's general ledger for a range."""
    check_range(date_from, date_to)
    account, on_account = _ledger_scope(db, account)
    opening = _opening(db, on_account, date_from)
    debit, credit = db.execute(select(_sum(Line.debit), _sum(Line.credit))
                               .where(on_account, _posted(), Line.date >= date_from, Line.date <= date_to)).one()
    return opening, debit, credit, opening + debit - credit


def general_ledger(db: Session, account, date_from: date, date_to: date, *, after: str | None = None,
                   size: int = 100, totals: bool = True) -> GeneralLedger:
    """A page of the posted lines of ``account`` (id, code or Account; a parent account shows its
    subtree) in date order with the running balance; with ``totals``, the range's debits, credits
    and closing balance too (an aggregate over the whole range, which a page does not need).

    Pages are cut by (date, id). The balance before the page is one aggregate (opening plus
    everything up to the cursor), and the running balance inside the page is a window sum, so its
    balances are exact on every page.
    """
    check_range(date_from, date_to)
    position = decode_position(after)
    account, on_account = _ledger_scope(db, account)
    in_range = and_(Line.date >= date_from, Line.date <= date_to)
    if totals:
        opening, debit, credit, closing = general_ledger_totals(db, account, date_from, date_to)
    else:
        opening, debit, credit, closing = _opening(db, on_account, date_from), None, None, None
    start = opening
    page = (select(Line.id, Line.date, Line.entry_id, Line.description, Line.party_id, Line.debit, Line.credit,
                   Line.currency, Line.amount_currency)
            .where(on_account, _posted(), in_range))
    if position:
        day, line_id = position
        before_page = and_(on_account, _posted(), Line.date >= date_from, Line.date <= day,
                           tuple_(Line.date, Line.id) <= tuple_(day, line_id))
        start += db.execute(select(_sum(Line.debit - Line.credit)).where(before_page)).scalar_one()
        page = page.where(Line.date >= day, tuple_(Line.date, Line.id) > tuple_(day, line_id))
    # the page is cut first, so the window sums its rows only
    page = page.order_by(Line.date, Line.id).limit(size + 1).subquery("page")
    running = _money(func.sum(page.c.debit - page.c.credit).over(order_by=(page.c.date, page.c.id)))
    rows = db.execute(select(page.c.id, page.c.date, page.c.entry_id, Entry.number, Entry.reference,
                             page.c.description, page.c.party_id, page.c.debit, page.c.credit, page.c.currency,
                             page.c.amount_currency, running)
                      .join(Entry, Entry.id == page.c.entry_id).order_by(page.c.date, page.c.id)).all()
    more = len(rows) > size
    rows = rows[:size]
    names = _party_names(db, {r.party_id for r in rows if r.party_id})
    lines = [LedgerLine(r[0], r[1], r[2], r[3] or "", r[4] or "", r[5] or "", r[6], names.get(r[6], ""), r[7], r[8],
                        r[9], r[10], start + r[11]) for r in rows]
    next_cursor = encode_position(rows[-1][1], rows[-1][0]) if more else None
    return GeneralLedger(account, date_from, date_to, opening, debit, credit, closing, lines, next_cursor,
                         position is None)


def _party_names(db: Session, ids: set[int]) -> dict[int, str]:
    from core import Party  # the core's master data, read only

    if not ids:
        return {}
    return dict(db.execute(select(Party.id, Party.name).where(Party.id.in_(ids))).all())


# --------------------------------------------------------------------------------------------
# Profit and loss, balance sheet
# --------------------------------------------------------------------------------------------

@dataclass
class Section:
    """A part of a statement (income, expenses, assets …): rows on the chart and their total."""

    key: str
    title: str
    total_title: str
    rows: list[TreeRow]  # values: [amount] or [amount, comparison]
    total: list[Decimal]


@dataclass
class Statement:
    """A profit and loss statement or a balance sheet, with an optional comparison column."""

    kind: str
    date_from: date
    date_to: date
    compare: tuple[date, date] | None
    sections: list[Section]
    result: list[Decimal]  # P&L: the result; balance sheet: assets − liabilities − equity (zero)

    @property
    def columns(self) -> int:
        return 2 if self.compare else 1


def _not_closing():
    """Leave out the year-end closing entries: they move a year's result, they are not income or expense."""
    closing = select(FiscalYear.closing_entry_id).where(FiscalYear.closing_entry_id.is_not(None))
    return Line.entry_id.not_in(closing)


def _balances_by_account(db: Session, date_from: date | None, date_to: date, *,
                         without_closing: bool = False) -> dict[int, Decimal]:
    """{account id: Σ(debit − credit)} of the posted lines in the range (from the beginning when no start)."""
    stmt = select(Line.account_id, _sum(Line.debit - Line.credit)).where(_posted(), Line.date <= date_to)
    if date_from is not None:
        stmt = stmt.where(Line.date >= date_from)
    if without_closing:
        stmt = stmt.where(_not_closing())
    return dict(db.execute(stmt.group_by(Line.account_id)).all())


def _columns(per_period: list[dict[int, Decimal]], accounts: dict[int, Account], types: tuple[str, ...],
             sign: int) -> dict[int, list[Decimal]]:
    figures: dict[int, list[Decimal]] = {}
    for index, balances in enumerate(per_period):
        for account_id, amount in balances.items():
            account = accounts.get(account_id)
            if account is None or account.type not in types:
                continue
            figures.setdefault(account_id, [ZERO] * len(per_period))[index] = sign * amount
    return figures


def _section(key: str, titles: tuple[str, str], roots: list[ChartNode], per_period: list[dict[int, Decimal]],
             accounts: dict[int, Account], types: tuple[str, ...], sign: int) -> Section:
    """A statement section: the accounts of ``types`` with their balances times ``sign``, per period."""
    figures, width = _columns(per_period, accounts, types, sign), len(per_period)
    total = [sum((v[i] for v in figures.values()), ZERO) for i in range(width)]
    return Section(key, *titles, _tree_rows(roots, figures, width, types=types), total)


def profit_and_loss(db: Session, date_from: date, date_to: date, *, compare: str = "none",
                    compare_from: date | None = None, compare_to: date | None = None) -> Statement:
    """Income and expenses of a range grouped by account type and parent, with the result
    (income − expenses) and optionally the same for a comparison period."""
    check_range(date_from, date_to)
    other = comparison_range(date_from, date_to, compare, compare_from, compare_to)
    periods = [(date_from, date_to)] + ([other] if other else [])
    per_period = [_balances_by_account(db, start, end, without_closing=True) for start, end in periods]
    accounts = {a.id: a for a in db.execute(select(Account)).scalars()}
    roots = chart_tree(db)
    income = _section("income", (_("Income"), _("Total income")), roots, per_period, accounts, ("income",), -1)
    expense = _section("expense", (_("Expenses"), _("Total expenses")), roots, per_period, accounts, ("expense",), 1)
    result = [i - e for i, e in zip(income.total, expense.total)]
    return Statement("profit_and_loss", date_from, date_to, other, [income, expense], result)


def balance_sheet(db: Session, date_to: date, *, date_from: date | None = None, compare: str = "none",
                  compare_from: date | None = None, compare_to: date | None = None) -> Statement:
    """Assets, liabilities and equity at ``date_to`` (and at the comparison period's end).

    Income and expenses not yet moved to retained earnings by a year-end close appear in equity
    as the unallocated result: the current fiscal year's, and earlier years' when they are not
    closed, so that assets always equal liabilities plus equity.
    """
    date_from = date_from or fiscal_year_start(db, date_to)
    check_range(date_from, date_to)
    other = comparison_range(date_from, date_to, compare, compare_from, compare_to)
    ends = [date_to] + ([other[1]] if other else [])
    per_period = [_balances_by_account(db, None, end) for end in ends]
    accounts = {a.id: a for a in db.execute(select(Account)).scalars()}
    roots = chart_tree(db)
    assets = _section("assets", (_("Assets"), _("Total assets")), roots, per_period, accounts, ("asset",), 1)
    liabilities = _section("liabilities", (_("Liabilities"), _("Total liabilities")), roots, per_period, accounts,
                           ("liability",), -1)
    equity = _section("equity", (_("Equity"), _("Total equity")), roots, per_period, accounts, ("equity",), -1)
    current, earlier = [], []
    for end in ends:
        year_start = fiscal_year_start(db, end)
        this_year, before = db.execute(
            select(_sum(case((Line.date >= year_start, Line.credit - Line.debit), else_=0)),
                   _sum(case((Line.date < year_start, Line.credit - Line.debit), else_=0)))
            .join(Account, Account.id == Line.account_id)
            .where(_posted(), Line.date <= end, Account.type.in_(("income", "expense")))).one()
        current.append(this_year)
        earlier.append(before)
    if any(earlier):
        equity.rows.append(TreeRow(0, "", _("Unallocated result of earlier years"), "equity", 0, False, earlier))
    equity.rows.append(TreeRow(0, "", _("Result of the current year"), "equity", 0, False, current))
    equity.total = [t + c + e for t, c, e in zip(equity.total, current, earlier)]
    difference = [a - l - e for a, l, e in zip(assets.total, liabilities.total, equity.total)]
    return Statement("balance_sheet", date_from, date_to, other, [assets, liabilities, equity], difference)


# --------------------------------------------------------------------------------------------
# Charts and dashboard figures
# --------------------------------------------------------------------------------------------

def _month_key(db: Session):
    if db.get_bind().dialect.name == "postgresql":
        return func.to_char(Line.date, "YYYY-MM")
    return func.substr(Line.date, 1, 7)


def last_months(today: date, count: int = 12) -> list[tuple[date, date]]:
    """The (first day, last day) of the ``count`` months up to and including ``today``'s."""
    first = date(today.year, today.month, 1)
    months = []
    for back in range(count - 1, -1, -1):
        start = _add_months(first, -back)
        months.append((start, date(start.year, start.month, monthrange(start.year, start.month)[1])))
    return months


def monthly_result(db: Session, today: date, count: int = 12) -> list[tuple[date, Decimal, Decimal]]:
    """(month, income, expenses) for the last ``count`` months: one GROUP BY month."""
    months = last_months(today, count)
    key = _month_key(db)
    stmt = (select(key, Account.type, _sum(Line.credit - Line.debit))
            .join(Account, Account.id == Line.account_id)
            .where(_posted(), Line.date >= months[0][0], Line.date <= months[-1][1],
                   Account.type.in_(("income", "expense")), _not_closing())
            .group_by(key, Account.type))
    found = {(month, kind): amount for month, kind, amount in db.execute(stmt)}
    return [(start, found.get((start.strftime("%Y-%m"), "income"), ZERO),
             -found.get((start.strftime("%Y-%m"), "expense"), ZERO)) for start, _end in months]


def _cash_accounts():
    return select(Account.id).where(Account.kind.in_(("bank", "cash")))


def cash_position(db: Session, today: date, count: int = 12) -> list[tuple[date, Decimal]]:
    """(month end, balance of the bank and cash accounts) for the last ``count`` months."""
    months = last_months(today, count)
    key = _month_key(db)
    on_cash = Line.account_id.in_(_cash_accounts())
    opening = db.execute(select(_sum(Line.debit - Line.credit))
                         .where(on_cash, _posted(), Line.date < months[0][0])).scalar_one()
    stmt = (select(key, _sum(Line.debit - Line.credit))
            .where(on_cash, _posted(), Line.date >= months[0][0], Line.date <= months[-1][1]).group_by(key))
    moves = dict(db.execute(stmt).all())
    balances, balance = [], opening
    for start, end in months:
        balance += moves.get(start.strftime("%Y-%m"), ZERO)
        balances.append((end, balance))
    return balances


@dataclass
class CashAccount:
    """A bank or cash account and its balance."""

    account_id: int
    code: str
    name: str
    balance: Decimal


def cash_balances(db: Session, on: date) -> list[CashAccount]:
    """The balance of each bank and cash account at ``on``."""
    stmt = (select(Account.id, Account.code, Account.name, _sum(Line.debit - Line.credit))
            .join(Line, and_(Line.account_id == Account.id, _posted(), Line.date <= on), isouter=True)
            .where(Account.kind.in_(("bank", "cash")), Account.postable.is_(True))
            .group_by(Account.id, Account.code, Account.name).order_by(Account.code))
    return [CashAccount(*row) for row in db.execute(stmt)]


# --------------------------------------------------------------------------------------------
# Aged receivables and payables
# --------------------------------------------------------------------------------------------

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
    columns = [_sum(_age_case(overdue, low, high, amount)) for _key, low, high in AGE_BUCKETS]
    stmt = select(items.c.party_id, *columns).group_by(items.c.party_id)
    found = db.execute(stmt).all()
    names = _party_names(db, {row[0] for row in found if row[0]})
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
            .where(_posted(), Account.kind == kind, Line.date <= on, open_amount != 0)
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
    return _party_names(db, {party_id}).get(party_id)
