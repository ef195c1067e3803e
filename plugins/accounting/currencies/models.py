"""Currencies and their exchange rates to the company currency."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, CompanyScoped

from plugins.accounting.ledger.models import Rate


class Currency(Base):
    """A currency the company deals in; ``digits`` is its minor unit (2 for DKK, 0 for JPY)."""

    __tablename__ = "accounting_currency"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    digits: Mapped[int] = mapped_column(Integer, default=2)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ExchangeRate(CompanyScoped, Base):
    """How much one unit of ``currency`` is worth in the company's base currency from ``date`` on
    (per company: a DKK company and a EUR company each keep their own rates)."""

    __tablename__ = "accounting_exchange_rate"
    __table_args__ = (UniqueConstraint("company_id", "currency", "date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[str] = mapped_column(ForeignKey("accounting_currency.code"))
    date: Mapped[date] = mapped_column(Date)
    rate: Mapped[Decimal] = mapped_column(Rate)
