"""Demo exchange rates: the first of every month over the past year and today, for the active
currencies, around typical levels with a small deterministic drift."""
from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import current_company_id

from plugins.accounting.companies import in_each_company
from plugins.accounting.currencies.models import Currency, ExchangeRate
from plugins.accounting.currencies.services import company_currency

#: Units of each currency per euro, typical of 2026.
PER_EURO = {"EUR": "1", "DKK": "7.46", "SEK": "11.05", "NOK": "11.70", "PLN": "4.26", "USD": "1.09", "GBP": "0.85",
            "CHF": "0.94", "JPY": "165", "ISK": "146"}


def _months(today: date) -> list[date]:
    firsts = []
    year, month = today.year - 1, today.month
    for _step in range(13):
        firsts.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [d for d in firsts if d <= today] + ([today] if today.day != 1 else [])


def load(db: Session, progress, today: date | None = None) -> None:
    """Add the demo rates of every company of the group (each to its own base currency)."""
    in_each_company(db, lambda: _load(db, progress, today))


def _load(db: Session, progress, today: date | None = None) -> None:
    """Add the current company's demo rates (skipping currency-days that have one)."""
    today = today or date.today()
    base = company_currency(db)
    if base not in PER_EURO:
        return
    codes = [c for c in db.execute(select(Currency.code).where(Currency.active.is_(True))).scalars()
             if c in PER_EURO and c != base]
    have = set(db.execute(select(ExchangeRate.currency, ExchangeRate.date)
                          .where(ExchangeRate.company_id == current_company_id(db))).all())
    wobble = random.Random(2026)
    for code in codes:
        level = Decimal(PER_EURO[base]) / Decimal(PER_EURO[code])
        for day in _months(today):
            level *= Decimal(1) + Decimal(wobble.randint(-50, 50)) / Decimal(10000)
            if (code, day) not in have:
                db.add(ExchangeRate(currency=code, date=day, rate=level.quantize(Decimal("1E-6")).quantize(Decimal("1E-8"))))
                progress(1)
    db.flush()
