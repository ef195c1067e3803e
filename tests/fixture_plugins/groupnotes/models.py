"""A note kept per company, with an amount, on a shared party."""
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import Base, CompanyScoped, Money


class Note(CompanyScoped, Base):
    """A note of one company."""

    __tablename__ = "groupnotes_note"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("groupnotes_note.id"), nullable=True)

    parent: Mapped["Note | None"] = relationship(remote_side=[id])
