"""Taxes."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, CompanyScoped, Money

TAX_SCOPES = ("sale", "purchase")


class Tax(CompanyScoped, Base):
    """A tax rate (a percentage), collected on sales or paid on purchases.

    ``price_included``: line prices already contain the tax. ``reverse_charge`` (purchases from
    abroad): the buyer books both the tax due (``collected_account``) and its deduction
    (``paid_account``), so no tax is paid to the supplier.
    """

    __tablename__ = "accounting_tax"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="")
    scope: Mapped[str] = mapped_column(String(10))  # TAX_SCOPES
    rate: Mapped[Decimal] = mapped_column(Money(scale=4, precision=9))  # percent, e.g. 25.0000
    price_included: Mapped[bool] = mapped_column(Boolean, default=False)
    reverse_charge: Mapped[bool] = mapped_column(Boolean, default=False)
    collected_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_account.id"))
    paid_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_account.id"))
    report_code: Mapped[str] = mapped_column(String(20), default="")  # the box of the VAT return
    active: Mapped[bool] = mapped_column(Boolean, default=True)
