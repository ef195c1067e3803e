"""Parties: the companies and people every module shares, and their tags."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, metadata, utcnow

party_tags = Table(
    "core_party_tag",
    metadata,
    Column("party_id", ForeignKey("core_party.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("core_tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Base):
    """A label that groups parties (and, in modules, leads and segments)."""

    __tablename__ = "core_tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    # casefolded name: how a tag is found, the same on both backends (SQLite's lower() folds ASCII
    # only); casefolding may lengthen a name ("ß" → "ss"), hence the wider column
    name_key: Mapped[str] = mapped_column(String(240), index=True, unique=True)


def tag_key(name: str) -> str:
    """The key a tag is found by: its name casefolded, so "Øresund" and "øresund" are one tag."""
    return name.strip().casefold()


class Party(Base):
    """A company or a person; a person may belong to a company."""

    __tablename__ = "core_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="company")  # company | person
    name: Mapped[str] = mapped_column(String(200))
    # casefolded name: the sort and search key, indexed, the same on both backends
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"), nullable=True, index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    vat_id: Mapped[str] = mapped_column(String(32), default="", index=True)
    tax_id: Mapped[str] = mapped_column(String(32), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # name, email, VAT id and city casefolded into one text: a search reads one column per row
    search_text: Mapped[str] = mapped_column(Text, default="")

    company: Mapped["Party | None"] = relationship(remote_side=[id], foreign_keys=[company_id])
    tags: Mapped[list[Tag]] = relationship(secondary=party_tags, lazy="selectin", order_by=Tag.name)
    # the companies of the group the party is restricted to (none: shared by the whole group); written
    # by core.parties.services.set_party_companies, read here
    restricted_to: Mapped[list["Company"]] = relationship(  # noqa: F821 (core.company.models)
        "Company", secondary="core_party_company", lazy="selectin", order_by="Company.id", viewonly=True)

    __table_args__ = (
        Index("ix_core_party_active_name", "active", "name_key", "id"),
        Index("ix_core_party_active_city", "active", "city", "id"),
    )

    __audit_exclude__ = ("search_text",)  # derived from audited columns

    @property
    def created_on(self):
        """The (UTC) day the party was created."""
        return self.created_at.date() if self.created_at else None

    @property
    def company_ids(self) -> list[int]:
        """The ids of the companies the party is restricted to; empty when the whole group shares it."""
        return [company.id for company in self.restricted_to]

    @property
    def tag_names(self) -> list[str]:
        """The names of the party's tags, sorted."""
        return sorted((tag.name for tag in self.tags), key=str.casefold)


def search_text(name: str | None, email: str | None, vat_id: str | None, city: str | None) -> str:
    """The text a party search looks in: its name, email, VAT id and city, casefolded."""
    return " ".join(part for part in (name, email, vat_id, city) if part).casefold()


@event.listens_for(Tag, "before_insert")
@event.listens_for(Tag, "before_update")
def _keep_tag_key(_mapper, _connection, tag: Tag) -> None:
    tag.name_key = tag_key(tag.name)


@event.listens_for(Party, "before_insert")
@event.listens_for(Party, "before_update")
def _keep_search_text(_mapper, _connection, party: Party) -> None:
    party.search_text = search_text(party.name, party.email, party.vat_id, party.city)
