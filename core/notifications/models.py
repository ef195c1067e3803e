"""The inbox (core_notification) and each user's choice of channel per kind (core_notification_choice)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

#: How a notification reaches its reader: the inbox only, the inbox and a mail at once, the inbox
#: and the daily digest mail.
CHANNELS = ("inapp", "email", "digest")


class Notification(Base):
    """One message to one user: stored untranslated (``message`` is a msgid, ``params`` its values)
    and rendered in the reader's language when shown or mailed.

    Not company-scoped: a user's inbox holds what concerns them in every company they work in;
    ``company_id`` is the company of the record it is about, against which readability is checked.
    """

    __tablename__ = "core_notification"
    # A delivery log, like the mail log: sending is audited by what caused it, reading is the reader's own.
    __audited__ = False
    __table_args__ = (
        Index("ix_core_notification_user_id_read_at", "user_id", "read_at"),
        Index("ix_core_notification_user_id_id", "user_id", "id"),
        Index("ix_core_notification_digest", "channel", "digested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("core_company.id"), nullable=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(String(500))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    #: the record it is about, ``kind:id`` (``crm.ticket:7``): readers who may no longer read it see it hidden
    record: Mapped[str | None] = mapped_column(String(120), nullable=True)
    url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: the channel it was sent by (the recipient's choice at the time)
    channel: Mapped[str] = mapped_column(String(8), default="inapp")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class NotificationChoice(Base):
    """How notifications of ``kind`` reach ``user_id`` (else the kind's default channel)."""

    __tablename__ = "core_notification_choice"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(8))
