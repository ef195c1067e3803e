"""Invoices and bills: drafts, totals, posting to the ledger, credit notes and cancellation.

Every path (pages, API, demo data, other modules) goes through these functions, so the rules hold
everywhere: a draft needs a party and lines with sane figures, totals are rounded per line by the
tax area's ``compute_line``, and a posted invoice is never changed or deleted again — it is
corrected by a credit note.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from core import KontorError, NotFound, Party, current_company_id, gettext as _, hooks, utcnow

from plugins.accounting.currencies import services as fx
from plugins.accounting.invoicing import approvals
from plugins.accounting.currencies.models import Currency
from plugins.accounting.invoicing.models import (CUSTOMER_KINDS, KINDS, OPEN_STATES, REFUND_KINDS, Invoice,
                                                 InvoiceLine)
from plugins.accounting.ledger import roles, services as ledger
from plugins.accounting.ledger.models import Account, Entry, FiscalYear, Journal, Line
from plugins.accounting.tax import services as tax_services
from plugins.accounting.tax.models import Tax

ZERO = Decimal(0)
HUNDRED = Decimal(100)
#: The account role a line books to unless it says otherwise: sales (4000), purchases (5100).
DEFAULT_ACCOUNTS = {"out": roles.SALES, "in": roles.PURCHASES}
REFUND_OF = {"out_invoice": "out_refund", "in_invoice": "in_refund"}
MAX_LINES = 500


# -- Reading --


def get_invoice(db: Session, invoice_id: Any) -> Invoice:
    """The invoice with this id; :class:`NotFound` when there is none."""
    try:
        invoice = db.get(Invoice, int(invoice_id))
    except (TypeError, ValueError, OverflowError):
        invoice = None
    if invoice is None:
        raise NotFound(_("There is no such invoice."))
    return invoice


def company_currency(db: Session) -> str:
    """The company's base currency."""
    return fx.company_currency(db)


def default_account(db: Session, kind: str) -> Account:
    """The account a new line of a ``kind`` document books to (the sales or purchases role's)."""
    return roles.account_for(db, DEFAULT_ACCOUNTS[kind.split("_")[0]])


def default_terms(db: Session) -> int:
    """The payment terms a new document gets, in days."""
    return ledger.get_config(db).default_payment_terms_days


def taxes_for_scope(db: Session, scope: str) -> list[Tax]:
    """The active taxes a document of ``scope`` (sale or purchase) may use, by code."""
    return list(db.execute(select(Tax).where(Tax.scope == scope, Tax.active.is_(True)).order_by(Tax.code)).scalars())


def default_tax(db: Session, scope: str) -> Tax | None:
    """The tax a new line gets: the company country's standard rate (its highest ordinary one)."""
    country = tax_services.company_country(db)
    ordinary = [t for t in taxes_for_scope(db, scope) if not t.price_included and not t.reverse_charge
                and t.country in (country, "")]
    return max(ordinary, key=lambda t: (t.country == country, t.rate), default=None)


def postable_accounts(db: Session) -> list[Account]:
    """The accounts a line may book to, by code."""
    return list(db.execute(select(Account).where(Account.postable.is_(True), Account.active.is_(True))
                           .order_by(Account.code)).scalars())


def currencies(db: Session) -> list[str]:
    """The codes of the active currencies."""
    return list(db.execute(select(Currency.code).where(Currency.active.is_(True)).order_by(Currency.code)).scalars())


# -- Input --


@dataclass
class LineInput:
    """A line as entered, before it is validated."""

    description: str = ""
    quantity: Any = "1"
    unit_price: Any = "0"
    discount_percent: Any = "0"
    taxes: list[Any] = field(default_factory=list)
    account: Any = None


def _decimal(value: Any, field_name: str, *, places: int) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    text = str(value if value is not None else "").strip().replace(" ", "")
    if not text:
        raise KontorError(_("Enter a number."), field=field_name)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise KontorError(_("Enter a number such as 12.50."), field=field_name) from None
    if not number.is_finite():
        raise KontorError(_("Enter a number such as 12.50."), field=field_name)
    if abs(number) >= Decimal(10) ** 12 or number != number.quantize(Decimal(1).scaleb(-places)):
        raise KontorError(_("Use at most %(places)d decimals and fewer than 13 digits.", places=places),
                          field=field_name)
    return number


