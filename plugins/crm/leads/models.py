"""Leads: people or companies that may become customers, before they are qualified."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import Base, CompanyScoped, Tag, User, UTCDateTime, lazy_gettext as _l, utcnow

STATUS_LABELS = {"new": _l("New"), "contacted": _l("Contacted"), "qualified": _l("Qualified"),
                 "disqualified": _l("Disqualified")}
SOURCE_LABELS = {"website": _l("Website"), "referral": _l("Referral"), "event": _l("Event"),
                 "campaign": _l("Campaign"), "import": _l("Import"), "other": _l("Other")}

lead_tags = Table(
    "crm_lead_tag",
    Base.metadata,
    Column("lead_id", ForeignKey("crm_lead.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("core_tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Lead(CompanyScoped, Base):
    """A lead: a contact that has shown interest, owned by a salesperson until it is qualified.

    A lead belongs to one company of the group (the one its salesperson sells for)."""

    __tablename__ = "crm_lead"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # casefolded name: the sort key, the same on both backends
    name_key: Mapped[str] = mapped_column(String(200))
    company_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    vat_id: Mapped[str] = mapped_column(String(32), default="", index=True)
    source: Mapped[str] = mapped_column(String(20), default="other", index=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), nullable=True, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    disqualify_reason: Mapped[str] = mapped_column(String(500), default="")
    party_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"), nullable=True, index=True)
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("crm_lead.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # derived, for duplicate checks and search: see plugins.crm.leads.matching
    email_key: Mapped[str] = mapped_column(String(254), default="", index=True)
    match_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    search_text: Mapped[str] = mapped_column(Text, default="")

    owner: Mapped[User | None] = relationship(lazy="selectin", foreign_keys=[owner_id])
    tags: Mapped[list[Tag]] = relationship(secondary=lead_tags, lazy="selectin", order_by=Tag.name)

    __table_args__ = (
        Index("ix_crm_lead_name_key_id", "name_key", "id"),
        Index("ix_crm_lead_owner_status", "owner_id", "status"),
    )
    __audit_exclude__ = ("email_key", "match_key", "search_text", "name_key")

    @property
    def tag_names(self) -> list[str]:
        """The names of the lead's tags, sorted."""
        return sorted((tag.name for tag in self.tags), key=str.casefold)

    @property
    def owner_name(self) -> str:
        """Who owns the lead, as people read it."""
        return (self.owner.full_name or self.owner.username) if self.owner else ""

    @property
    def is_open(self) -> bool:
        """Whether the lead is still being worked (neither qualified nor disqualified)."""
        return self.status in ("new", "contacted")


class WebLeadSubmission(Base):
    """A web-to-lead form post, kept for an hour to rate-limit by client address across workers.

    Shared by the group: the limit is per client address, whichever company's form it posts to."""

    __tablename__ = "crm_web_lead_submission"
    __audited__ = False  # a throttle counter, not business data (the lead it creates is audited)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_crm_web_lead_submission_address_created", "address", "created_at"),)


class LeadUpload(CompanyScoped, Base):
    """An uploaded CSV file between the steps of an import (upload, mapping, preview, import)."""

    __tablename__ = "crm_lead_upload"
    __audited__ = False  # a staging file; the leads it creates are audited

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    mapping: Mapped[str] = mapped_column(Text, default="")  # JSON: field -> header
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: fixed when the import starts, so a re-run imports the same rows: the lines to import, the
    #: rows with problems and how many possible duplicates were left out
    plan: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: how many lines of the plan are imported (committed with the leads they made)
    done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (UniqueConstraint("company_id", "token"),)


@event.listens_for(Lead, "before_insert")
@event.listens_for(Lead, "before_update")
def _keep_derived(_mapper, _connection, lead: Lead) -> None:
    from plugins.crm.leads.matching import derived_columns

    for key, value in derived_columns(lead.name, lead.company_name, lead.email).items():
        setattr(lead, key, value)
