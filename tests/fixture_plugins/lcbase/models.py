"""The item, lcbase's only table."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, Money, UTCDateTime, utcnow


class Item(Base):
    """An item with an exact amount and a date."""

    __tablename__ = "lcbase_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    amount: Mapped[Decimal] = mapped_column(Money())
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(String(80), nullable=True)