def _clean_line(db: Session, raw: LineInput | dict, index: int, scope: str, default: Account) -> dict:
    """One line validated: figures in range, taxes of the right scope, a postable account."""
    if isinstance(raw, dict):
        known = {k: raw[k] for k in ("description", "quantity", "unit_price", "discount_percent", "taxes", "account")
                 if k in raw}
        raw = LineInput(**known)
    at = f"lines[{index}]"
    description = str(raw.description or "").strip()
    if len(description) > 500:
        raise KontorError(_("A description has at most 500 characters."), field=f"{at}.description")
    quantity = _decimal(raw.quantity, f"{at}.quantity", places=4)
    if quantity <= 0:
        raise KontorError(_("The quantity must be more than zero."), field=f"{at}.quantity")
    price = _decimal(raw.unit_price, f"{at}.unit_price", places=4)
    if price < 0:
        raise KontorError(_("The unit price cannot be negative."), field=f"{at}.unit_price")
    discount = _decimal(raw.discount_percent if raw.discount_percent not in (None, "") else "0",
                        f"{at}.discount_percent", places=2)
    if not ZERO <= discount <= HUNDRED:
        raise KontorError(_("The discount is a percentage from 0 to 100."), field=f"{at}.discount_percent")
    return {"description": description, "quantity": quantity, "unit_price": price, "discount_percent": discount,
            "taxes": _clean_taxes(db, raw.taxes, f"{at}.taxes", scope),
            "account": _clean_account(db, raw.account, f"{at}.account", default)}


def _clean_taxes(db: Session, values: Any, field_name: str, scope: str) -> list[Tax]:
    if values in (None, ""):
        return []
    if isinstance(values, (str, int)):
        values = [values]
    if not isinstance(values, (list, tuple)):
        raise KontorError(_("Give the taxes as a list."), field=field_name)
    taxes: list[Tax] = []
    for value in values:
        if value in (None, ""):
            continue
        # a tax is named by its code, or by its id (an int, or digits that are no tax's code)
        found = None if isinstance(value, int) else \
            db.execute(select(Tax).where(Tax.code == str(value).strip(),
                                         Tax.company_id == current_company_id(db))).scalar_one_or_none()
        if found is None and str(value).strip().isdigit() and int(value) < 2**31:
            found = db.get(Tax, int(value))
        if found is None or not found.active or found.company_id != current_company_id(db):
            raise KontorError(_("There is no such tax: %(tax)s.", tax=value), field=field_name)
        if found.scope != scope:
            message = _("%(tax)s is a purchase tax; a sales document needs a sales tax.", tax=found.code) \
                if scope == "sale" else _("%(tax)s is a sales tax; a purchase document needs a purchase tax.",
                                          tax=found.code)
            raise KontorError(message, field=field_name)
        if found not in taxes:
            taxes.append(found)
    return taxes


def _clean_account(db: Session, value: Any, field_name: str, default: Account) -> Account:
    if value in (None, ""):
        return default
    # An account is named by its code; a bare int is its id (as the ledger's own lines use).
    if isinstance(value, Account):
        account = value
    elif isinstance(value, int) and not isinstance(value, bool):
        account = db.get(Account, value) if 0 < value < 2**31 else None
    else:
        account = db.execute(select(Account).where(Account.code == str(value).strip(),
                                                   Account.company_id == current_company_id(db))).scalar_one_or_none()
    if account is None or account.company_id not in (None, current_company_id(db)):  # never another company's
        raise KontorError(_("There is no such account."), field=field_name)
    if not account.postable or not account.active:
        raise KontorError(_("Account %(code)s does not take lines.", code=account.code), field=field_name)
    return account


def _clean_date(value: Any, field_name: str, default: date | None = None) -> date:
    if value in (None, ""):
        if default is None:
            raise KontorError(_("Enter a date."), field=field_name)
        return default
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise KontorError(_("Enter a date as YYYY-MM-DD."), field=field_name) from None


