"""Supplier bills as an approvable kind: the fields an approval rule may read, and what approval unlocks.

An admin writes the rules (Administration → Approval rules), e.g. ``total > 10000`` approved by a
role. A bill a rule applies to cannot be posted until it is approved; editing a draft bill asks
again when a field the rules read changed (:func:`core.record_changed`).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from core import (Approvable, Conflict, RuleVariable, approval_state, gettext as _, has_permission,
                  lazy_gettext as _l, record_changed, request_approval, require_approval)

from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.ledger.models import Config, Journal
from plugins.accounting.permissions import INVOICE_READ, INVOICE_WRITE

KIND = "accounting.bill"
#: The kind of document that takes approval: a supplier bill (not a credit note, not a sale).
BILL = "in_invoice"

FIELDS = (
    RuleVariable("total", "number", _l("Total with tax, in the bill's currency"), Decimal("12500.00")),
    RuleVariable("untaxed", "number", _l("Net amount, in the bill's currency"), Decimal("10000.00")),
    RuleVariable("currency", "text", _l("Currency (ISO code such as EUR)"), "EUR"),
    RuleVariable("supplier", "text", _l("Supplier's name"), "Hanse Stahl GmbH"),
    RuleVariable("journal", "text", _l("Code of the journal it posts to"), "PUR"),
)


def journal_code(invoice: Invoice) -> str:
    """The code of the purchase journal the bill posts to: its company's configured one, else PUR."""
    db = object_session(invoice)
    config = db.scalar(select(Config).where(Config.company_id == invoice.company_id)) if db is not None else None
    journal = db.get(Journal, config.purchase_journal_id) if config is not None and config.purchase_journal_id else None
    return journal.code if journal is not None else "PUR"


def values(invoice: Invoice) -> dict[str, Any]:
    """The values of :data:`FIELDS` for ``invoice``."""
    return {"total": invoice.amount_total, "untaxed": invoice.amount_untaxed, "currency": invoice.currency,
            "supplier": invoice.party.name if invoice.party else "", "journal": journal_code(invoice)}


def describe(invoice: Invoice) -> str:
    """The bill as the inbox and the awaiting page name it: its number (or draft), supplier and reference."""
    name = invoice.number or _("Draft bill %(id)s", id=invoice.id)
    supplier = invoice.party.name if invoice.party else ""
    return " · ".join(part for part in (name, supplier, invoice.reference) if part)


APPROVABLE = Approvable(
    KIND, Invoice, _l("Supplier bill"), FIELDS, values, describe=describe,
    url=lambda invoice: f"/accounting/invoices/{invoice.id}", read_permission=INVOICE_READ,
    request_permission=INVOICE_WRITE, amount="total",
)


def takes_approval(invoice: Invoice) -> bool:
    """Whether ``invoice`` is a supplier bill (the one kind of document approval rules apply to)."""
    return invoice.kind == BILL


def check_may_post(db: Session, invoice: Invoice) -> None:
    """Refuse (409, naming what is needed) to post a bill an approval rule applies to until it is approved."""
    if takes_approval(invoice):
        require_approval(db, KIND, invoice, {
            "required": _("This bill needs approval before it can be posted: request approval first."),
            "pending": _("This bill is waiting for approval: it can be posted once it is approved."),
            "rejected": _("The approval of this bill was rejected: change it and request approval again."),
        })


def changed(db: Session, invoice: Invoice) -> None:
    """Tell the approval engine that a draft bill changed (a field the rules read asks again)."""
    if takes_approval(invoice) and invoice.is_draft:
        record_changed(db, KIND, invoice)


def may_request(db: Session, invoice: Invoice, user=None) -> bool:
    """Whether ``user`` (default: the acting user) may ask for approval of the draft bill now."""
    if not takes_approval(invoice) or not invoice.is_draft or not has_permission(INVOICE_WRITE, user=user):
        return False
    return approval_state(db, KIND, invoice) in ("required", "rejected")


def ask(db: Session, invoice: Invoice, note: str = ""):
    """Ask for approval of a draft bill as the acting user; 409 when it is no draft bill or no rule
    applies to it."""
    if not takes_approval(invoice) or not invoice.is_draft:
        raise Conflict(_("Only a draft supplier bill is asked for approval."))
    refusals = {
        "none": _("No approval rule applies to this bill: it needs no approval."),
        "pending": _("Approval of this bill is asked already: it is waiting for a decision."),
        "approved": _("This bill is approved already."),
    }
    state = approval_state(db, KIND, invoice)
    if state in refusals:
        raise Conflict(refusals[state])
    asked = request_approval(db, KIND, invoice, note=note)
    if asked is None:
        raise Conflict(refusals["none"])
    return asked
