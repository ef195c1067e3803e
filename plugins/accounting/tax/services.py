"""Currencies, exchange rates and taxes: the amounts of a line, conversion to the company currency,
and the default taxes of a country.

``compute_line`` is a pure function: it is what invoices, bills and the golden tests rely on for
amounts exact to the currency's minor unit.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import KontorError, NotFound, get_company, gettext as _, map_rows, read_csv

from plugins.accounting.ledger import roles
from plugins.accounting.ledger.models import Account, Line, LineTaxBase
from plugins.accounting.tax.models import TAX_SCOPES, Currency, ExchangeRate, Tax

DATA = Path(__file__).resolve().parent.parent / "data"
HUNDRED = Decimal(100)
#: The largest rate the rate column holds (precision 20, scale 8).
MAX_RATE = Decimal("999999999999")


# --- amounts of a line -------------------------------------------------------------------------

@dataclass(frozen=True)
class TaxAmount:
    """One tax of a line: the ``base`` it is computed on and its ``amount``.

    For a reverse-charge tax, ``amount`` is both the tax due and the tax deductible: the buyer
    books it twice and pays none of it to the supplier.
    """

    tax: Any
    base: Decimal
    amount: Decimal

    @property
    def reverse_charge(self) -> bool:
        """Whether the buyer self-assesses this tax (it is not part of the line's total)."""
        return bool(getattr(self.tax, "reverse_charge", False))


@dataclass(frozen=True)
class LineAmounts:
    """The amounts of a line, each rounded to the currency's minor unit: ``net + tax == total``."""

    net: Decimal
    tax_lines: list[TaxAmount] = field(default_factory=list)
    total: Decimal = Decimal(0)

    @property
    def tax(self) -> Decimal:
        """The tax charged on the line (reverse-charge taxes excluded: nobody charges them)."""
        return sum((t.amount for t in self.tax_lines if not t.reverse_charge), Decimal(0)).quantize(self.net)

    @property
    def reverse_charge_tax(self) -> Decimal:
        """The reverse-charge tax the buyer owes and deducts."""
        return sum((t.amount for t in self.tax_lines if t.reverse_charge), Decimal(0)).quantize(self.net)


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


def compute_line(quantity, unit_price, discount_percent, taxes: Iterable[Any], digits: int) -> LineAmounts:
    """The net, taxes and total of an invoice line, each rounded to ``digits`` decimals (half up).

    The line amount is quantity × unit price less the discount. When taxes are included in the
    price, they are backed out of that amount so that net + included taxes equal it to the minor
    unit; other taxes are added on the net. A reverse-charge tax is computed but not added to the
    total. ``taxes`` are :class:`Tax` rows or any objects with ``rate`` (percent),
    ``price_included`` and ``reverse_charge``.
    """
    qty = to_decimal(quantity, "quantity")
    price = to_decimal(unit_price, "unit_price")
    discount = to_decimal(discount_percent if discount_percent is not None else 0, "discount_percent")
    if not 0 <= discount <= 100:
        raise KontorError(_("A discount is between 0 and 100 percent."), field="discount_percent")
    taxes = list(taxes or ())
    for tax in taxes:
        if to_decimal(tax.rate, "taxes") < 0:
            raise KontorError(_("A tax rate cannot be negative."), field="taxes")
        if tax.price_included and tax.reverse_charge:
            raise KontorError(_("A reverse-charge tax cannot be included in the price."), field="taxes")
    with localcontext() as ctx:
        ctx.prec = 60
        amount = round_money(qty * price * (HUNDRED - discount) / HUNDRED, digits)
        included = [i for i, t in enumerate(taxes) if t.price_included]
        included_rate = sum((Decimal(taxes[i].rate) for i in included), Decimal(0))
        net = round_money(amount * HUNDRED / (HUNDRED + included_rate), digits) if included else amount
        amounts: dict[int, Decimal] = {}
        remainder = amount - net
        for i in included:
            # the last included tax takes what rounding left, so net + included taxes == amount
            share = remainder if i == included[-1] else round_money(net * Decimal(taxes[i].rate) / HUNDRED, digits)
            remainder -= share
            amounts[i] = share
        for i, tax in enumerate(taxes):
            if i not in amounts:
                amounts[i] = round_money(net * Decimal(tax.rate) / HUNDRED, digits)
    tax_lines = [TaxAmount(tax, net, amounts[i]) for i, tax in enumerate(taxes)]
    charged = sum((t.amount for t in tax_lines if not t.reverse_charge), Decimal(0))
    return LineAmounts(net=net, tax_lines=tax_lines, total=(net + charged).quantize(quantum(digits)))


# --- the company --------------------------------------------------------------------------------

def company_currency(db: Session) -> str:
    """The company's base currency (EUR before the company is set up)."""
    try:
        return (get_company(db).base_currency or "EUR").upper()
    except NotFound:
        return "EUR"


def company_country(db: Session) -> str:
    """The company's country (ISO 3166 alpha-2), or '' when not set."""
    try:
        return (get_company(db).country or "").upper()
    except NotFound:
        return ""


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

    A rate says how much one unit of the currency is worth in the company currency.
    """
    code = get_currency(db, currency).code
    if code == company_currency(db):
        raise KontorError(_("The company currency has no exchange rate."), field="currency")
    day = parse_day(day)
    value = parse_rate(rate)
    row = db.execute(select(ExchangeRate).where(ExchangeRate.currency == code, ExchangeRate.date == day)).scalar_one_or_none()
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
    """The rate of ``currency`` on ``day``: the latest rate dated on or before it (1 for the
    company currency); KontorError naming ``currency`` when there is none."""
    code = (currency or "").strip().upper()
    if code == company_currency(db):
        return Decimal(1)
    rate = db.execute(
        select(ExchangeRate.rate).where(ExchangeRate.currency == code, ExchangeRate.date <= day)
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


# --- taxes --------------------------------------------------------------------------------------

def list_taxes(db: Session, *, scope: str | None = None, active_only: bool = False) -> list[Tax]:
    """The taxes by scope and code."""
    query = select(Tax).order_by(Tax.scope.desc(), Tax.code)
    if scope:
        query = query.where(Tax.scope == scope)
    if active_only:
        query = query.where(Tax.active.is_(True))
    return list(db.execute(query).scalars())


def taxes_for_country(db: Session, country: str) -> list[Tax]:
    """The active taxes of ``country`` (ISO alpha-2), sales first, then by code."""
    return list(db.execute(
        select(Tax).where(Tax.country == (country or "").upper(), Tax.active.is_(True))
        .order_by(Tax.scope.desc(), Tax.code)
    ).scalars())


def get_tax(db: Session, tax_id: int) -> Tax:
    """The tax ``tax_id``, or NotFound."""
    tax = db.get(Tax, tax_id) if 0 < tax_id < 2**31 else None
    if tax is None:
        raise NotFound(_("No such tax."))
    return tax


def _account_id(db: Session, value: Any, field_name: str) -> int | None:
    """An account reference (an Account, an id as int, or a code as text) as a postable account's
    id; None when empty."""
    if value in (None, ""):
        return None
    if isinstance(value, Account):
        account = value
    elif isinstance(value, int) and not isinstance(value, bool):
        account = db.get(Account, value)
    else:
        account = db.execute(select(Account).where(Account.code == str(value).strip())).scalar_one_or_none()
    if account is None:
        raise KontorError(_("No account with this code."), field=field_name)
    if not account.postable or not account.active:
        raise KontorError(_("Choose an active account that takes entries."), field=field_name)
    return account.id


def tax_is_used(db: Session, tax: Tax) -> bool:
    """Whether posted or draft entry lines carry ``tax`` (as its amount or its base)."""
    based = select(LineTaxBase.line_id).where(LineTaxBase.tax_id == tax.id)
    return db.execute(select(Line.id).where(or_(Line.tax_id == tax.id, Line.tax_base_id == tax.id,
                                                Line.id.in_(based))).limit(1)).first() is not None


TAX_FIELDS = ("code", "name", "country", "scope", "rate", "price_included", "reverse_charge",
              "collected_account", "paid_account", "report_code", "active")


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "on", "yes") if not isinstance(value, bool) else value


def save_tax(db: Session, data: dict[str, Any], tax: Tax | None = None) -> Tax:
    """Create a tax (``tax`` None) or change ``tax`` from ``data``; KontorError naming the field.

    ``collected_account`` / ``paid_account`` are account codes (or ids as int). A sale tax needs the
    account the collected tax goes to, a purchase tax the account of the deductible tax, a
    reverse-charge purchase tax both.
    """
    creating = tax is None
    values = dict(data)
    code = str(values.get("code", tax.code if tax else "")).strip().upper()
    if not code or len(code) > 20:
        raise KontorError(_("Enter a code of at most 20 characters."), field="code")
    clash = db.execute(select(Tax.id).where(Tax.code == code)).scalar_one_or_none()
    if clash is not None and (creating or clash != tax.id):
        raise KontorError(_("Another tax has this code."), field="code")
    name = str(values.get("name", tax.name if tax else "")).strip()
    if not name or len(name) > 100:
        raise KontorError(_("Enter a name of at most 100 characters."), field="name")
    scope = str(values.get("scope", tax.scope if tax else "")).strip()
    if scope not in TAX_SCOPES:
        raise KontorError(_("Choose sale or purchase."), field="scope")
    raw_rate = values.get("rate", tax.rate if tax else "")
    if isinstance(raw_rate, float):
        raise KontorError(_("Enter the rate as a decimal string."), field="rate")
    rate = to_decimal(str(raw_rate).strip().replace(",", ".") if raw_rate not in (None, "") else "x", "rate")
    if not 0 <= rate <= 100 or rate != rate.quantize(Decimal("0.0001")):
        raise KontorError(_("A rate is a percentage from 0 to 100 with at most 4 decimals."), field="rate")
    country = str(values.get("country", tax.country if tax else "")).strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise KontorError(_("A country is a two-letter code."), field="country")
    price_included = _truthy(values.get("price_included", tax.price_included if tax else False))
    reverse_charge = _truthy(values.get("reverse_charge", tax.reverse_charge if tax else False))
    if reverse_charge and scope != "purchase":
        raise KontorError(_("Reverse charge applies to purchases only."), field="reverse_charge")
    if reverse_charge and price_included:
        raise KontorError(_("A reverse-charge tax cannot be included in the price."), field="price_included")
    collected = _account_id(db, values.get("collected_account", tax.collected_account_id if tax else None),
                            "collected_account")
    paid = _account_id(db, values.get("paid_account", tax.paid_account_id if tax else None), "paid_account")
    if (scope == "sale" or reverse_charge) and collected is None:
        raise KontorError(_("Choose the account the collected tax goes to."), field="collected_account")
    if scope == "purchase" and paid is None:
        raise KontorError(_("Choose the account of the deductible tax."), field="paid_account")
    report_code = str(values.get("report_code", tax.report_code if tax else "")).strip()
    if len(report_code) > 20:
        raise KontorError(_("A report code has at most 20 characters."), field="report_code")
    if not creating and tax_is_used(db, tax):
        changed = {"rate": rate.quantize(Decimal("0.0001")) != tax.rate, "scope": scope != tax.scope,
                   "price_included": price_included != tax.price_included,
                   "reverse_charge": reverse_charge != tax.reverse_charge}
        for field_name, different in changed.items():
            if different:
                raise KontorError(_("This tax is on posted entries: its rate and kind stay as they are. Create a "
                                    "new tax and deactivate this one."), field=field_name)
    if creating:
        tax = Tax()
        db.add(tax)
    tax.code, tax.name, tax.scope, tax.rate, tax.country = code, name, scope, rate.quantize(Decimal("0.0001")), country
    tax.price_included, tax.reverse_charge = price_included, reverse_charge
    tax.collected_account_id, tax.paid_account_id, tax.report_code = collected, paid, report_code
    tax.active = _truthy(values.get("active", tax.active if tax.active is not None else True))
    db.flush()
    return tax


# --- default data -------------------------------------------------------------------------------

def read_data_csv(name: str) -> list[dict[str, str]]:
    """The rows of a CSV file of the module's data folder."""
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def countries_with_default_taxes() -> list[str]:
    """The countries that have a default tax table (``data/taxes_<country>.csv``)."""
    return sorted(path.stem.split("_", 1)[1].upper() for path in DATA.glob("taxes_*.csv"))


def load_default_currencies(db: Session) -> None:
    """Add the currencies of ``data/currencies.csv`` that are missing, and the company currency."""
    existing = set(db.execute(select(Currency.code)).scalars())
    for row in read_data_csv("currencies.csv"):
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


def load_country_taxes(db: Session, country: str) -> list[Tax]:
    """Add the default taxes of ``country`` that are missing (by code); returns those added.

    Sale taxes go to the output VAT account (role ``accounting.vat_collected``, 2200 by default),
    purchase taxes to the input VAT account (``accounting.vat_deductible``, 1400); reverse-charge
    purchase taxes to both. KontorError when the country has no table.
    """
    country = (country or "").strip().upper()
    if country not in countries_with_default_taxes():
        raise KontorError(_("There are no default taxes for this country."), field="country")
    collected, paid = (roles.find_account_for(db, roles.VAT_COLLECTED), roles.find_account_for(db, roles.VAT_DEDUCTIBLE))
    existing = set(db.execute(select(Tax.code)).scalars())
    added = []
    for row in read_data_csv(f"taxes_{country.lower()}.csv"):
        if row["code"] in existing:
            continue
        reverse = row["reverse_charge"] == "1"
        sale = row["scope"] == "sale"
        tax = Tax(code=row["code"], name=row["name"], country=country, scope=row["scope"], rate=Decimal(row["rate"]),
                  price_included=row["price_included"] == "1", reverse_charge=reverse,
                  collected_account_id=collected.id if collected and (sale or reverse) else None,
                  paid_account_id=paid.id if paid and not sale else None, report_code=row["report_code"], active=True)
        db.add(tax)
        added.append(tax)
    db.flush()
    return added


def load_default_data(db: Session) -> None:
    """On install: the currencies, and the default taxes of the company's country if it has a table."""
    load_default_currencies(db)
    country = company_country(db)
    if country in countries_with_default_taxes():
        load_country_taxes(db, country)


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