def _clean_header(db: Session, kind: str, data: dict, current: Invoice | None) -> dict:
    """The header fields of ``data`` validated, with defaults from ``current`` or the settings."""
    def pick(key, fallback=None):
        return data[key] if key in data else (getattr(current, key) if current is not None else fallback)

    party_id = pick("party_id")
    party = db.get(Party, int(party_id)) if str(party_id or "").isdigit() and int(party_id) < 2**31 else None
    if party is None:
        raise KontorError(_("Choose the customer.") if kind in CUSTOMER_KINDS else _("Choose the supplier."),
                          field="party_id")
    if not party.active and (current is None or current.party_id != party.id):
        raise KontorError(_("%(name)s is inactive.", name=party.name), field="party_id")
    invoice_date = _clean_date(pick("invoice_date"), "invoice_date", date.today())
    ledger.check_lock_date(db, invoice_date, field="invoice_date")
    terms_raw = pick("payment_terms_days", default_terms(db))
    try:
        terms = int(str(terms_raw).strip() or "0")
    except ValueError:
        raise KontorError(_("Enter a number of days."), field="payment_terms_days") from None
    if not 0 <= terms <= 3650:
        raise KontorError(_("Payment terms run from 0 to 3650 days."), field="payment_terms_days")
    # A due date entered by hand wins; otherwise it follows the invoice date and the terms.
    due_given = data.get("due_date") if "due_date" in data else None
    terms_changed = current is not None and ("payment_terms_days" in data or "invoice_date" in data)
    if due_given in (None, "") and (current is None or terms_changed):
        due_date = invoice_date + timedelta(days=terms)
    else:
        due_date = _clean_date(due_given if due_given not in (None, "") else current.due_date, "due_date")
    if due_date < invoice_date:
        raise KontorError(_("The due date cannot be before the invoice date."), field="due_date")
    base = company_currency(db)
    currency = str(pick("currency", "") or base).strip().upper()
    known = db.get(Currency, currency) if len(currency) == 3 else None
    if known is None or not known.active:
        raise KontorError(_("There is no such currency."), field="currency")
    rate = Decimal(1)
    if currency != base:
        try:
            rate = fx.rate_on(db, currency, invoice_date)
        except KontorError as exc:
            raise KontorError(exc.message, field="currency") from None
    reference = str(pick("reference", "") or "").strip()
    if len(reference) > 100:
        raise KontorError(_("A reference has at most 100 characters."), field="reference")
    notes = str(pick("notes", "") or "")
    if len(notes) > 5000:
        raise KontorError(_("Notes have at most 5000 characters."), field="notes")
    return {"party_id": party.id, "invoice_date": invoice_date, "payment_terms_days": terms, "due_date": due_date,
            "currency": currency, "rate": rate, "reference": reference, "notes": notes}


def clean_lines(db: Session, kind: str, lines: Iterable[Any]) -> list[dict]:
    """Validate entered lines for a ``kind`` document; the error names the line and the field."""
    if lines is None or isinstance(lines, (str, bytes, dict)):
        raise KontorError(_("Give the lines as a list."), field="lines")
    lines = list(lines)
    if not lines:
        raise KontorError(_("Add at least one line."), field="lines")
    if len(lines) > MAX_LINES:
        raise KontorError(_("A document has at most %(count)d lines.", count=MAX_LINES), field="lines")
    scope = "sale" if kind in CUSTOMER_KINDS else "purchase"
    default = default_account(db, kind)
    cleaned = []
    for index, raw in enumerate(lines):
        if not isinstance(raw, (dict, LineInput)):
            raise KontorError(_("Each line is an object."), field=f"lines[{index}]")
        cleaned.append(_clean_line(db, raw, index, scope, default))
    return cleaned


# -- Totals --


@dataclass
class Totals:
    """What a set of lines comes to: per line, per tax, and in all (in the document's currency)."""

    lines: list[Any]
    untaxed: Decimal
    tax: Decimal
    total: Decimal
    by_tax: list[tuple[Tax, Decimal, Decimal]]  # (tax, base, amount)


def compute_totals(db: Session, currency: str, lines: list[dict]) -> Totals:
    """The amounts of cleaned ``lines``, each rounded to the currency's minor unit by the tax area."""
    digits = fx.currency_digits(db, currency)
    amounts = [tax_services.compute_line(line["quantity"], line["unit_price"], line["discount_percent"],
                                         line["taxes"], digits) for line in lines]
    by_tax: OrderedDict[int, list] = OrderedDict()
    for result in amounts:
        for tax_amount in result.tax_lines:
            slot = by_tax.setdefault(tax_amount.tax.id, [tax_amount.tax, ZERO, ZERO])
            slot[1] += tax_amount.base
            slot[2] += tax_amount.amount
    untaxed = sum((a.net for a in amounts), ZERO)
    total = sum((a.total for a in amounts), ZERO)
    return Totals(amounts, untaxed, total - untaxed, total, [tuple(v) for v in by_tax.values()])


