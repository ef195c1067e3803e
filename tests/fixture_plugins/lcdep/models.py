"""A note on an lcbase item."""
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core import Base


class Note(Base):
    """A note pointing at an item."""

    __tablename__ = "lcdep_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("lcbase_item.id"))
    text: Mapped[str] = mapped_column(String(80))
