"""Segments, campaigns, the recipients of each send, and the addresses that opted out."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import Base, CompanyScoped, UTCDateTime, lazy_gettext as _l, utcnow

CAMPAIGN_STATUSES = ("draft", "sending", "sent")
RECIPIENT_STATUSES = ("queued", "sending", "sent", "failed", "skipped")
#: The words shown for the statuses of campaigns and of their recipients.
STATUS_LABELS = {"draft": _l("Draft"), "sending": _l("Sending"), "sent": _l("Sent"), "queued": _l("Queued"),
                 "failed": _l("Failed"), "skipped": _l("Skipped")}


class Segment(CompanyScoped, Base):
    """A saved filter over parties and leads; its members are worked out when they are needed."""

    __tablename__ = "crm_segment"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    include_parties: Mapped[bool] = mapped_column(Boolean, default=True)
    include_leads: Mapped[bool] = mapped_column(Boolean, default=False)
    # comma-separated lists; an empty list does not narrow
    tags: Mapped[str] = mapped_column(String(500), default="")
    countries: Mapped[str] = mapped_column(String(200), default="")
    party_kind: Mapped[str] = mapped_column(String(10), default="")  # "", company, person
    lead_statuses: Mapped[str] = mapped_column(String(200), default="")
    lead_sources: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(CompanyScoped, Base):
    """A message sent to a segment by email."""

    __tablename__ = "crm_campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("crm_segment.id"), nullable=True, index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), nullable=True)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    segment: Mapped[Segment | None] = relationship(lazy="joined")

    @property
    def segment_name(self) -> str:
        return self.segment.name if self.segment else ""


class CampaignRecipient(Base):
    """One address a campaign goes to, and what became of the message (reached through its campaign)."""

    __tablename__ = "crm_campaign_recipient"
    __audited__ = False  # a send writes thousands of rows; the campaign's own changes are audited

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("crm_campaign.id", ondelete="CASCADE"))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"), nullable=True, index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("crm_lead.id", ondelete="SET NULL"), nullable=True,
                                                index=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    reason: Mapped[str] = mapped_column(String(500), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("campaign_id", "email_key", name="uq_crm_campaign_recipient_campaign_id"),
        Index("ix_crm_campaign_recipient_campaign_status", "campaign_id", "status", "id"),
    )


class OptOut(Base):
    """An address that unsubscribed: it is never mailed a campaign again, by any company of the group."""

    __tablename__ = "crm_opt_out"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("crm_campaign.id", ondelete="SET NULL"),
                                                    nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
