"""Banking's tables: payments and their allocations, reconciliations, bank statements.

Reconciliation lives in its own tables: a posted ledger line is never updated, its open amount is
its amount less what reconciliation lines took from it.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import Base, CompanyScoped, Money, UTCDateTime, lazy_gettext as _l, utcnow

from plugins.accounting.ledger.guards import guard_issued
from plugins.accounting.ledger.models import CurrencyAmount, Rate

PAYMENT_KINDS = ("inbound", "outbound")
PAYMENT_KIND_LABELS = {"inbound": _l("Received"), "outbound": _l("Paid")}
PAYMENT_STATES = ("posted", "cancelled")
LINE_STATES = ("unmatched", "matched")
STATEMENT_FORMATS = ("csv", "camt053")


class Payment(CompanyScoped, Base):
    """Money received from or paid to a party, posted as one entry of a bank or cash journal.

    ``amount`` is in ``currency`` and positive; ``kind`` says the direction. ``number`` is the
    number of the posted entry.
    """

    __tablename__ = "accounting_payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("kind IN ('inbound', 'outbound')", name="kind"),
        Index("ix_accounting_payment_date_id", "date", "id"),
        UniqueConstraint("company_id", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40))  # unique per company
    party_id: Mapped[int] = mapped_column(ForeignKey("core_party.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # PAYMENT_KINDS
    date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal(1))
    amount_company: Mapped[Decimal] = mapped_column(Money())
    journal_id: Mapped[int] = mapped_column(ForeignKey("accounting_journal.id"))
    reference: Mapped[str] = mapped_column(String(140), default="")
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entry.id"), unique=True)
    state: Mapped[str] = mapped_column(String(10), default="posted")  # PAYMENT_STATES
    writeoff_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_account.id"))
    writeoff_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))  # in ``currency``
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))

    party = relationship("Party", lazy="joined")
    journal = relationship("Journal", lazy="joined")
    entry = relationship("Entry")
    allocations: Mapped[list[PaymentAllocation]] = relationship(back_populates="payment", order_by="PaymentAllocation.id",
                                                                cascade="all, delete-orphan")

    @property
    def allocated(self) -> Decimal:
        """What the payment settles of invoices, in its currency."""
        return sum((a.amount for a in self.allocations), Decimal("0.00"))

    @property
    def unallocated(self) -> Decimal:
        """What is left as an open credit (over-payment) when the payment was registered."""
        return self.amount - self.allocated


class PaymentAllocation(Base):
    """The part of a payment that settles one invoice or bill, in the payment's currency."""

    __tablename__ = "accounting_payment_allocation"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("accounting_payment.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("accounting_invoice.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    writeoff: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    invoice = relationship("Invoice", lazy="joined")


class Reconciliation(CompanyScoped, Base):
    """A matching of debit and credit receivable/payable lines: its lines' amounts balance."""

    __tablename__ = "accounting_reconciliation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_payment.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))

    lines: Mapped[list[ReconciliationLine]] = relationship(back_populates="reconciliation",
                                                           order_by="ReconciliationLine.id",
                                                           cascade="all, delete-orphan")


class ReconciliationLine(Base):
    """How much of a ledger line a reconciliation took: ``amount`` in the company currency,
    ``amount_currency`` in the line's currency (when it has one); both positive."""

    __tablename__ = "accounting_reconciliation_line"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("amount_currency IS NULL OR amount_currency >= 0", name="amount_currency_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("accounting_reconciliation.id", ondelete="CASCADE"),
                                                   index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("accounting_line.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    amount_currency: Mapped[Decimal | None] = mapped_column(CurrencyAmount)

    reconciliation: Mapped[Reconciliation] = relationship(back_populates="lines")
    line = relationship("Line")


class Statement(CompanyScoped, Base):
    """A bank statement imported from a file (CSV or camt.053), booked through a bank journal."""

    __tablename__ = "accounting_statement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    journal_id: Mapped[int] = mapped_column(ForeignKey("accounting_journal.id"))
    currency: Mapped[str] = mapped_column(String(3))
    date: Mapped[date] = mapped_column(Date)
    account_number: Mapped[str] = mapped_column(String(60), default="")
    opening_balance: Mapped[Decimal | None] = mapped_column(Money())
    closing_balance: Mapped[Decimal | None] = mapped_column(Money())
    format: Mapped[str] = mapped_column(String(10))  # STATEMENT_FORMATS
    filename: Mapped[str] = mapped_column(String(200), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))

    journal = relationship("Journal", lazy="joined")
    lines: Mapped[list[StatementLine]] = relationship(back_populates="statement", order_by="StatementLine.sequence",
                                                      cascade="all, delete-orphan")

    @property
    def total(self) -> Decimal:
        """The sum of the statement's lines (money in positive)."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def balance_difference(self) -> Decimal | None:
        """Closing − opening − Σ lines: zero when the file is complete; None without balances."""
        if self.opening_balance is None or self.closing_balance is None:
            return None
        return self.closing_balance - self.opening_balance - self.total

    @property
    def line_count(self) -> int:
        """How many lines the statement has."""
        return len(self.lines)

    @property
    def unmatched_count(self) -> int:
        """How many lines still wait for a match."""
        return sum(1 for line in self.lines if line.state == "unmatched")


class StatementLine(Base):
    """A movement on the bank account: ``amount`` positive for money in, negative for money out."""

    __tablename__ = "accounting_statement_line"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("state IN ('unmatched', 'matched')", name="state"),
        Index("ix_accounting_statement_line_state_date", "state", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("accounting_statement.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    description: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(140), default="")
    counterparty: Mapped[str] = mapped_column(String(200), default="")
    counterparty_account: Mapped[str] = mapped_column(String(60), default="")
    balance: Mapped[Decimal | None] = mapped_column(Money())
    state: Mapped[str] = mapped_column(String(10), default="unmatched")  # LINE_STATES
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_payment.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entry.id"))

    statement: Mapped[Statement] = relationship(back_populates="lines")
    payment: Mapped[Payment | None] = relationship()


def _payment_state_allowed(before: str | None, after: str) -> bool:
    return after in PAYMENT_STATES and not (before == "cancelled" and after != "cancelled")


# An issued payment is only ever cancelled (accounting_0004 holds the same rule in the database).
guard_issued(Payment, mutable={"state"}, state_allowed=_payment_state_allowed,
             changed=_l("An issued payment is never changed: cancel it."),
             deleted=_l("An issued payment is never deleted: cancel it."))
