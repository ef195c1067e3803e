"""Currencies and exchange rates: the company currency, a currency's minor unit, the rate of a day,
conversion to the company currency and rounding to a minor unit, and the import of rates files.

Every document in a foreign currency (invoices, bills, payments, bank lines, the revaluation) asks
here for its rate and its rounding, so amounts are exact to the minor unit everywhere.
"""
from __future__ import annotations

import csv
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import KontorError, NotFound, current_company_id, get_company, gettext as _, map_rows, read_csv

from plugins.accounting.currencies.models import Currency, ExchangeRate

DATA = Path(__file__).resolve().parent.parent / "data"
#: The largest rate the rate column holds (precision 20, scale 8).
MAX_RATE = Decimal("999999999999")


# --- amounts and rounding -----------------------------------------------------------------------

def quantum(digits: int) -> Decimal:
    """The minor unit of a currency with ``digits`` decimals (Decimal('0.01') for 2)."""
    return Decimal(1).scaleb(-digits)


def round_money(amount: Decimal, digits: int) -> Decimal:
    """``amount`` rounded half up (away from zero) to ``digits`` decimals."""
    return amount.quantize(quantum(digits), rounding=ROUND_HALF_UP)


def to_decimal(value: Any, field_name: str) -> Decimal:
    """``value`` (a Decimal, int or decimal string) as a finite Decimal; never accepts a float."""
    if isinstance(value, float):
        raise TypeError(f"{field_name} must not be a float")
    if isinstance(value, bool):
        raise KontorError(_("Enter a number."), field=field_name)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip() if value is not None else "0")
    except (InvalidOperation, ValueError):
        raise KontorError(_("Enter a number."), field=field_name) from None
    if not number.is_finite():
        raise KontorError(_("Enter a number."), field=field_name)
    return number


# --- the company currency -----------------------------------------------------------------------

def company_currency(db: Session) -> str:
    """The company's base currency (EUR before the company is set up)."""
    try:
        return (get_company(db).base_currency or "EUR").upper()
    except NotFound:
        return "EUR"


# --- currencies and rates -----------------------------------------------------------------------

def get_currency(db: Session, code: str) -> Currency:
    """The currency ``code``; KontorError naming the field ``currency`` if unknown."""
    currency = db.get(Currency, (code or "").strip().upper())
    if currency is None:
        raise KontorError(_("Unknown currency %(code)s.", code=code), field="currency")
    return currency


def currency_named(db: Session, code: str) -> Currency:
    """The currency an address names (``/currencies/EUR``); :class:`core.NotFound` if unknown."""
    currency = db.get(Currency, (code or "").strip().upper())
    if currency is None:
        raise NotFound(_("There is no currency %(code)s.", code=code))
    return currency


#: Amounts are stored with two decimals (``Money(scale=2)``): a currency with a finer minor unit
#: (KWD, BHD, OMR, JOD, TND, LYD, IQD have three) would lose its last digit, so it is refused.
MAX_DIGITS = 2


def _too_fine(code: str, digits: int) -> str:
    return _("%(code)s has %(digits)s decimals, and amounts are kept with at most %(max)s: it cannot be used for "
             "documents.", code=code, digits=digits, max=MAX_DIGITS)


def currency_digits(db: Session, code: str) -> int:
    """The number of decimals of the currency's minor unit (2 for DKK, 0 for JPY).

    Asked by every document in a currency (invoices, bills, payments, conversions), so a currency
    whose minor unit is finer than the stored amounts (:data:`MAX_DIGITS`) is refused here with a
    :class:`KontorError` naming ``currency``, rather than rounded.
    """
    currency = get_currency(db, code)
    if currency.digits > MAX_DIGITS:
        raise KontorError(_too_fine(currency.code, currency.digits), field="currency")
    return currency.digits


def list_currencies(db: Session, *, active_only: bool = False) -> list[Currency]:
    """The currencies, active ones first, then by code."""
    query = select(Currency).order_by(Currency.active.desc(), Currency.code)
    if active_only:
        query = query.where(Currency.active.is_(True))
    return list(db.execute(query).scalars())


