"""The thing, lcfailpurge's only table."""
from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from core import Base


class Thing(Base):
    """A row that must survive a failed purge."""

    __tablename__ = "lcfailpurge_thing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
