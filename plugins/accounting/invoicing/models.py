"""Customer invoices, supplier bills and their credit notes, with their lines.

An invoice is a draft (editable, deletable) until posted: then it carries the number of its
journal entry and can no longer be changed or deleted (database triggers refuse it); only its
payment state (``amount_residual``, ``state``) moves on as payments are reconciled against it.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import Base, CompanyScoped, Money, Party, UTCDateTime, lazy_gettext as _l, utcnow

from plugins.accounting.ledger.guards import guard_issued
from plugins.accounting.ledger.models import Account, Entry, Line, Rate
from plugins.accounting.tax.models import Tax

KINDS = ("out_invoice", "out_refund", "in_invoice", "in_refund")
CUSTOMER_KINDS = ("out_invoice", "out_refund")
SUPPLIER_KINDS = ("in_invoice", "in_refund")
REFUND_KINDS = ("out_refund", "in_refund")
STATES = ("draft", "posted", "partial", "paid", "cancelled")
OPEN_STATES = ("posted", "partial")
KIND_LABELS = {"out_invoice": _l("Invoice"), "out_refund": _l("Credit note"), "in_invoice": _l("Bill"),
               "in_refund": _l("Supplier credit note")}
STATE_LABELS = {"draft": _l("Draft"), "posted": _l("Open"), "partial": _l("Partly paid"), "paid": _l("Paid"),
                "cancelled": _l("Cancelled")}

invoice_line_taxes = Table(
    "accounting_invoice_line_tax",
    Base.metadata,
    Column("line_id", ForeignKey("accounting_invoice_line.id", ondelete="CASCADE"), primary_key=True),
    Column("tax_id", ForeignKey("accounting_tax.id"), primary_key=True, index=True),
)


class Invoice(CompanyScoped, Base):
    """A customer invoice or credit note (``out_*``) or a supplier bill or credit note (``in_*``).

    Amounts are in the invoice's ``currency``; ``rate`` converts them to the company currency
    (the rate on the invoice date, stored when the invoice is saved).
    """

    __tablename__ = "accounting_invoice"
    __table_args__ = (
        Index("ix_accounting_invoice_kind_state_date", "kind", "state", "invoice_date", "id"),
        Index("ix_accounting_invoice_party_state", "party_id", "state"),
        Index("ix_accounting_invoice_due_date", "due_date", "id"),
        UniqueConstraint("company_id", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # KINDS
    number: Mapped[str | None] = mapped_column(String(40))  # unique per company
    party_id: Mapped[int] = mapped_column(ForeignKey("core_party.id"))
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=14)
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal(1))
    state: Mapped[str] = mapped_column(String(10), default="draft")  # STATES
    amount_untaxed: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    amount_tax: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    amount_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    amount_residual: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_invoice.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entry.id"), unique=True)
    receivable_line_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_line.id"))
    reference: Mapped[str] = mapped_column(String(100), default="")  # the customer's order or the supplier's number
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the invoice of another group company that this bill mirrors (intercompany invoicing)
    intercompany_source_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_invoice.id"), unique=True)

    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice", order_by="InvoiceLine.sequence",
                                                    cascade="all, delete-orphan")
    party: Mapped[Party] = relationship()
    entry: Mapped[Entry | None] = relationship(foreign_keys=[entry_id])
    receivable_line: Mapped[Line | None] = relationship(foreign_keys=[receivable_line_id])
    refund_of: Mapped[Invoice | None] = relationship(remote_side="Invoice.id", foreign_keys=[refund_of_id])

    @property
    def is_customer(self) -> bool:
        """Whether this is a customer document (invoice or credit note)."""
        return self.kind in CUSTOMER_KINDS

    @property
    def is_refund(self) -> bool:
        """Whether this is a credit note."""
        return self.kind in REFUND_KINDS

    @property
    def is_draft(self) -> bool:
        """Whether it can still be changed (it has no number yet)."""
        return self.state == "draft"

    @property
    def tax_scope(self) -> str:
        """The scope of the taxes its lines may carry: sale or purchase."""
        return "sale" if self.is_customer else "purchase"


class InvoiceLine(Base):
    """A line of an invoice: quantity × unit price less the discount, its taxes and its account."""

    __tablename__ = "accounting_invoice_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("accounting_invoice.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(500), default="")
    quantity: Mapped[Decimal] = mapped_column(Money(scale=4), default=Decimal(1))
    unit_price: Mapped[Decimal] = mapped_column(Money(scale=4), default=Decimal(0))
    discount_percent: Mapped[Decimal] = mapped_column(Money(scale=2, precision=5), default=Decimal(0))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_account.id"))
    amount_untaxed: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    amount_tax: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    amount_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    account: Mapped[Account] = relationship()
    taxes: Mapped[list[Tax]] = relationship(secondary=invoice_line_taxes, lazy="selectin", order_by=Tax.code)


# An issued document moves only with its payments (accounting_0004 holds the same rule in the database).
guard_issued(Invoice, mutable={"state", "amount_residual"}, state_allowed=lambda _before, after: after != "draft",
             changed=_l("An issued invoice is never changed: issue a credit note."),
             deleted=_l("An issued invoice is never deleted: issue a credit note."))