def update_currency(db: Session, code: str, *, active: bool | None = None, digits: Any = None,
                    name: str | None = None) -> Currency:
    """Change a currency's active flag, minor unit or name. The company currency stays active.

    A currency with more decimals than amounts are kept with (:data:`MAX_DIGITS`) may be listed
    but not active: activating it, or giving an active one that many decimals, is refused.
    """
    currency = get_currency(db, code)
    if active is not None:
        if not active and currency.code == company_currency(db):
            raise KontorError(_("The company currency cannot be deactivated."), field="active")
    new_digits = currency.digits
    if digits is not None and str(digits).strip() != "":
        try:
            new_digits = int(str(digits).strip())
        except ValueError:
            raise KontorError(_("Enter a whole number of decimals."), field="digits") from None
        if not 0 <= new_digits <= 3:
            raise KontorError(_("A currency has 0 to 3 decimals."), field="digits")
    will_be_active = currency.active if active is None else bool(active)
    if will_be_active and new_digits > MAX_DIGITS:
        field_name = "digits" if new_digits != currency.digits or active is None else "active"
        raise KontorError(_too_fine(currency.code, new_digits), field=field_name)
    if active is not None:
        currency.active = bool(active)
    currency.digits = new_digits
    if name is not None:
        name = name.strip()
        if not name or len(name) > 60:
            raise KontorError(_("Enter a name of at most 60 characters."), field="name")
        currency.name = name
    db.flush()
    return currency