def preview(db: Session, kind: str, currency: str, raw_lines: list[Any]) -> tuple[Totals | None, dict]:
    """Totals of lines as entered so far (for live totals), with the first problem if any."""
    try:
        lines = clean_lines(db, kind, raw_lines)
        if db.get(Currency, currency) is None:
            currency = company_currency(db)
        return compute_totals(db, currency, lines), {}
    except KontorError as exc:
        return None, exc.as_errors()


def invoice_totals(db: Session, invoice: Invoice) -> Totals:
    """The totals of a saved invoice, with its tax summary (per tax: base and amount)."""
    lines = [{"quantity": line.quantity, "unit_price": line.unit_price, "discount_percent": line.discount_percent,
              "taxes": list(line.taxes)} for line in invoice.lines]
    return compute_totals(db, invoice.currency, lines)


def _store_lines(db: Session, invoice: Invoice, lines: list[dict]) -> None:
    totals = compute_totals(db, invoice.currency, lines)
    for old in list(invoice.lines):
        invoice.lines.remove(old)
    db.flush()
    for sequence, (line, amounts) in enumerate(zip(lines, totals.lines), start=1):
        invoice.lines.append(InvoiceLine(
            sequence=sequence, description=line["description"], quantity=line["quantity"],
            unit_price=line["unit_price"], discount_percent=line["discount_percent"], account=line["account"],
            taxes=list(line["taxes"]), amount_untaxed=amounts.net, amount_tax=amounts.total - amounts.net,
            amount_total=amounts.total))
    invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total = totals.untaxed, totals.tax, totals.total
    invoice.amount_residual = totals.total


# -- Drafts --


def create_invoice(db: Session, kind: str, data: dict, *, refund_of: Invoice | None = None) -> Invoice:
    """A new draft of ``kind`` from ``data`` (party_id, invoice_date, payment_terms_days, due_date,
    currency, reference, notes and ``lines``: dicts of description, quantity, unit_price,
    discount_percent, taxes (ids or codes), account (id or code))."""
    if kind not in KINDS:
        raise KontorError(_("Choose a kind of document."), field="kind")
    header = _clean_header(db, kind, data, None)
    lines = clean_lines(db, kind, data.get("lines"))
    invoice = Invoice(kind=kind, state="draft", refund_of=refund_of, **header)
    db.add(invoice)
    _store_lines(db, invoice, lines)
    db.flush()
    return invoice


def update_invoice(db: Session, invoice: Invoice, data: dict) -> Invoice:
    """Change a draft: the header fields given in ``data``, and its lines when ``lines`` is given. A
    bill whose approval was asked is asked again when a field the approval rules read changed."""
    _require_draft(invoice)
    header = _clean_header(db, invoice.kind, data, invoice)
    lines = clean_lines(db, invoice.kind, data["lines"]) if "lines" in data else None
    for key, value in header.items():
        setattr(invoice, key, value)
    if lines is None:
        lines = [{"description": line.description, "quantity": line.quantity, "unit_price": line.unit_price,
                  "discount_percent": line.discount_percent, "taxes": list(line.taxes), "account": line.account}
                 for line in invoice.lines]
    _store_lines(db, invoice, lines)
    db.flush()
    approvals.changed(db, invoice)
    return invoice


def delete_invoice(db: Session, invoice: Invoice) -> None:
    """Delete a draft; a numbered invoice is never deleted (issue a credit note instead)."""
    if invoice.number or not invoice.is_draft:
        raise KontorError(_("A posted invoice cannot be deleted; issue a credit note to cancel it."),
                          field="state", status=409)
    db.delete(invoice)
    db.flush()


def _require_draft(invoice: Invoice) -> None:
    if invoice.number or not invoice.is_draft:
        raise KontorError(_("%(number)s is posted and cannot be changed; issue a credit note to correct it.",
                            number=invoice.number or invoice.id), field="state", status=409)


# -- Posting --


