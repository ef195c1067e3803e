"""Marshmallow schemas of the group's companies (the settings forms and the API)."""
from __future__ import annotations

import calendar
import re

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


# The length of an IBAN in each country that issues them (the SWIFT IBAN registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
BIC_SHAPE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def compact(value: str) -> str:
    """An IBAN or BIC without spaces or dashes, in capitals."""
    return re.sub(r"[\s\-]", "", value or "").upper()


def iban_problem(iban: str) -> str | None:
    """Why ``iban`` (compacted) is not an IBAN, or None: the country's length and the check digits
    (ISO 13616, mod 97); python-stdnum checks the national part too when it is installed."""
    try:
        from stdnum import iban as stdnum_iban
    except ImportError:
        stdnum_iban = None
    if stdnum_iban is not None:
        return None if stdnum_iban.is_valid(iban) else gettext("This is not a valid IBAN.")
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}", iban):
        return gettext("An IBAN starts with a country code and two check digits, e.g. DK50 0040 0440 1162 43.")
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None:
        return gettext("%(code)s does not issue IBANs.", code=iban[:2])
    if len(iban) != expected:
        return gettext("A %(code)s IBAN has %(length)d characters.", code=iban[:2], length=expected)
    digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        return gettext("This IBAN has a typing error: its check digits do not match.")
    return None


def bic_problem(bic: str) -> str | None:
    """Why ``bic`` (compacted) is not a BIC (SWIFT code), or None."""
    try:
        from stdnum import bic as stdnum_bic
    except ImportError:
        stdnum_bic = None
    shaped = stdnum_bic.is_valid(bic) if stdnum_bic is not None else bool(BIC_SHAPE.match(bic))
    if not shaped:
        return gettext("A BIC has 8 or 11 letters and digits, e.g. DABADKKK.")
    if bic[4:6] not in _country_codes_and_kosovo():
        return gettext("%(code)s is not a country code.", code=bic[4:6])
    return None


def _country_codes_and_kosovo() -> set[str]:
    from core.api.schema import country_codes

    return set(country_codes()) | {"XK"}


def validate_iban(value: str) -> None:
    """Refuse an IBAN whose country, length or check digits are wrong (empty is allowed)."""
    problem = iban_problem(value) if value else None
    if problem:
        raise ValidationError(problem)


def validate_bic(value: str) -> None:
    """Refuse a BIC of the wrong shape (empty is allowed)."""
    problem = bic_problem(value) if value else None
    if problem:
        raise ValidationError(problem)


class CompanySchema(Schema):
    """A company of the group: its legal data, address, bank account; as the forms and the API
    write it. ``id``, ``is_default``, ``active`` and ``has_logo`` are read only (a company is made
    the default one, and its logo changed, by their own actions)."""

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
    bank_name = fields.String(load_default="", validate=validate.Length(max=100))
    iban = fields.String(load_default="", validate=[validate.Length(max=34), validate_iban])
    bic = fields.String(load_default="", validate=[validate.Length(max=11), validate_bic])
    id = fields.Integer(dump_only=True)
    is_default = fields.Boolean(dump_only=True)
    active = fields.Boolean(dump_only=True)
    has_logo = fields.Boolean(dump_only=True)

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
        for key in ("iban", "bic"):
            if isinstance(data.get(key), str):
                data[key] = compact(data[key])
        return data

    @validates_schema
    def _real_day(self, data, partial=None, **kwargs):
        month, day = data.get("fiscal_year_start_month"), data.get("fiscal_year_start_day")
        # 29 February is refused: a fiscal year must start on a day every year has
        if month and day and day > calendar.monthrange(2001, month)[1]:
            raise ValidationError(gettext("That month has no such day."), "fiscal_year_start_day")
