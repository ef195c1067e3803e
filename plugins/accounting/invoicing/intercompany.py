"""Intercompany invoicing: a sale to a company of the group drafts its mirrored bill in that company.

A company of the group is linked to the party that stands for it (``core_company.party_id``).
When company A posts a customer invoice (or credit note) to the party of group company B, the
``accounting_invoice_posted`` hook drafts the mirrored supplier bill (or supplier credit note) in
B, in the same transaction:

- in B's books (``core.in_company(B)``): B's purchase journal when B posts it, B's purchase taxes,
  B's accounts (the intercompany expense role's account where B has one, else its purchases role's);
- A's party as the supplier, A's invoice number as the supplier's reference, the same currency,
  dates, due date and amounts; the bill's ``intercompany_source_id`` points at A's invoice (a unique
  key: posting twice, or a retried transaction, never drafts twice);
- the taxes mapped by rate and kind: B's ordinary purchase tax of the same rate; for a sale between
  two EU countries B's reverse-charge purchase tax (of goods when A's line carries a 0 % tax, of
  services when it carries none); where B has no such tax the line is left without tax. Every
  choice that is not a plain match is written in the bill's notes, for B's bookkeeper to check.

Who acts: the bill is drafted by the posting user (the audit log records them, with an
``invoice.intercompany_mirror`` event naming the source), as the system's act on behalf of the
group: it is drafted even when that user does not work in B, since a sale inside the group must
reach the buyer's books whoever posts it. Nothing of B is shown to that user by it; the bill stays a
draft until a bookkeeper of B posts it.

Intercompany documents post to accounts flagged ``intercompany`` where the company has them: the
receivable, payable, revenue and expense roles below (accounts 1250, 2150, 4500 and 5500, which
this area adds to each company's chart with its default data); a company without them posts to its
ordinary accounts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import (Company, KontorError, Panel, create_party, gettext as _, has_permission, hookimpl,
                  in_company, lazy_gettext as _l, list_companies, record_event)

from plugins.accounting.invoicing.models import CUSTOMER_KINDS, Invoice
from plugins.accounting.ledger import roles
from plugins.accounting.ledger.models import Account
from plugins.accounting.permissions import INVOICE_READ
from plugins.accounting.tax.models import Tax

RECEIVABLE = "accounting.intercompany_receivable"
PAYABLE = "accounting.intercompany_payable"
REVENUE = "accounting.intercompany_revenue"
EXPENSE = "accounting.intercompany_expense"

#: The intercompany roles, declared by this area's ``accounting_account_roles``.
ROLES = {
    RECEIVABLE: roles.AccountRole(RECEIVABLE, _l("Intercompany receivables (invoices to group companies)"),
                                  ("asset",), "1250"),
    PAYABLE: roles.AccountRole(PAYABLE, _l("Intercompany payables (bills from group companies)"),
                               ("liability",), "2150"),
    REVENUE: roles.AccountRole(REVENUE, _l("Intercompany revenue (sales to group companies)"), ("income",), "4500"),
    EXPENSE: roles.AccountRole(EXPENSE, _l("Intercompany expenses (purchases from group companies)"),
                               ("expense",), "5500"),
}

#: The accounts added to each company's chart: code, name, type, kind, parent code, role.
ACCOUNTS = (
    ("1250", _l("Intercompany receivables"), "asset", "receivable", "1", RECEIVABLE),
    ("2150", _l("Intercompany payables"), "liability", "payable", "2", PAYABLE),
    ("4500", _l("Intercompany sales"), "income", "other", "4", REVENUE),
    ("5500", _l("Intercompany purchases"), "expense", "other", "5", EXPENSE),
)

MIRROR_KIND = {"out_invoice": "in_invoice", "out_refund": "in_refund"}

#: Member states of the EU (ISO alpha-2; Greece also as its VAT prefix EL).
EU = frozenset("AT BE BG CY CZ DE DK EE EL ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())


# -- Hooks (registered by the invoicing area's plugin.py) --


@hookimpl(specname="accounting_account_roles")
def intercompany_account_roles():
    """The accounts intercompany documents post to: receivable, payable, revenue and expense."""
    return list(ROLES.values())


@hookimpl(specname="load_default_data")
def intercompany_default_accounts(session):
    """The intercompany accounts of the company's chart (1250, 2150, 4500, 5500), flagged intercompany."""
    add_default_accounts(session)


