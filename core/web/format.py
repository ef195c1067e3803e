"""Showing a value in a table cell or a field, in the user's locale."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from markupsafe import Markup

from core.i18n import date_, datetime_, gettext, money, number


def format_value(value, fmt: str | None = None) -> str:
    """``value`` as the user should read it; ``fmt`` names a formatter (money, date, number)."""
    if value is None or value == "":
        return ""
    if fmt == "money":
        return money(value)
    if fmt == "date" or (isinstance(value, date) and not isinstance(value, datetime)):
        return date_(value)
    if fmt == "datetime" or isinstance(value, datetime):
        return datetime_(value)
    if fmt == "number" or isinstance(value, Decimal):
        return number(value)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Markup):
        return value
    return str(value)


def parse_amount(value: str | None) -> str:
    """A typed amount made plain ("1.250,50" or "1,250.50" → "1250.50", read in the user's locale);
    left as typed when unclear, so the service refuses it naming the field."""
    text = (value or "").strip().replace(" ", "").replace("\u00a0", "")
    if not text:
        return ""
    try:
        Decimal(text)
        return text
    except InvalidOperation:
        pass
    try:
        from babel.numbers import parse_decimal
        from flask_babel import get_locale

        return str(parse_decimal(text, locale=str(get_locale() or "en"), strict=True))
    except Exception:  # babel raises several kinds; the service then names the field
        return text
