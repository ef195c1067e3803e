"""Accounting's one blueprint of pages and one of JSON endpoints, shared by its areas.

Each area's ``routes.py`` and ``api.py`` decorate top-level view functions on :data:`bp` and
:data:`api`; ``plugins/accounting/plugin.py`` imports them and returns the blueprints. Both are
made once per process: Flask registers one blueprint object on any number of apps. Beside them,
the parsing of what a person types in a form that several areas share.
"""
from __future__ import annotations

from datetime import date as Date
from decimal import Decimal, InvalidOperation

from flask import Blueprint

from core import ApiBlueprint

#: The pages, under /accounting (endpoints ``accounting.<view>``).
bp = Blueprint("accounting", "plugins.accounting", url_prefix="/accounting", template_folder="templates",
               static_folder="static", static_url_path="/static")

#: The JSON endpoints, under /api/v1/accounting (endpoints ``api_accounting.<view>``).
api = ApiBlueprint("accounting", "plugins.accounting")


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