@hookimpl(specname="accounting_invoice_posted")
def mirror_posted_invoice(invoice, session):
    """A customer invoice or credit note to a company of the group drafts its mirrored bill there."""
    if invoice.kind in CUSTOMER_KINDS:
        mirror_invoice(session, invoice)


@hookimpl(specname="record_panels")
def intercompany_panel(kind, record, user):
    """On an intercompany invoice or bill: the mirrored document (a link when the user may see it)."""
    if kind != "accounting.invoice" or not isinstance(record, Invoice):
        return []
    if record.number is None and record.intercompany_source_id is None:
        return []  # a draft invoice has no bill yet
    from flask import current_app

    from core import session

    found = counterpart(session, record)
    if found is None:
        return []
    switch = "company.switch_company" in current_app.view_functions  # the header's company switcher
    return [Panel(_l("Intercompany"), INVOICE_READ, template="accounting/invoicing/_intercompany.html",
                  context={"link": found, "visible": may_see(session, user, found.company), "switch": switch},
                  inline=True, order=15)]


# -- The group's companies and their parties --


def company_of_party(db: Session, party_id: int | None) -> Company | None:
    """The active company of the group that ``party_id`` stands for, if any."""
    if party_id is None:
        return None
    return db.scalar(select(Company).where(Company.party_id == party_id, Company.active.is_(True)))


def party_of_company(db: Session, company: Company) -> int:
    """The party that stands for ``company``; made from its name and address when it has none yet."""
    if company.party_id is None:
        party = create_party(db, {"kind": "company", "name": company.legal_name, "street": company.street,
                                  "postal_code": company.postal_code, "city": company.city,
                                  "country": company.country or None})
        company.party_id = party.id
        db.flush()
    return company.party_id


def is_intercompany(db: Session, invoice: Invoice) -> bool:
    """Whether ``invoice`` is to or from another company of the group."""
    other = company_of_party(db, invoice.party_id)
    return other is not None and other.id != invoice.company_id


# -- The accounts --


def add_default_accounts(db: Session) -> None:
    """Add the intercompany accounts to the current company's chart where their codes are free."""
    taken = set(db.scalars(select(Account.code)))
    if not taken:
        return  # no chart (the company imports its own): the roles stay unmapped
    from plugins.accounting.ledger import chart

    for code, name, type_, kind, parent, _role in ACCOUNTS:
        if code in taken:
            continue
        data = {"code": code, "name": str(name), "type": type_, "kind": kind}
        if parent in taken:
            data["parent"] = parent
        account = chart.create_account(db, data)
        account.intercompany = True
    db.flush()


def role_account(db: Session, key: str) -> Account | None:
    """The account of intercompany role ``key`` in the current company, or None when it has none
    (the document then posts to the ordinary account)."""
    return roles.find_account_for(db, ROLES[key])


def counterpart_role(db: Session, invoice: Invoice) -> roles.AccountRole | str:
    """The role of the receivable (customer documents) or payable an invoice posts its total to:
    the intercompany one for a document between group companies where the company has its account."""
    ordinary = roles.RECEIVABLE if invoice.is_customer else roles.PAYABLE
    if not is_intercompany(db, invoice):
        return ordinary
    role = ROLES[RECEIVABLE if invoice.is_customer else PAYABLE]
    return role if roles.find_account_for(db, role) is not None else ordinary


# -- The taxes --


@dataclass
class TaxChoice:
    """The purchase taxes of B for a line of A, and what to tell B's bookkeeper about the choice."""

    taxes: list[Tax]
    note: str = ""


def _purchase_taxes(db: Session) -> list[Tax]:
    return list(db.scalars(select(Tax).where(Tax.scope == "purchase", Tax.active.is_(True)).order_by(Tax.code)))


