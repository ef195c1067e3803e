"""The mail log: every message Kontor sends, with its attachments and what came of it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from core.company.scope import CompanyScoped
from core.db import Base, UTCDateTime, utcnow

#: The states of a message, in the order it passes through them.
STATUSES = ("queued", "sending", "sent", "failed")


class MailMessage(CompanyScoped, Base):
    """One outgoing message and its fate: queued, being sent, sent, or failed with the server's reply."""

    __tablename__ = "core_mail"
    # The log is itself the record of what was sent; asking for a message is audited as an event.
    __audited__ = False
    __table_args__ = (
        Index("ix_core_mail_record", "record"),
        Index("ix_core_mail_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    #: the From header it goes out with (the company's sender unless the caller chose one)
    sender: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: extra headers, e.g. List-Unsubscribe
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    #: the record the message concerns, e.g. ``accounting.invoice:12``: its page lists the message
    record: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(12), default="queued")
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str] = mapped_column(String(250), default="")
    #: who asked for it (None: the system)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    attachments: Mapped[list["MailAttachment"]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="MailAttachment.id", lazy="selectin")


class MailAttachment(Base):
    """A file sent with a message; its bytes are read only when the message is built."""

    __tablename__ = "core_mail_attachment"
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("core_mail.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))

    message: Mapped[MailMessage] = relationship(back_populates="attachments")
