"""Accounting's one blueprint of pages and one of JSON endpoints, shared by its areas.

Each area's ``routes.py`` and ``api.py`` decorate top-level view functions on :data:`bp` and
:data:`api`; ``plugins/accounting/plugin.py`` imports them and returns the blueprints. Both are
made once per process: Flask registers one blueprint object on any number of apps. Beside them,
the parsing of what a person types in a form that several areas share.
"""
from __future__ import annotations

from datetime import date as Date

from flask import Blueprint, current_app, url_for

from core import ApiBlueprint, has_permission, parse_amount  # noqa: F401  (the areas' forms read amounts through here)

from plugins.accounting.permissions import ENTRY_READ

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


def entry_url(entry_id: int | None) -> str | None:
    """The page of a journal entry, for a link from another page; None when there is no entry or the user
    may not see entries."""
    if not entry_id or "accounting.entry" not in current_app.view_functions or not has_permission(ENTRY_READ):
        return None
    return url_for("accounting.entry", entry_id=entry_id)