def _reverse_charge(taxes: list[Tax], country: str, services: bool) -> Tax | None:
    """B's reverse-charge purchase tax of goods or services (by the default tables' codes: ``PRCS`` for
    services), at its highest rate; any reverse-charge tax when none of that kind."""
    charged = [t for t in taxes if t.reverse_charge and t.country in (country, "")]
    fitting = [t for t in charged if ("PRCS" in t.code.upper()) == services] or charged
    return max(fitting, key=lambda t: (t.country == country, t.rate), default=None)


def map_taxes(db: Session, line_taxes: list[Tax], seller: Company, buyer: Company) -> TaxChoice:
    """B's purchase taxes for a line A sold with ``line_taxes``; run in B's scope."""
    available = _purchase_taxes(db)
    country = (buyer.country or "").upper()
    cross_border_eu = (seller.country or "").upper() != country and (seller.country or "").upper() in EU \
        and country in EU
    if cross_border_eu and all(t.rate == 0 for t in line_taxes):
        services = not line_taxes
        tax = _reverse_charge(available, country, services)
        if tax is None:
            return TaxChoice([], _("An EU purchase from %(seller)s: %(buyer)s has no reverse-charge tax, so the "
                                   "line has none.", seller=seller.legal_name, buyer=buyer.legal_name))
        return TaxChoice([tax], _("An EU purchase of %(what)s from %(seller)s: reverse charge %(tax)s.",
                                  what=_("services") if services else _("goods"), seller=seller.legal_name,
                                  tax=tax.code))
    chosen, notes = [], []
    for source in line_taxes:
        same = [t for t in available if t.rate == source.rate and not t.reverse_charge and not t.price_included
                and t.country in (country, "")]
        if source.rate == 0 and not same:
            continue  # an export or exempt sale: nothing to deduct
        if cross_border_eu or not same:
            notes.append(_("%(tax)s (%(rate)s %%) of %(seller)s has no purchase tax of the same rate here: the line "
                           "has none; check whether the tax can be reclaimed.", tax=source.code,
                           rate=source.rate.normalize(), seller=seller.legal_name))
            continue
        best = max(same, key=lambda t: t.country == country)
        if best not in chosen:
            chosen.append(best)
    return TaxChoice(chosen, " ".join(notes))


# -- The mirrored bill --


def mirrored_bill(db: Session, invoice: Invoice, buyer: Company) -> Invoice | None:
    """The bill in ``buyer`` that mirrors ``invoice``, if drafted."""
    with in_company(buyer.id):
        return db.scalar(select(Invoice).where(Invoice.intercompany_source_id == invoice.id))


def mirror_invoice(db: Session, invoice: Invoice) -> Invoice | None:
    """Draft in group company B the supplier bill (or credit note) mirroring posted ``invoice`` of A
    to B's party; None when ``invoice`` is not to another company of the group. Returns the existing
    bill when one was drafted already."""
    buyer = company_of_party(db, invoice.party_id)
    if buyer is None or buyer.id == invoice.company_id:
        return None
    seller = db.get(Company, invoice.company_id)
    existing = mirrored_bill(db, invoice, buyer)
    if existing is not None:
        return existing
    supplier_id = party_of_company(db, seller)
    db.flush()  # what A's posting wrote is flushed in A's scope before working in B's
    lines = list(invoice.lines)
    with in_company(buyer.id):
        bill = _draft_in_buyer(db, invoice, lines, seller, buyer, supplier_id)
        db.flush()
    record_event(db, "invoice.intercompany_mirror", module="accounting", table_name=Invoice.__tablename__,
                 record_id=bill.id, changes={
                     "source": [None, f"{seller.legal_name} {invoice.number}"],
                     "company": [None, buyer.legal_name],
                     "on_behalf_of": [None, "group"]})
    return bill