def post_invoice(db: Session, invoice: Invoice, *, user_id: int | None = None) -> Invoice:
    """Post a draft: create and post its entry (SAL or PUR), number it, open its receivable.

    The entry debits the receivable (customer documents) or credits the payable (supplier
    documents) with the total, and books the net amounts per account and the tax per tax on the
    other side; a credit note books the same the other way round. On a foreign-currency invoice
    every line carries its amount in currency and the rate; what rounding leaves between the
    converted parts and the converted total goes to the rounding account. A supplier bill an
    approval rule applies to is posted only once approved (409 otherwise).
    """
    _require_draft(invoice)
    approvals.check_may_post(db, invoice)
    # Two requests posting the same draft at once: the second waits here, then sees the number.
    current = _lock(db, invoice)
    if current is not None and current.number:
        raise KontorError(_("%(number)s is posted already.", number=current.number), field="state", status=409)
    if not invoice.lines:
        raise KontorError(_("Add at least one line."), field="lines")
    ledger.check_lock_date(db, invoice.invoice_date, field="invoice_date")
    config = ledger.get_config(db)
    customer = invoice.is_customer
    journal_id = config.sales_journal_id if customer else config.purchase_journal_id
    journal = db.get(Journal, journal_id) if journal_id else ledger.journal_by_code(db, "SAL" if customer else "PUR")
    _check_date_order(db, invoice, journal)
    if invoice.currency != company_currency(db):
        # the rate of the invoice date as it stands now: the one the entry is booked at
        invoice.rate = fx.rate_on(db, invoice.currency, invoice.invoice_date)
    specs = _entry_lines(db, invoice, config)
    entry = ledger.create_entry(db, journal=journal, date=invoice.invoice_date, lines=specs,
                                reference=invoice.reference[:100], narration=_narration(db, invoice),
                                source=f"invoice:{invoice.id}")
    ledger.post_entry(db, entry, user_id=user_id)
    counterpart_account = roles.account_for(db, counterpart_role(db, invoice)).id
    invoice.entry = entry
    invoice.number = entry.number
    invoice.receivable_line = next(line for line in entry.lines if line.account_id == counterpart_account
                                   and line.due_date is not None)
    invoice.state = "posted"
    invoice.amount_residual = invoice.amount_total
    invoice.posted_at = utcnow()
    db.flush()
    hooks().accounting_invoice_posted(invoice=invoice, session=db)
    return invoice


def _check_date_order(db: Session, invoice: Invoice, journal: Journal) -> None:
    """Numbers follow dates: refuse a date before the latest numbered document of the journal and
    fiscal year (numbers are taken in posting order, so an earlier date would carry a later number)."""
    day = invoice.invoice_date
    latest = db.execute(
        select(Invoice.number, Invoice.invoice_date).join(Entry, Entry.id == Invoice.entry_id)
        .join(FiscalYear, FiscalYear.id == Entry.fiscal_year_id)
        .where(Entry.journal_id == journal.id, FiscalYear.start_date <= day, FiscalYear.end_date >= day,
               Invoice.invoice_date > day)
        .order_by(Invoice.invoice_date.desc(), Invoice.id.desc()).limit(1)).first()
    if latest is not None:
        raise KontorError(_("%(number)s of the same journal and year is dated %(date)s: numbers follow dates, so "
                            "date this one on or after it.", number=latest.number, date=latest.invoice_date.isoformat()),
                          field="invoice_date")


def _lock(db: Session, invoice: Invoice):
    """Lock the invoice's row (PostgreSQL; SQLite has one writer) and read its number and state as
    committed, so that concurrent posts, credits and cancellations of one invoice take turns."""
    if invoice.id is None:
        return None
    return db.execute(select(Invoice.number, Invoice.state).where(Invoice.id == invoice.id)
                      .with_for_update()).first()


def _narration(db: Session, invoice: Invoice) -> str:
    party = db.get(Party, invoice.party_id)
    return f"{party.name if party else ''}".strip()[:200]


