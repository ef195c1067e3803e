"""The append-only, hash-chained audit log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.orm import Base, UTCDateTime


class AuditRecord(Base):
    """One audited act: a row inserted, updated or deleted, or an event such as a login.

    ``hash`` is SHA-256 over ``prev_hash`` and the record's canonical JSON, so changing or
    removing any record breaks the chain from there on. Database triggers refuse UPDATE and DELETE.
    """

    __tablename__ = "core_audit"
    __audited__ = False

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    username: Mapped[str] = mapped_column(String(80), default="")
    origin: Mapped[str] = mapped_column(String(300), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    module: Mapped[str] = mapped_column(String(64), default="", index=True)
    table_name: Mapped[str] = mapped_column(String(80), default="")
    record_id: Mapped[str] = mapped_column(String(80), default="")
    changes: Mapped[str] = mapped_column(Text, default="{}")
    # the company whose record changed; None for the group's shared records and the platform's acts
    company_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_core_audit_record", "table_name", "record_id"),)


class AuditHead(Base):
    """The chain's tip (one row). Writers lock it, so the chain stays linear across workers."""

    __tablename__ = "core_audit_head"
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    hash: Mapped[str] = mapped_column(String(64))
