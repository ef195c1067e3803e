"""The core's input schema base and fields: unknown fields refused, money as decimal strings, bounded
lists, ISO country and currency codes. Module schemas build on these so every endpoint treats input
the same way (see docs/api.md, "How the API treats input")."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import get_territory_currencies
from marshmallow import RAISE, ValidationError, fields
from marshmallow import Schema as _MarshmallowSchema

from core.i18n import gettext
from core.i18n import lazy_gettext as _l

#: The longest list a list field takes unless it says otherwise.
MAX_LIST = 100
#: The longest decimal string a money field reads (digits, sign, point and exponent).
MAX_DECIMAL_CHARS = 40

# Territory codes in Babel's list that are groupings, not countries.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}


class Schema(_MarshmallowSchema):
    """The base of every input schema: a field the schema does not know is an error naming it."""

    class Meta:
        unknown = RAISE


class MoneyField(fields.Decimal):
    """An exact number (money, quantity, rate, percentage) that travels as a decimal string.

    A JSON string such as ``"12.50"`` or an integer such as ``12`` is read; a JSON number with a
    fraction or an exponent (a float to every JSON reader) is refused naming the field, as are NaN
    and infinities. It is written back as a string.
    """

    default_error_messages = {
        "float": _l('Give the number as a decimal string such as "12.50", not as a JSON number with a fraction.'),
        "invalid": _l('Enter a number such as "12.50".'),
        "too_long": _l("The number is too long."),
    }

    def __init__(self, places: int | None = None, **kwargs):
        kwargs.setdefault("as_string", True)
        super().__init__(places, allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if isinstance(value, float):
            raise self.make_error("float")
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise self.make_error("invalid")
        if isinstance(value, str):
            value = value.strip()
            if len(value) > MAX_DECIMAL_CHARS:
                raise self.make_error("too_long")
        elif isinstance(value, int) and len(str(value)) > MAX_DECIMAL_CHARS:
            raise self.make_error("too_long")
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except InvalidOperation:
            raise self.make_error("invalid") from None


class BoundedList(fields.List):
    """A list of at most ``max_items`` items; a scalar (a string too) is refused, never wrapped."""

    default_error_messages = {
        "invalid": _l("Give a list."),
        "too_long": _l("Give at most {max} items."),
    }

    def __init__(self, cls_or_instance, *, max_items: int = MAX_LIST, **kwargs):
        super().__init__(cls_or_instance, **kwargs)
        self.max_items = max_items
        self.metadata.setdefault("maxItems", max_items)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, (list, tuple)):
            raise self.make_error("invalid")
        if len(value) > self.max_items:
            raise self.make_error("too_long", max=self.max_items)
        return super()._deserialize(value, attr, data, **kwargs)


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """ISO 3166 alpha-2 codes of the countries Babel knows."""
    return frozenset(code for code in Locale("en").territories
                     if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES)


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    """ISO 4217 codes of the currencies legal tender somewhere today (Babel's territory data)."""
    today = date.today()
    found: set[str] = set()
    for territory in Locale("en").territories:
        found.update(get_territory_currencies(territory, today))
    return frozenset(found)


def validate_country(value: str) -> None:
    """Refuse anything but an ISO 3166 alpha-2 country code (empty is allowed)."""
    if value and value not in country_codes():
        raise ValidationError(gettext("Choose a country (ISO 3166 code such as DK)."))


def validate_currency(value: str) -> None:
    """Refuse anything but a current ISO 4217 currency code (empty is allowed)."""
    if value and value not in currency_codes():
        raise ValidationError(gettext("Choose a currency (ISO 4217 code such as DKK or EUR)."))