def _draft_in_buyer(db: Session, invoice: Invoice, lines: list, seller: Company, buyer: Company,
                    supplier_id: int) -> Invoice:
    from plugins.accounting.invoicing import services
    from plugins.accounting.ledger import services as ledger

    notes = [_("Drafted from %(number)s of %(seller)s when it was posted.", number=invoice.number,
               seller=seller.legal_name)]
    expense = role_account(db, EXPENSE)
    mirrored_lines = []
    for line in lines:
        choice = map_taxes(db, list(line.taxes), seller, buyer)
        if choice.note and choice.note not in notes:
            notes.append(choice.note)
        if any(t.price_included for t in line.taxes):
            # the price held A's tax: B's line carries the net amount, B's tax added on top
            quantity, price, discount = Decimal(1), line.amount_untaxed, Decimal(0)
        else:
            quantity, price, discount = line.quantity, line.unit_price, line.discount_percent
        mirrored_lines.append({"description": line.description, "quantity": quantity, "unit_price": price,
                               "discount_percent": discount, "taxes": [t.id for t in choice.taxes],
                               "account": expense.id if expense is not None else None})
    day = invoice.invoice_date
    lock = ledger.lock_date(db)
    if lock is not None and day <= lock:
        day = lock + timedelta(days=1)
        notes.append(_("%(buyer)s's books are locked up to %(lock)s: dated %(day)s instead of %(date)s.",
                       buyer=buyer.legal_name, lock=lock.isoformat(), day=day.isoformat(),
                       date=invoice.invoice_date.isoformat()))
    due = max(invoice.due_date, day)
    refund_of = None
    if invoice.refund_of_id is not None:
        refund_of = db.scalar(select(Invoice).where(Invoice.intercompany_source_id == invoice.refund_of_id))
    data = {"party_id": supplier_id, "invoice_date": day, "due_date": due,
            "payment_terms_days": max(0, min((due - day).days, 3650)), "currency": invoice.currency,
            "reference": (invoice.number or "")[:100], "notes": "\n".join(notes)[:5000], "lines": mirrored_lines}
    try:
        bill = services.create_invoice(db, MIRROR_KIND[invoice.kind], data, refund_of=refund_of)
    except KontorError as exc:
        raise KontorError(_("The mirrored bill cannot be drafted in %(buyer)s: %(reason)s",
                            buyer=buyer.legal_name, reason=exc.message), field=exc.field, status=exc.status) from None
    if bill.amount_total != invoice.amount_total:
        bill.notes = (bill.notes + "\n" + _("Its total %(total)s differs from the invoice's %(source)s (taxes "
                                           "of another rate or kind): check it.", total=bill.amount_total,
                                           source=invoice.amount_total))[:5000]
    bill.intercompany_source_id = invoice.id
    return bill


# -- The link on the documents' pages --


@dataclass
class Counterpart:
    """The other side of an intercompany document: its company, and the document when there is one."""

    company: Company
    invoice_id: int | None
    number: str | None
    kind: str
    direction: str  # "mirrored_in" (this invoice's bill) or "mirrors" (this bill's invoice)


def counterpart(db: Session, invoice: Invoice) -> Counterpart | None:
    """The mirrored bill of a posted intercompany invoice, or the invoice a mirrored bill comes from."""
    if invoice.intercompany_source_id is not None:
        seller = company_of_party(db, invoice.party_id)
        if seller is None:
            return None
        with in_company(seller.id):
            row = db.execute(select(Invoice.id, Invoice.number, Invoice.kind)
                             .where(Invoice.id == invoice.intercompany_source_id)).first()
        return Counterpart(seller, row.id if row else None, row.number if row else None,
                           row.kind if row else "out_invoice", "mirrors")
    if invoice.kind not in CUSTOMER_KINDS:
        return None
    buyer = company_of_party(db, invoice.party_id)
    if buyer is None or buyer.id == invoice.company_id:
        return None
    with in_company(buyer.id):
        row = db.execute(select(Invoice.id, Invoice.number, Invoice.kind)
                         .where(Invoice.intercompany_source_id == invoice.id)).first()
    if row is None:
        return None
    return Counterpart(buyer, row.id, row.number, row.kind, "mirrored_in")


def may_see(db: Session, user, company: Company) -> bool:
    """Whether ``user`` works in ``company`` and may read invoices there."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if company.id not in {c.id for c in list_companies(db, user=user)}:
        return False
    with in_company(company.id):
        return has_permission(INVOICE_READ, user)
