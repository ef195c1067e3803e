"""An account's general ledger: its posted lines with the running balance, a keyset page at a time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.orm import Session

from core import KontorError, NotFound, current_company_id, gettext as _

from plugins.accounting.ledger.models import Account, Entry, Line
from plugins.accounting.reports.figures import as_money, check_range, is_posted, money_sum, party_names, subtree_ids

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
    account = db.execute(select(Account).where(Account.code == str(account_id_or_code),
                                               Account.company_id == current_company_id(db))).scalar_one_or_none()
    if account is None and str(account_id_or_code).isdigit() and int(account_id_or_code) < 2**31:
        account = db.get(Account, int(account_id_or_code))
    if account is None:
        raise NotFound(_("There is no such account."), field="account")
    return account




def _ledger_scope(db: Session, account):
    """The account (from an id, code or Account) and the condition selecting its lines (its
    subtree's, for a parent account)."""
    if not isinstance(account, Account):
        account = get_account(db, account)
    ids = subtree_ids(db, account) if not account.postable else [account.id]
    return account, (Line.account_id.in_(ids) if len(ids) > 1 else Line.account_id == account.id)


def _opening(db: Session, on_account, date_from: date) -> Decimal:
    return db.execute(select(money_sum(Line.debit - Line.credit)).where(on_account, is_posted(), Line.date < date_from)
                      ).scalar_one()


def general_ledger_totals(db: Session, account, date_from: date, date_to: date) -> tuple[Decimal, ...]:
    """(opening, debit, credit, closing) of an account's general ledger for a range."""
    check_range(date_from, date_to)
    account, on_account = _ledger_scope(db, account)
    opening = _opening(db, on_account, date_from)
    debit, credit = db.execute(select(money_sum(Line.debit), money_sum(Line.credit))
                               .where(on_account, is_posted(), Line.date >= date_from, Line.date <= date_to)).one()
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
            .where(on_account, is_posted(), in_range))
    if position:
        day, line_id = position
        before_page = and_(on_account, is_posted(), Line.date >= date_from, Line.date <= day,
                           tuple_(Line.date, Line.id) <= tuple_(day, line_id))
        start += db.execute(select(money_sum(Line.debit - Line.credit)).where(before_page)).scalar_one()
        page = page.where(Line.date >= day, tuple_(Line.date, Line.id) > tuple_(day, line_id))
    # the page is cut first, so the window sums its rows only
    page = page.order_by(Line.date, Line.id).limit(size + 1).subquery("page")
    running = as_money(func.sum(page.c.debit - page.c.credit).over(order_by=(page.c.date, page.c.id)))
    rows = db.execute(select(page.c.id, page.c.date, page.c.entry_id, Entry.number, Entry.reference,
                             page.c.description, page.c.party_id, page.c.debit, page.c.credit, page.c.currency,
                             page.c.amount_currency, running)
                      .join(Entry, Entry.id == page.c.entry_id).order_by(page.c.date, page.c.id)).all()
    more = len(rows) > size
    rows = rows[:size]
    names = party_names(db, {r.party_id for r in rows if r.party_id})
    lines = [LedgerLine(r[0], r[1], r[2], r[3] or "", r[4] or "", r[5] or "", r[6], names.get(r[6], ""), r[7], r[8],
                        r[9], r[10], start + r[11]) for r in rows]
    next_cursor = encode_position(rows[-1][1], rows[-1][0]) if more else None
    return GeneralLedger(account, date_from, date_to, opening, debit, credit, closing, lines, next_cursor,
                         position is None)
