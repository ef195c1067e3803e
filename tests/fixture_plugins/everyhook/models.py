"""A thing, optionally owned by a party."""
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core import Base


class Thing(Base):
    """A named thing."""

    __tablename__ = "everyhook_thing"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"), nullable=True, index=True)
