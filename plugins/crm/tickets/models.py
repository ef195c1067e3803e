"""Service tickets, their conversation and the service level policies that time them."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import Base, CompanyScoped, UTCDateTime, lazy_gettext as _l, utcnow

PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
STATUSES = ("new", "open", "waiting", "resolved", "closed")
STATUS_LABELS = {"new": _l("New"), "open": _l("Open"), "waiting": _l("Waiting"), "resolved": _l("Resolved"),
                 "closed": _l("Closed")}
#: The words shown for a ticket's SLA state, which the clock decides (``services.sla_of``).
SLA_STATE_LABELS = {"breached": _l("Breached"), "at_risk": _l("About to breach"), "ok": _l("On time")}
OPEN_STATUSES = ("new", "open", "waiting")


class SlaPolicy(CompanyScoped, Base):
    """The response and resolution targets, in hours, for tickets of one priority (each company its own)."""

    __tablename__ = "crm_sla_policy"
    __table_args__ = (UniqueConstraint("company_id", "priority"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    priority: Mapped[str] = mapped_column(String(10))
    response_hours: Mapped[int] = mapped_column(Integer)
    resolution_hours: Mapped[int] = mapped_column(Integer)


class Ticket(CompanyScoped, Base):
    """A customer's service request, from new to closed."""

    __tablename__ = "crm_ticket"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"), nullable=True, index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"), nullable=True, index=True)
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(10), default="normal", index=True)
    status: Mapped[str] = mapped_column(String(10), default="new", index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), nullable=True, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    response_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    # when a due time comes close enough to be flagged "about to breach"
    response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: when the SLA check first found the ticket past a due time it did not meet
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    party = relationship("Party", foreign_keys=[party_id], lazy="joined")
    contact = relationship("Party", foreign_keys=[contact_id], lazy="joined")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    messages: Mapped[list["TicketMessage"]] = relationship(back_populates="ticket", order_by="TicketMessage.id",
                                                            cascade="all, delete-orphan")

    __table_args__ = (Index("ix_crm_ticket_status_created", "status", "created_at", "id"),
                      UniqueConstraint("company_id", "number"))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def party_name(self) -> str:
        return self.party.name if self.party else ""

    @property
    def assignee_name(self) -> str:
        return (self.assignee.full_name or self.assignee.username) if self.assignee else ""

    @property
    def contact_label(self) -> str:
        """Who to answer: the contact person (with their email) or the free email address."""
        if self.contact is not None:
            return f"{self.contact.name} <{self.contact.email}>" if self.contact.email else self.contact.name
        return self.contact_email

    @property
    def reply_address(self) -> str:
        """The email address a reply goes to."""
        if self.contact is not None and self.contact.email:
            return self.contact.email
        return self.contact_email or (self.party.email if self.party else "")


class TicketMessage(Base):
    """One entry of a ticket's conversation: a reply the customer sees, or an internal note.

    Reached through its ticket, whose company it shares."""

    __tablename__ = "crm_ticket_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("crm_ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # reply | note
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # a reply is emailed to the customer when mail is set up: where it went, or why it did not
    emailed_to: Mapped[str] = mapped_column(String(254), default="")
    email_error: Mapped[str] = mapped_column(String(500), default="")

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author = relationship("User", lazy="joined")

    @property
    def is_reply(self) -> bool:
        return self.kind == "reply"

    @property
    def author_name(self) -> str:
        return (self.author.full_name or self.author.username) if self.author else ""
