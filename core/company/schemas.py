"""Marshmallow schema of the company's own settings (the settings form and the API)."""
from __future__ import annotations

import calendar

from marshmallow import EXCLUDE, ValidationError, fields, pre_load, validate, validates_schema

from core.config import LANGUAGES
from core.i18n import gettext
from core.i18n import lazy_gettext as _l
from core.api.schema import Schema, currency_codes, validate_country, validate_currency
from core.parties.schemas import normalise_vat_id, validate_email, validate_vat_id


#: Amounts are kept with two decimals (the ``Money`` columns), so a base currency needs no more.
BASE_CURRENCY_DECIMALS = 2


def base_currency_codes() -> list[str]:
    """The current ISO 4217 currencies a company may keep its books in, sorted."""
    from babel.numbers import get_currency_precision

    return sorted(code for code in currency_codes() if get_currency_precision(code) <= BASE_CURRENCY_DECIMALS)


def validate_base_currency(value: str) -> None:
    """Refuse a currency whose amounts need more decimals than the books keep (KWD, BHD …)."""
    from babel.numbers import get_currency_precision

    if value in currency_codes() and get_currency_precision(value) > BASE_CURRENCY_DECIMALS:
        raise ValidationError(gettext("%(code)s amounts have three decimals; the books keep two. "
                                      "Choose another base currency.", code=value))


class CompanySchema(Schema):
    """The company Kontor keeps the books of."""

    class Meta:
        unknown = EXCLUDE
        ordered = True

    legal_name = fields.String(required=True, validate=validate.Length(min=1, max=200, error=_l("Enter the legal name.")),
                               error_messages={"required": _l("Enter the legal name.")})
    base_currency = fields.String(required=True, validate=[validate.Length(equal=3, error=_l("Choose a currency.")),
                                                          validate_currency, validate_base_currency],
                                  error_messages={"required": _l("Choose a currency.")})
    country = fields.String(load_default="", validate=validate_country)
    locale = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES, error=_l("Choose one of the languages offered.")))
    fiscal_year_start_month = fields.Integer(load_default=1, strict=False, validate=validate.Range(
        min=1, max=12, error=_l("Choose a month from 1 to 12.")))
    fiscal_year_start_day = fields.Integer(load_default=1, strict=False, validate=validate.Range(
        min=1, max=31, error=_l("Choose a day from 1 to 31.")))
    vat_id = fields.String(load_default="", validate=[validate.Length(max=32), validate_vat_id])
    street = fields.String(load_default="", validate=validate.Length(max=200))
    postal_code = fields.String(load_default="", validate=validate.Length(max=20))
    city = fields.String(load_default="", validate=validate.Length(max=100))
    email = fields.String(load_default="", validate=[validate.Length(max=254), validate_email])
    phone = fields.String(load_default="", validate=validate.Length(max=40))

    @pre_load
    def _clean(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        data = {key: value.strip() if isinstance(value, str) else value for key, value in data.items()}
        for key in ("base_currency", "country"):
            if isinstance(data.get(key), str):
                data[key] = data[key].upper()
        if isinstance(data.get("vat_id"), str):
            data["vat_id"] = normalise_vat_id(data["vat_id"])
        return data

    @validates_schema
    def _real_day(self, data, partial=None, **kwargs):
        month, day = data.get("fiscal_year_start_month"), data.get("fiscal_year_start_day")
        # 29 February is refused: a fiscal year must start on a day every year has
        if month and day and day > calendar.monthrange(2001, month)[1]:
            raise ValidationError(gettext("That month has no such day."), "fiscal_year_start_day")
