"""Small helpers the ledger's pages and endpoints share."""
from __future__ import annotations

from datetime import date as Date
from decimal import Decimal, InvalidOperation

from flask_login import current_user

from core import ApiError, KontorError


def api_refusal(exc: KontorError) -> ApiError:
    """A service's refusal as a problem+json error: 404, 409, or 422 naming the field."""
    status = 422 if exc.status in (400, 422) else exc.status
    titles = {404: "Not Found", 409: "Conflict", 422: "Validation failed"}
    errors = exc.as_errors() if exc.field or status != 404 else None
    return ApiError(status, titles.get(status, "Refused"), exc.message, errors)


def user_id() -> int | None:
    """The signed-in user's id (None outside a request)."""
    try:
        return int(current_user.get_id()) if current_user and current_user.is_authenticated else None
    except (TypeError, ValueError, AttributeError):
        return None


def parse_date(value: str | None) -> Date | None:
    """``YYYY-MM-DD`` as a date; None when empty or malformed."""
    try:
        return Date.fromisoformat((value or "").strip()) if value and value.strip() else None
    except ValueError:
        return None


def parse_amount(value: str | None) -> str:
    """A typed amount made plain ("1.250,50" or "1,250.50" → "1250.50"); left as is when unclear."""
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
