"""The attachment table: which file belongs to which record, and what the file really is."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User
from core.company.scope import CompanyScoped
from core.db import Base, UTCDateTime, utcnow


class Attachment(CompanyScoped, Base):
    """A file attached to a record (``record_kind`` ``crm.ticket``, ``record_id`` 5) of one company.

    The bytes live in the storage service under ``key``; ``filename`` is the name the uploader
    gave, shown and offered on download only; ``content_type`` is what the bytes are, found by
    Kontor, never what a browser claimed.
    """

    __tablename__ = "core_attachment"
    __table_args__ = (Index("ix_core_attachment_record", "record_kind", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"),
                                                       nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped[User | None] = relationship(User, lazy="joined")

    @property
    def record(self) -> str:
        """The record as the API names it: ``crm.ticket:5``."""
        return f"{self.record_kind}:{self.record_id}"
