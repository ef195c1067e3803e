"""An expense claim of one company: the record the approval tests ask approval of."""
from decimal import Decimal

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, CompanyScoped, Money, Percent


class Claim(CompanyScoped, Base):
    """An expense claim: ``amount`` and ``discount`` are read by approval conditions, ``memo`` by none."""

    __tablename__ = "expenses_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    discount: Mapped[Decimal] = mapped_column(Percent(), default=Decimal("0"))
    category: Mapped[str] = mapped_column(String(40), default="travel")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    memo: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(20), default="draft")
