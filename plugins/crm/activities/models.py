"""Activities (calls, meetings, emails, tasks) and the timeline's events."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import Base, CompanyScoped, UTCDateTime, lazy_gettext as _l, utcnow

KINDS = ("call", "meeting", "email", "task")
#: The words shown for the kinds of activities (``KINDS``) and of timeline events
#: (``plugins.crm.timeline.KINDS``): a timeline lists both.
KIND_LABELS = {"call": _l("Call"), "meeting": _l("Meeting"), "email": _l("Email"), "task": _l("Task"),
               "note": _l("Note"), "stage": _l("Stage"), "lead": _l("Lead"), "ticket": _l("Ticket"),
               "reply": _l("Reply"), "campaign": _l("Campaign"), "activity": _l("Activity"),
               "approval": _l("Approval")}


class Activity(CompanyScoped, Base):
    """Something to do (or done) about a party, a lead or an opportunity, by someone, by a time."""

    __tablename__ = "crm_activity"
    __table_args__ = (
        Index("ix_crm_activity_assignee_open", "assignee_id", "done", "due_at"),
        Index("ix_crm_activity_party_created", "party_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    party_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"), nullable=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("crm_lead.id"), nullable=True, index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunity.id"), nullable=True, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: when the assignee was told the activity fell due (the reminder goes once per due time)
    due_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    party = relationship("Party", lazy="joined")

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Whether the activity is still to do and its due time has passed."""
        return not self.done and self.due_at is not None and self.due_at < (now or utcnow())

    @property
    def overdue(self) -> bool:
        """Whether the activity is overdue now (what the API shows)."""
        return self.is_overdue()


class TimelineEvent(CompanyScoped, Base):
    """One line of a record's history: a note, a stage change, a ticket or campaign message…

    An event belongs to the company it happened in, even one only about a customer (a party the
    group shares): it tells of that company's tickets, deals and campaigns, which another company
    of the group does not see."""

    __tablename__ = "crm_timeline_event"
    __table_args__ = (
        Index("ix_crm_timeline_event_party_created", "party_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    # set when ``title`` is a message translated when shown (with these arguments), not a user's text
    title_args: Mapped[dict | None] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text, default="")
    party_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"), nullable=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("crm_lead.id"), nullable=True, index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunity.id"), nullable=True, index=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    user = relationship("User", lazy="joined")
