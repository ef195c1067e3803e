"""Lookup tables: data an admin edits (tax brackets, discount tiers, commission rates) that rules read."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.company.scope import CompanyScoped
from core.db import Base, Quantity

#: Keys and values of lookup rows: up to 12 digits before the point and 6 after.
KEY_SCALE = VALUE_SCALE = 6


class LookupTable(CompanyScoped, Base):
    """A table that rules read as ``lookup('name', key)``.

    ``key_type`` is ``"text"`` or ``"number"``; ``match`` is ``"exact"`` (the row whose key equals
    the key) or ``"bracket"`` (number keys: the row with the greatest key not above it, for tax
    brackets and discount tiers).
    """

    __tablename__ = "core_lookup_table"
    __table_args__ = (UniqueConstraint("company_id", "name", name="uq_core_lookup_table_company_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    key_type: Mapped[str] = mapped_column(String(10), default="text")
    match: Mapped[str] = mapped_column(String(10), default="exact")

    rows: Mapped[list[LookupRow]] = relationship(
        "LookupRow", back_populates="table", cascade="all, delete-orphan",
        order_by="(LookupRow.key_number, LookupRow.key_text, LookupRow.valid_from)")


class LookupRow(CompanyScoped, Base):
    """A row of a lookup table: its key (text or number, as the table says), its value and the days
    it is valid (either end open)."""

    __tablename__ = "core_lookup_row"
    __table_args__ = (Index("ix_core_lookup_row_table_key", "table_id", "key_number", "key_text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("core_lookup_table.id", ondelete="CASCADE"), index=True)
    key_text: Mapped[str | None] = mapped_column(String(200), nullable=True)
    key_number: Mapped[Decimal | None] = mapped_column(Quantity(scale=KEY_SCALE), nullable=True)
    value: Mapped[Decimal] = mapped_column(Quantity(scale=VALUE_SCALE))
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)

    table: Mapped[LookupTable] = relationship(LookupTable, back_populates="rows")

    @property
    def key(self) -> str | Decimal | None:
        """The key, whichever column holds it."""
        return self.key_number if self.key_number is not None else self.key_text