def _entry_lines(db: Session, invoice: Invoice, config) -> list[dict]:
    """The lines of an invoice's entry as ``create_entry`` takes them."""
    # Signed amounts, debit positive: a customer invoice credits income and tax, a bill debits
    # expense and tax; credit notes the other way round.
    sign = Decimal(-1) if invoice.kind in ("out_invoice", "in_refund") else Decimal(1)
    totals = invoice_totals(db, invoice)
    parts: list[dict] = []
    groups: OrderedDict[tuple, dict] = OrderedDict()
    for line, amounts in zip(invoice.lines, totals.lines):
        tax_ids = tuple(tax.id for tax in line.taxes)
        group = groups.setdefault((line.account_id, tax_ids), {
            "account": line.account_id, "amount": ZERO, "description": line.description[:200],
            "tax_base_ids": list(tax_ids)})
        group["amount"] += amounts.net
    parts.extend(groups.values())
    for tax, _base, amount in totals.by_tax:
        if amount:
            parts.append({"account": _tax_account(tax, invoice.tax_scope), "amount": amount,
                          "description": tax.name[:200], "tax_id": tax.id})
    if invoice.tax_scope == "purchase":
        parts.extend(_reverse_charge_parts(totals))
    counterpart_account = roles.account_for(db, counterpart_role(db, invoice)).id
    if not invoice.amount_total:
        raise KontorError(_("An invoice of zero cannot be posted."), field="lines")
    foreign = invoice.currency != company_currency(db)
    specs = [_spec(db, invoice, part["account"], sign * part["amount"], part, foreign) for part in parts
             if part["amount"]]
    specs = [spec for spec in specs if spec["debit"] or spec["credit"]]
    total_spec = _spec(db, invoice, counterpart_account, -sign * invoice.amount_total,
                       {"description": invoice.reference or invoice_title(invoice), "due_date": invoice.due_date},
                       foreign)
    specs.append(total_spec)
    difference = sum((Decimal(s["debit"]) - Decimal(s["credit"]) for s in specs), ZERO)
    if difference:
        rounding = roles.account_for(db, roles.ROUNDING).id
        specs.append({"account": rounding, "debit": max(-difference, ZERO), "credit": max(difference, ZERO),
                      "party_id": invoice.party_id, "description": _("Rounding difference")})
    return specs


def counterpart_role(db: Session, invoice: Invoice):
    """The role of the account an invoice's total posts to: receivable or payable, the intercompany one
    for a document between companies of the group where the company has that account."""
    from plugins.accounting.invoicing import intercompany

    return intercompany.counterpart_role(db, invoice)


def _reverse_charge_parts(totals: Totals) -> list[dict]:
    """The tax due on a reverse-charge purchase, against the deduction booked as its tax line."""
    parts = []
    for tax, _base, amount in totals.by_tax:
        if tax.reverse_charge and amount and tax.collected_account_id:
            parts.append({"account": tax.collected_account_id, "amount": -amount, "description": tax.name[:200],
                          "tax_id": tax.id})
    return parts


def _tax_account(tax: Tax, scope: str) -> int:
    account = tax.collected_account_id if scope == "sale" else tax.paid_account_id
    account = account or tax.collected_account_id or tax.paid_account_id
    if account is None:
        raise KontorError(_("Tax %(code)s has no account to post to.", code=tax.code), field="lines")
    return account


def _spec(db: Session, invoice: Invoice, account: Any, amount: Decimal, extra: dict, foreign: bool) -> dict:
    """An entry line of a signed amount in invoice currency, converted to the company currency
    when the invoice is in a ``foreign`` currency."""
    spec = {"account": account, "party_id": invoice.party_id, "description": extra.get("description", ""),
            "tax_id": extra.get("tax_id"), "tax_base_ids": extra.get("tax_base_ids"),
            "due_date": extra.get("due_date")}
    company_amount = amount
    if foreign:
        converted, rate = fx.to_company(db, abs(amount), invoice.currency, invoice.invoice_date)
        company_amount = converted if amount >= 0 else -converted
        spec.update(currency=invoice.currency, amount_currency=amount, rate=rate)
    spec["debit"] = max(company_amount, ZERO)
    spec["credit"] = max(-company_amount, ZERO)
    return {key: value for key, value in spec.items() if value is not None}


def invoice_title(invoice: Invoice) -> str:
    """What the document is called: Invoice, Credit note, Bill, Supplier credit note."""
    return {"out_invoice": _("Invoice"), "out_refund": _("Credit note"), "in_invoice": _("Bill"),
            "in_refund": _("Supplier credit note")}[invoice.kind]


# -- Credit notes and cancellation --