def add_currency(db: Session, code: str, name: str, digits: Any = 2) -> Currency:
    """Add a currency by its ISO 4217 code."""
    code = (code or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise KontorError(_("A currency code is three letters (ISO 4217)."), field="code")
    if db.get(Currency, code) is not None:
        raise KontorError(_("This currency exists already."), field="code")
    currency = Currency(code=code, name=code, digits=2, active=True)
    db.add(currency)
    db.flush()
    return update_currency(db, code, digits=digits, name=name or code)


def parse_rate(value: Any) -> Decimal:
    """An exchange rate from user input: a positive decimal with at most 8 decimals."""
    text_value = str(value if value is not None else "").strip().replace(" ", "")
    if "," in text_value and "." not in text_value:
        text_value = text_value.replace(",", ".")
    if not text_value:
        raise KontorError(_("Enter a rate."), field="rate")
    rate = to_decimal(text_value, "rate")
    if rate <= 0:
        raise KontorError(_("A rate is greater than zero."), field="rate")
    if rate > MAX_RATE or rate != rate.quantize(Decimal("1E-8")):
        raise KontorError(_("A rate has at most 8 decimals."), field="rate")
    return rate.quantize(Decimal("1E-8"))


def parse_day(value: Any, field_name: str = "date") -> date:
    """A date from ``value`` (a date or an ISO 8601 string)."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise KontorError(_("Enter a date as YYYY-MM-DD."), field=field_name) from None


def set_rate(db: Session, currency: str, day: Any, rate: Any) -> ExchangeRate:
    """Record the rate of ``currency`` from ``day`` on (replacing the rate of that day if any).

    A rate says how much one unit of the currency is worth in the current company's base currency
    (each company keeps its own rates).
    """
    code = get_currency(db, currency).code
    if code == company_currency(db):
        raise KontorError(_("The company currency has no exchange rate."), field="currency")
    day = parse_day(day)
    value = parse_rate(rate)
    row = db.execute(select(ExchangeRate).where(ExchangeRate.company_id == current_company_id(db),
                                                ExchangeRate.currency == code, ExchangeRate.date == day)).scalar_one_or_none()
    if row is None:
        row = ExchangeRate(currency=code, date=day, rate=value)
        db.add(row)
    else:
        row.rate = value
    db.flush()
    return row


def rates_query(currency: str | None = None):
    """The exchange rates, newest first; of ``currency`` only when given."""
    query = select(ExchangeRate)
    if currency:
        query = query.where(ExchangeRate.currency == currency.upper())
    return query


def rate_on(db: Session, currency: str, day: date) -> Decimal:
    """The current company's rate of ``currency`` on ``day``: the latest rate dated on or before it
    (1 for the company currency); KontorError naming ``currency`` when there is none."""
    code = (currency or "").strip().upper()
    if code == company_currency(db):
        return Decimal(1)
    rate = db.execute(
        select(ExchangeRate.rate).where(ExchangeRate.company_id == current_company_id(db), ExchangeRate.currency == code,
                                        ExchangeRate.date <= day)
        .order_by(ExchangeRate.date.desc()).limit(1)
    ).scalar_one_or_none()
    if rate is None:
        raise KontorError(_("There is no exchange rate for %(currency)s on or before %(day)s.",
                            currency=code, day=day.isoformat()), field="currency")
    return rate


def to_company(db: Session, amount: Any, currency: str, day: date) -> tuple[Decimal, Decimal]:
    """``amount`` in ``currency`` converted at the rate on ``day``, rounded to the company
    currency's minor unit; returns (company amount, rate)."""
    rate = rate_on(db, currency, day)
    digits = currency_digits(db, company_currency(db))
    with localcontext() as ctx:
        ctx.prec = 60
        return round_money(to_decimal(amount, "amount") * rate, digits), rate


# --- default data -------------------------------------------------------------------------------

def load_default_currencies(db: Session) -> None:
    """Add the currencies of ``data/currencies.csv`` that are missing, and the company currency."""
    existing = set(db.execute(select(Currency.code)).scalars())
    with (DATA / "currencies.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["code"] not in existing:
            db.add(Currency(code=row["code"], name=row["name"], digits=int(row["digits"]), active=row["active"] == "1"))
            existing.add(row["code"])
    base = company_currency(db)
    if base not in existing:
        db.add(Currency(code=base, name=base, digits=2, active=True))
    else:
        db.flush()
        db.get(Currency, base).active = True
    db.flush()



# --- importing rates ----------------------------------------------------------------------------

#: The fields of a rates file and the column names each goes by.
RATE_FIELDS = {"date": ("day", "valid from", "dato", "datum", "data", "päivämäärä"),
               "currency": ("code", "currency code", "valuta", "waluta", "valuutta", "währung"),
               "rate": ("exchange rate", "kurs", "kurssi", "value")}


class RatesRefused(KontorError):
    """A rates file with bad rows: nothing was imported. ``problems`` lists (line, reason)."""

    def __init__(self, problems: list[tuple[int, str]]):
        summary = "; ".join(_("line %(line)s: %(reason)s", line=line, reason=reason) for line, reason in problems[:20])
        super().__init__(_("Nothing was imported. %(problems)s", problems=summary), field="file")
        self.problems = problems


def parse_file_day(value: str) -> date:
    """A date as rate files write it: 2026-11-24, 24.11.2026 or 24/11/2026."""
    raw = (value or "").strip()
    for separator in (".", "/"):
        if separator in raw:
            parts = raw.split(separator)
            if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
                try:
                    return date(int(parts[2]), int(parts[1]), int(parts[0]))
                except ValueError:
                    break
    return parse_day(raw)


def import_rates(db: Session, data: bytes, mapping: dict[str, str] | None = None) -> list[ExchangeRate]:
    """Import exchange rates from a CSV file with the columns date, currency and rate.

    ``mapping`` maps each field to the file's column (guessed from the header when omitted).
    Every bad row is reported with its line and reason in :class:`RatesRefused`, and then nothing
    is imported; a rate for a currency and day that exists already replaces it.
    """
    csv_file = read_csv(data)
    mapping = {field: column for field, column in (mapping or {}).items() if column} or csv_file.guess_mapping(RATE_FIELDS)
    for field_name in RATE_FIELDS:
        if not mapping.get(field_name):
            raise KontorError(_("Choose the column of the %(field)s.", field=field_name), field=f"map_{field_name}")
    known = {c.code: c for c in db.execute(select(Currency)).scalars()}
    base = company_currency(db)
    problems: list[tuple[int, str]] = []
    seen: dict[tuple[str, date], int] = {}
    clean: list[tuple[str, date, Decimal]] = []
    for line, row in map_rows(csv_file, mapping):
        try:
            day = parse_file_day(row["date"])
            code = row["currency"].strip().upper()
            if code not in known:
                raise KontorError(_("unknown currency %(code)s", code=code or "''"), field="currency")
            if code == base:
                raise KontorError(_("the company currency has no rate"), field="currency")
            rate = parse_rate(row["rate"])
        except KontorError as exc:
            problems.append((line, f"{exc.field}: {exc.message}"))
            continue
        if (code, day) in seen:
            problems.append((line, _("%(code)s on %(day)s is also on line %(other)s",
                                     code=code, day=day.isoformat(), other=seen[(code, day)])))
            continue
        seen[(code, day)] = line
        clean.append((code, day, rate))
    if problems:
        raise RatesRefused(problems)
    return [set_rate(db, code, day, rate) for code, day, rate in clean]
