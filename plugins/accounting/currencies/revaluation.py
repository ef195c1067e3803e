"""Unrealised exchange differences at period end: foreign-currency balances valued at the day's rate.

What customers owe and the company owes suppliers in a foreign currency, and the balances of
bank accounts kept in one, are revalued at the rate of the day. The difference is one ordinary
entry in the general journal (gains on 8100, losses on 8200), reversed on the first day of the
next period, so the next period starts from the historical amounts again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session

from core import Money, gettext as _

from plugins.accounting.banking.services import open_items, reconcile_parts
from plugins.accounting.currencies.services import company_currency, currency_digits, rate_on, round_money
from plugins.accounting.ledger import roles, services as ledger
from plugins.accounting.ledger.models import POSTED, Account, CurrencyAmount, Entry, Line, Period

SOURCE = "revaluation"


@dataclass(frozen=True)
class Balance:
    """An open foreign-currency balance: in its currency and at its historical company value."""

    account_id: int
    party_id: int | None
    currency: str
    amount_currency: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Adjustment:
    """How much a balance changes when valued at ``rate``."""

    balance: Balance
    rate: Decimal
    revalued: Decimal

    @property
    def difference(self) -> Decimal:
        """Positive: the balance's debit value grows (a gain on an asset, a loss on a debt)."""
        return self.revalued - self.balance.amount


def open_balances(db: Session, day: date) -> list[Balance]:
    """The foreign-currency balances open on ``day``: receivable and payable items added up per
    account, party and currency, and the balances of bank and cash accounts kept in a currency."""
    base = company_currency(db)
    grouped: dict[tuple[int, int | None, str], list[Decimal]] = {}
    for kind in ("receivable", "payable"):
        for item in open_items(db, account_kind=kind, on=day):
            if item["currency"] == base:
                continue
            sums = grouped.setdefault((item["account_id"], item["party_id"], item["currency"]), [Decimal(0), Decimal(0)])
            sums[0] += item["open_currency"]
            sums[1] += item["open"]
    balances = [Balance(account, party, currency, sums[0], sums[1]) for (account, party, currency), sums in grouped.items()]
    bank_rows = db.execute(
        select(Account.id, Account.currency,
               type_coerce(func.coalesce(func.sum(Line.amount_currency), 0), CurrencyAmount),
               type_coerce(func.coalesce(func.sum(Line.debit), 0), Money()),
               type_coerce(func.coalesce(func.sum(Line.credit), 0), Money()))
        .join(Line, Line.account_id == Account.id)
        .where(Account.kind.in_(("bank", "cash")), Account.currency.is_not(None), Account.currency != base,
               Line.state == POSTED, Line.date <= day)
        .group_by(Account.id, Account.currency)
    ).all()
    balances += [Balance(account_id, None, currency, in_currency, debit - credit)
                 for account_id, currency, in_currency, debit, credit in bank_rows]
    return balances


def adjustments(db: Session, day: date) -> list[Adjustment]:
    """The non-zero revaluations of the balances open on ``day`` at that day's rates."""
    digits = currency_digits(db, company_currency(db))
    found = []
    for balance in open_balances(db, day):
        rate = rate_on(db, balance.currency, day)
        with localcontext() as ctx:
            ctx.prec = 60
            revalued = round_money(balance.amount_currency * rate, digits)
        if revalued != balance.amount:
            found.append(Adjustment(balance, rate, revalued))
    return found


def next_period_start(db: Session, day: date) -> date:
    """The first day of the period after the one ``day`` is in (the next month's first day when
    no period is set up after it)."""
    start = db.execute(select(func.min(Period.start_date)).where(Period.start_date > day)).scalar_one_or_none()
    if start is not None:
        return start
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def revalue(db: Session, day: date, user_id: int | None = None) -> tuple[Entry, Entry] | None:
    """Post the unrealised exchange differences of ``day`` in the general journal and their
    reversal on the first day of the next period; returns (entry, reversal), or None when every
    foreign-currency balance is already at the day's rate."""
    ledger.check_lock_date(db, day)
    found = adjustments(db, day)
    if not found:
        return None
    gain = roles.account_for(db, roles.EXCHANGE_GAIN).id
    loss = roles.account_for(db, roles.EXCHANGE_LOSS).id
    zero = Decimal("0.00")
    lines, gains, losses = [], zero, zero
    for adjustment in found:
        balance, difference = adjustment.balance, adjustment.difference
        lines.append({
            "account": balance.account_id, "party_id": balance.party_id, "currency": balance.currency,
            "amount_currency": Decimal("0.000"), "rate": adjustment.rate,
            "debit": difference if difference > 0 else zero, "credit": -difference if difference < 0 else zero,
            "description": _("Revaluation of %(amount)s %(currency)s at %(rate)s",
                             amount=balance.amount_currency, currency=balance.currency, rate=adjustment.rate)[:200],
        })
        if difference > 0:
            gains += difference
        else:
            losses -= difference
    if gains:
        lines.append({"account": gain, "debit": zero, "credit": gains, "description": _("Unrealised exchange gains")})
    if losses:
        lines.append({"account": loss, "debit": losses, "credit": zero, "description": _("Unrealised exchange losses")})
    journal = ledger.get_config(db).general_journal_id or ledger.journal_by_code(db, "GEN")
    entry = ledger.create_and_post(db, journal=journal, date=day, lines=lines,
                                   reference=_("Exchange revaluation %(day)s", day=day.isoformat())[:100],
                                   narration=_("Unrealised exchange differences at the rates of %(day)s, reversed on "
                                               "the first day of the next period.", day=day.isoformat()),
                                   source=f"{SOURCE}:{day.isoformat()}", user_id=user_id)
    reversal = ledger.reverse_entry(db, entry, date=next_period_start(db, day), user_id=user_id)
    _settle_with_reversal(db, entry, reversal, user_id)
    return entry, reversal


def _settle_with_reversal(db: Session, entry: Entry, reversal: Entry, user_id: int | None) -> None:
    """Reconcile each receivable/payable line of the revaluation with its reversal, as of the
    reversal's date: until then the revaluation is part of the open balance, afterwards neither
    line is an open item (on the party's balance, the aged report or the matching of payments)."""
    reversed_lines = {(line.account_id, line.party_id, line.credit, line.debit): line for line in reversal.lines}
    for line in entry.lines:
        if line.party_id is None or line.currency is None or not line.account.reconcilable:
            continue
        other = reversed_lines[(line.account_id, line.party_id, line.debit, line.credit)]
        amount = line.debit or line.credit
        reconcile_parts(db, [(line, amount, Decimal("0.000")), (other, amount, Decimal("0.000"))], day=reversal.date,
                        party_id=line.party_id, user_id=user_id)