def create_credit_note(db: Session, invoice: Invoice, *, lines: list[Any] | None = None,
                       date: date | None = None) -> Invoice:
    """A draft credit note correcting posted ``invoice``: all its lines, or the ``lines`` given
    (partial credit), dated ``date`` (default: today, or the invoice date if later)."""
    if invoice.kind not in REFUND_OF:
        raise KontorError(_("A credit note corrects an invoice or a bill, not another credit note."),
                          field="kind", status=409)
    current = _lock(db, invoice)
    if invoice.state not in ("posted", "partial", "paid") or current is None or \
            current.state not in ("posted", "partial", "paid"):
        raise KontorError(_("Only a posted invoice can be credited."), field="state", status=409)
    if lines is None:
        lines = [{"description": line.description, "quantity": line.quantity, "unit_price": line.unit_price,
                  "discount_percent": line.discount_percent, "taxes": [tax.id for tax in line.taxes],
                  "account": line.account_id} for line in invoice.lines]
    day = date or max(_today(), invoice.invoice_date)
    data = {"party_id": invoice.party_id, "invoice_date": day, "payment_terms_days": 0, "currency": invoice.currency,
            "reference": invoice.number or "", "notes": "", "lines": lines}
    note = create_invoice(db, REFUND_OF[invoice.kind], data, refund_of=invoice)
    if note.amount_total > credited_left(db, invoice):
        raise KontorError(_("The credit notes of %(number)s would exceed its total.", number=invoice.number),
                          field="lines", status=422)
    return note


def credited_left(db: Session, invoice: Invoice) -> Decimal:
    """How much of ``invoice`` is not yet credited by posted credit notes."""
    credited = db.execute(select(func.coalesce(func.sum(Invoice.amount_total), 0))
                          .where(Invoice.refund_of_id == invoice.id, Invoice.state != "draft")).scalar_one()
    return invoice.amount_total - Decimal(credited)


def cancel_invoice(db: Session, invoice: Invoice, *, user_id: int | None = None,
                   date: date | None = None) -> Invoice:
    """Cancel a posted, unpaid invoice by a full credit note, posted and reconciled against it.

    Returns the credit note. Without the banking area's reconciliation both stay open (the
    receivable nets to zero on the party, but the documents are not marked settled).
    """
    current = _lock(db, invoice)
    if invoice.state != "posted" or current is None or current.state != "posted" \
            or invoice.amount_residual != invoice.amount_total:
        raise KontorError(_("Only a posted invoice with no payment can be cancelled; credit it instead."),
                          field="state", status=409)
    note = create_credit_note(db, invoice, date=date)
    post_invoice(db, note, user_id=user_id)
    reconcile = _reconciler()
    if reconcile is not None:
        reconcile(db, [invoice.receivable_line, note.receivable_line], day=note.invoice_date, user_id=user_id)
        invoice.amount_residual = note.amount_residual = ZERO
        invoice.state, note.state = "cancelled", "paid"
        db.flush()
    return note


def _reconciler():
    """The banking area's service that reconciles ledger lines, when it is there."""
    try:
        from plugins.accounting.banking import services as banking
    except ImportError:
        return None
    return getattr(banking, "reconcile_lines", None)


def _today() -> date:
    return date.today()


# -- Lists --


def invoices_query(*, kinds: Iterable[str], q: str = "", state: str = "", party_id: int | None = None,
                   date_from: date | None = None, date_to: date | None = None, overdue: bool = False,
                   today: date | None = None) -> Select:
    """The documents of ``kinds`` matching a search (number, party, reference) and the filters."""
    stmt = select(Invoice).join(Party, Party.id == Invoice.party_id).where(Invoice.kind.in_(list(kinds)))
    if q:
        like = f"%{q.strip().casefold()}%"
        stmt = stmt.where(or_(func.lower(Invoice.number).like(like), Party.name_key.like(like),
                              func.lower(Invoice.reference).like(like)))
    if state == "open":
        stmt = stmt.where(Invoice.state.in_(OPEN_STATES))
    elif state:
        stmt = stmt.where(Invoice.state == state)
    if party_id:
        stmt = stmt.where(Invoice.party_id.in_(party_and_merged(party_id)))
    if date_from:
        stmt = stmt.where(Invoice.invoice_date >= date_from)
    if date_to:
        stmt = stmt.where(Invoice.invoice_date <= date_to)
    if overdue:
        stmt = stmt.where(Invoice.state.in_(OPEN_STATES), Invoice.due_date < (today or _today()))
    return stmt


