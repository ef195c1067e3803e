"""The greeting, hello's only table."""
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, UTCDateTime, utcnow


class Greeting(Base):
    """A greeting in one language."""

    __tablename__ = "hello_greeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
