"""The ledger's tables: accounts, fiscal years and periods, journals, entries and their lines.

Posted entries and their lines are immutable (database triggers refuse UPDATE and DELETE); a
correction is a reversing entry. Lines repeat their entry's date, journal and state so that
reports aggregate one table with one index, never joining entries.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import Base, CompanyScoped, Money, UTCDateTime, lazy_gettext as _l, utcnow

ACCOUNT_TYPES = ("asset", "liability", "equity", "income", "expense")
ACCOUNT_TYPE_LABELS = {"asset": _l("Asset"), "liability": _l("Liability"), "equity": _l("Equity"),
                       "income": _l("Income"), "expense": _l("Expense")}
ACCOUNT_KINDS = ("receivable", "payable", "bank", "cash", "tax", "other")
ACCOUNT_KIND_LABELS = {"receivable": _l("Receivable"), "payable": _l("Payable"), "bank": _l("Bank"),
                       "cash": _l("Cash"), "tax": _l("Tax"), "other": _l("Other")}
JOURNAL_TYPES = ("sales", "purchase", "bank", "cash", "general")
JOURNAL_TYPE_LABELS = {"sales": _l("Sales"), "purchase": _l("Purchase"), "bank": _l("Bank"), "cash": _l("Cash"),
                       "general": _l("General")}
DRAFT, POSTED = "draft", "posted"
ENTRY_STATE_LABELS = {DRAFT: _l("Draft"), POSTED: _l("Posted")}

#: Exchange rates and amounts in foreign currency carry more decimals than company money.
Rate = Money(scale=8, precision=20)
CurrencyAmount = Money(scale=3, precision=18)


class Account(CompanyScoped, Base):
    """An account of the chart; balances roll up the ``parent`` tree. Only ``postable`` accounts take lines."""

    __tablename__ = "accounting_account"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))  # ACCOUNT_TYPES
    kind: Mapped[str] = mapped_column(String(20), default="other")  # ACCOUNT_KINDS
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_account.id"), index=True)
    postable: Mapped[bool] = mapped_column(Boolean, default=True)
    reconcilable: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    currency: Mapped[str | None] = mapped_column(String(3))  # a bank account kept in a foreign currency
    #: an account between group companies: eliminated in consolidated reports
    intercompany: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    parent: Mapped[Account | None] = relationship(remote_side="Account.id")


class FiscalYear(CompanyScoped, Base):
    """A fiscal year with its monthly periods; ``closed`` once the year-end close has run."""

    __tablename__ = "accounting_fiscal_year"
    __table_args__ = (UniqueConstraint("company_id", "name"), UniqueConstraint("company_id", "start_date"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    closing_entry_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entry.id", use_alter=True))

    periods: Mapped[list[Period]] = relationship(back_populates="fiscal_year", order_by="Period.start_date")


class Period(CompanyScoped, Base):
    """A month of a fiscal year; nothing is posted into a closed period."""

    __tablename__ = "accounting_period"
    __table_args__ = (UniqueConstraint("fiscal_year_id", "start_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fiscal_year_id: Mapped[int] = mapped_column(ForeignKey("accounting_fiscal_year.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | closed

    fiscal_year: Mapped[FiscalYear] = relationship(back_populates="periods")


class Journal(CompanyScoped, Base):
    """A book of entries (sales, purchase, bank, cash, general) with its own numbering and hash chain.

    ``last_hash`` is the head of the journal's chain: the hash of its newest posted entry.
    """

    __tablename__ = "accounting_journal"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))  # JOURNAL_TYPES
    default_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_account.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_hash: Mapped[str] = mapped_column(String(64), default="")


class JournalSequence(Base):
    """The next number of a journal in a fiscal year: taken inside the posting transaction, so gapless."""

    __tablename__ = "accounting_journal_sequence"
    __audited__ = False  # a counter; the entries it numbers are audited

    journal_id: Mapped[int] = mapped_column(ForeignKey("accounting_journal.id"), primary_key=True)
    fiscal_year_id: Mapped[int] = mapped_column(ForeignKey("accounting_fiscal_year.id"), primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)


class Entry(CompanyScoped, Base):
    """A journal entry: a draft (editable, may be unbalanced) until posted (numbered, hashed, immutable)."""

    __tablename__ = "accounting_entry"
    __table_args__ = (
        UniqueConstraint("journal_id", "fiscal_year_id", "sequence"),
        UniqueConstraint("company_id", "number"),
        Index("ix_accounting_entry_journal_state_date", "journal_id", "state", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("accounting_journal.id"))
    date: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100), default="")
    narration: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default=DRAFT)  # draft | posted
    fiscal_year_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_fiscal_year.id"))
    sequence: Mapped[int | None] = mapped_column(Integer)  # 1, 2, 3 … per journal and fiscal year
    number: Mapped[str | None] = mapped_column(String(40))  # e.g. "SAL/2026/00042", unique per company
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    reversal_of_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entry.id"), unique=True)
    source: Mapped[str] = mapped_column(String(60), default="")  # e.g. "invoice:12", "payroll:2026-10"
    previous_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    journal: Mapped[Journal] = relationship()
    lines: Mapped[list[Line]] = relationship(back_populates="entry", order_by="Line.id",
                                             cascade="all, delete-orphan")


class Line(CompanyScoped, Base):
    """A line of an entry: a debit or a credit in the company currency on one account.

    ``amount_currency`` (signed: positive on the debit side) and ``currency`` record a foreign
    currency amount; ``debit``/``credit`` are its value in the company currency. ``date``,
    ``journal_id``, ``state`` and ``company_id`` repeat the entry's, for reports.
    """

    __tablename__ = "accounting_line"
    __table_args__ = (
        Index("ix_accounting_line_account_state_date", "account_id", "state", "date", "id"),
        Index("ix_accounting_line_party_account", "party_id", "account_id"),
        Index("ix_accounting_line_company_state_date", "company_id", "state", "date"),
        Index("ix_accounting_line_company_account", "company_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("accounting_entry.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_account.id"))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"))
    description: Mapped[str] = mapped_column(String(200), default="")
    debit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    credit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    currency: Mapped[str | None] = mapped_column(String(3))
    amount_currency: Mapped[Decimal | None] = mapped_column(CurrencyAmount)
    rate: Mapped[Decimal | None] = mapped_column(Rate)
    tax_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_tax.id"))  # the tax this line is the amount of
    tax_base_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_tax.id"))  # the first tax this line is the base of
    due_date: Mapped[date | None] = mapped_column(Date)
    date: Mapped[date] = mapped_column(Date)
    journal_id: Mapped[int] = mapped_column(ForeignKey("accounting_journal.id"))
    state: Mapped[str] = mapped_column(String(10), default=DRAFT)

    entry: Mapped[Entry] = relationship(back_populates="lines")
    account: Mapped[Account] = relationship()
    tax_bases: Mapped[list[LineTaxBase]] = relationship(order_by="LineTaxBase.tax_id", cascade="all, delete-orphan",
                                                        passive_deletes=True)

    @property
    def tax_base_ids(self) -> list[int]:
        """Every tax this line is the base of (``tax_base_id`` is the first of them)."""
        return [base.tax_id for base in self.tax_bases]


class LineTaxBase(Base):
    """A tax whose base a line is part of: a line taxed twice (VAT and an excise, say) is the base
    of both. Immutable once its line is posted, like the line (database triggers)."""

    __tablename__ = "accounting_line_tax_base"

    line_id: Mapped[int] = mapped_column(ForeignKey("accounting_line.id", ondelete="CASCADE"), primary_key=True)
    tax_id: Mapped[int] = mapped_column(ForeignKey("accounting_tax.id"), primary_key=True, index=True)


class Config(CompanyScoped, Base):
    """A company's accounting settings (one row per company): the lock date and the journals postings default
    to (the accounts are mapped by role: :class:`AccountRoleAccount`)."""

    __tablename__ = "accounting_config"
    __table_args__ = (UniqueConstraint("company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lock_date: Mapped[date | None] = mapped_column(Date)
    sales_journal_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_journal.id"))
    purchase_journal_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_journal.id"))
    general_journal_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_journal.id"))
    default_payment_terms_days: Mapped[int] = mapped_column(Integer, default=14)


class AccountRoleAccount(CompanyScoped, Base):
    """The account the company chose for an account role (``accounting.receivable`` …); a role
    without a row posts to its default code's account (see :mod:`plugins.accounting.ledger.roles`)."""

    __tablename__ = "accounting_account_role"

    company_id: Mapped[int] = mapped_column(ForeignKey("core_company.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(80), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_account.id"))
