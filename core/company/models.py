"""The group's companies (legal entities), who works in which, and the settings modules register."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from core.db import Base, metadata

#: The companies a user works in. A user's roles apply in each of them.
company_users = Table(
    "core_company_user",
    metadata,
    Column("company_id", ForeignKey("core_company.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True, index=True),
)

#: Roles granted to a user in one company only, beside the roles they hold in all their companies.
company_user_roles = Table(
    "core_company_user_role",
    metadata,
    Column("company_id", ForeignKey("core_company.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("role_id", ForeignKey("core_role.id", ondelete="CASCADE"), primary_key=True),
)

#: A party restricted to some companies; a party with no row here is shared by the whole group.
party_companies = Table(
    "core_party_company",
    metadata,
    Column("party_id", ForeignKey("core_party.id", ondelete="CASCADE"), primary_key=True),
    Column("company_id", ForeignKey("core_company.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Company(Base):
    """A legal entity of the group: its own books, numbering, settings and default data."""

    __tablename__ = "core_company"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    base_currency: Mapped[str] = mapped_column(String(3), default="EUR")
    country: Mapped[str] = mapped_column(String(2), default="")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    fiscal_year_start_month: Mapped[int] = mapped_column(Integer, default=1)
    fiscal_year_start_day: Mapped[int] = mapped_column(Integer, default=1)
    vat_id: Mapped[str] = mapped_column(String(32), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the party that stands for this company when another company of the group sells to it or buys from it
    party_id: Mapped[int | None] = mapped_column(ForeignKey("core_party.id"), nullable=True, unique=True)
    logo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    logo_type: Mapped[str] = mapped_column(String(20), default="")

    __audit_exclude__ = ("logo",)  # the audit log notes the logo's type changing, not its bytes

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_type)


class SettingValue(Base):
    """The value an admin chose for a module setting: for the whole group (``company_id`` 0) or
    for one company, as the setting declares."""

    __tablename__ = "core_setting"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    value: Mapped[str] = mapped_column(Text, default="")
    secret: Mapped[bool] = mapped_column(Boolean, default=False)  # a password: never shown nor audited

    @property
    def __audit_redact__(self) -> tuple[str, ...]:
        return ("value",) if self.secret else ()