SORT_KEYS = {"date": Invoice.invoice_date, "number": Invoice.number, "due": Invoice.due_date,
             "total": Invoice.amount_total, "residual": Invoice.amount_residual, "party": Party.name_key}


# -- The party's accounts --


@dataclass
class PartySummary:
    """A party's position: open documents, ledger balances and overdue amounts."""

    open_invoices: list[Invoice]
    open_bills: list[Invoice]
    receivable: Decimal
    payable: Decimal
    overdue: dict[str, Decimal]  # currency → residual past due
    open_count: int


def party_summary(db: Session, party_id: int, *, today: date | None = None, limit: int = 10) -> PartySummary:
    """The party's open documents, its receivable and payable balances and its overdue amounts."""
    today = today or _today()
    ids = merged_party_ids(db, party_id)
    open_docs = select(Invoice).where(Invoice.party_id.in_(ids), Invoice.state.in_(OPEN_STATES)) \
        .order_by(Invoice.due_date, Invoice.id)
    invoices = list(db.execute(open_docs.where(Invoice.kind.in_(CUSTOMER_KINDS)).limit(limit)).scalars())
    bills = list(db.execute(open_docs.where(Invoice.kind.notin_(CUSTOMER_KINDS)).limit(limit)).scalars())
    count = db.execute(select(func.count()).select_from(Invoice)
                       .where(Invoice.party_id.in_(ids), Invoice.state.in_(OPEN_STATES))).scalar_one()
    return PartySummary(invoices, bills, _balance(db, ids, "receivable"), -_balance(db, ids, "payable"),
                        _overdue(db, ids, today), count)


def party_and_merged(party_id: int) -> Select:
    """A SELECT of ``party_id`` and the parties merged into it, for ``IN`` (a merge points every earlier
    merged party at the survivor, so one level holds them all)."""
    return select(Party.id).where(or_(Party.id == party_id, Party.merged_into_id == party_id))


def merged_party_ids(db: Session, party_id: int) -> list[int]:
    """The party and every party merged into it: posted lines keep the party they were booked on."""
    ids, frontier = [party_id], [party_id]
    while frontier and len(ids) < 1000:
        frontier = list(db.execute(select(Party.id).where(Party.merged_into_id.in_(frontier))).scalars())
        frontier = [i for i in frontier if i not in ids]
        ids.extend(frontier)
    return ids


def _balance(db: Session, party_ids: list[int], kind: str) -> Decimal:
    """Σ debit − Σ credit of the parties' posted lines on accounts of ``kind``."""
    row = db.execute(select(func.sum(Line.debit), func.sum(Line.credit))
                     .join(Account, Account.id == Line.account_id)
                     .where(Line.party_id.in_(party_ids), Line.state == "posted", Account.kind == kind)).one()
    return (row[0] or ZERO) - (row[1] or ZERO)


def _overdue(db: Session, party_ids: list[int], today: date) -> dict[str, Decimal]:
    """Past-due residuals per currency; credit notes count against invoices."""
    signed = []
    for refund in (False, True):
        kinds = [k for k in KINDS if (k in REFUND_KINDS) == refund]
        rows = db.execute(select(Invoice.currency, func.sum(Invoice.amount_residual))
                          .where(Invoice.party_id.in_(party_ids), Invoice.state.in_(OPEN_STATES),
                                 Invoice.due_date < today, Invoice.kind.in_(kinds)
                                 ).group_by(Invoice.currency)).all()
        signed.extend((currency, -amount if refund else amount) for currency, amount in rows)
    totals: dict[str, Decimal] = {}
    for currency, amount in signed:
        totals[currency] = totals.get(currency, ZERO) + (amount or ZERO)
    return {currency: amount for currency, amount in sorted(totals.items()) if amount}


def repoint_party(db: Session, source_id: int, target_id: int) -> None:
    """Move the drafts of party ``source_id`` to ``target_id`` (when parties are merged).

    An issued document keeps the party it was issued to, as its posted lines do; the merged party's
    row stays, pointing at the party it went into (see :func:`merged_party_ids`).
    """
    db.execute(update(Invoice).where(Invoice.party_id == source_id, Invoice.number.is_(None))
               .values(party_id=target_id).execution_options(synchronize_session="fetch"))

