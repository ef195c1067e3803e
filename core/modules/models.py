"""Which modules are installed, and the revision number every worker watches."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class ModuleRecord(Base):
    """An installed module; a module with no row is merely available."""

    __tablename__ = "core_module"
    __audited__ = False  # lifecycle acts are audited explicitly, with their context

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # installed | disabled
    source: Mapped[str] = mapped_column(String(200), default="")
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ModulesRevision(Base):
    """One row whose number grows with every change to the module set."""

    __tablename__ = "core_modules_revision"
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
