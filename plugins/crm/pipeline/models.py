"""The pipeline's tables: stages and opportunities."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import Base, CompanyScoped, Money, Percent, UTCDateTime, lazy_gettext as _l, utcnow

#: The words shown for an opportunity's status, which its stage decides (see ``Opportunity.status``).
STATUS_LABELS = {"open": _l("Open"), "won": _l("Won"), "lost": _l("Lost")}


class Stage(CompanyScoped, Base):
    """A column of the pipeline: its place, the probability it implies and whether it closes a deal.

    Each company of the group has its own pipeline."""

    __tablename__ = "crm_stage"
    __table_args__ = (
        CheckConstraint("probability >= 0 AND probability <= 100", name="probability_range"),
        CheckConstraint("NOT (is_won AND is_lost)", name="won_or_lost"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    sequence: Mapped[int] = mapped_column(Integer, default=10, index=True)
    probability: Mapped[int] = mapped_column(Integer, default=0)
    is_won: Mapped[bool] = mapped_column(Boolean, default=False)
    is_lost: Mapped[bool] = mapped_column(Boolean, default=False)
    fold: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def is_closed(self) -> bool:
        """Whether an opportunity in this stage is decided (won or lost)."""
        return bool(self.is_won or self.is_lost)


class Opportunity(CompanyScoped, Base):
    """A deal being worked: who for, how much, how likely, by when, and where it stands."""

    __tablename__ = "crm_opportunity"
    __table_args__ = (
        CheckConstraint("probability >= 0 AND probability <= 100", name="probability_range"),
        Index("ix_crm_opportunity_stage_board", "stage_id", "id"),
        Index("ix_crm_opportunity_owner_stage", "owner_id", "stage_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("core_party.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    expected_revenue: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    #: the discount the salesperson asks for, in percent (15.00 for 15 %); an approval rule may read it
    discount: Mapped[Decimal] = mapped_column(Percent(scale=2, precision=5), default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3))
    probability: Mapped[int] = mapped_column(Integer, default=0)
    expected_close: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("crm_stage.id"))
    lost_reason: Mapped[str] = mapped_column(String(200), default="")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("crm_lead.id"), nullable=True, index=True)
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)

    stage: Mapped[Stage] = relationship(lazy="joined")
    party = relationship("Party", lazy="joined")
    owner = relationship("User", lazy="joined")

    @property
    def weighted_revenue(self) -> Decimal:
        """Expected revenue × probability, to the cent."""
        return (self.expected_revenue * self.probability / 100).quantize(Decimal("0.01"))

    @property
    def status(self) -> str:
        """"open", "won" or "lost", from the stage."""
        return "won" if self.stage.is_won else "lost" if self.stage.is_lost else "open"
