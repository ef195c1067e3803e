"""Taxes: the amounts of a line, the taxes and their accounts, and the default taxes of a country.

``compute_line`` is a pure function: it is what invoices, bills and the golden tests rely on for
amounts exact to the currency's minor unit (the rounding is the currencies'). Currencies, exchange
rates and conversion to the company currency are in ``plugins/accounting/currencies``.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import KontorError, NotFound, current_company_id, get_company, gettext as _

from plugins.accounting.currencies.services import quantum, round_money, to_decimal
from plugins.accounting.ledger import roles
from plugins.accounting.ledger.models import Account, Line, LineTaxBase
from plugins.accounting.tax.models import TAX_SCOPES, Tax

DATA = Path(__file__).resolve().parent.parent / "data"
HUNDRED = Decimal(100)


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


# --- the company's country ----------------------------------------------------------------------

def company_country(db: Session) -> str:
    """The company's country (ISO 3166 alpha-2), or '' when not set."""
    try:
        return (get_company(db).country or "").upper()
    except NotFound:
        return ""


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
        account = db.execute(select(Account).where(Account.code == str(value).strip(),
                                                   Account.company_id == current_company_id(db))).scalar_one_or_none()
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
    clash = db.execute(select(Tax.id).where(Tax.code == code, Tax.company_id == current_company_id(db))).scalar_one_or_none()
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
    existing = set(db.execute(select(Tax.code).where(Tax.company_id == current_company_id(db))).scalars())
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
    """On install: the default taxes of the company's country if it has a table."""
    country = company_country(db)
    if country in countries_with_default_taxes():
        load_country_taxes(db, country)
