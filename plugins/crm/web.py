"""The CRM's one blueprint of pages and one of endpoints, and small helpers its pages share.

Every area's ``routes.py`` decorates top-level view functions on :data:`bp` (pages under ``/crm``)
and its ``api.py`` on :data:`api` (endpoints under ``/api/v1/crm``); ``plugins/crm/plugin.py``
imports them and registers both blueprints.
"""
from __future__ import annotations


from flask import Blueprint, flash
from sqlalchemy import select

from core import ApiBlueprint, KontorError, redirect_to

#: The CRM's pages, under /crm (endpoints crm.<name>); templates and static files are the module's.
bp = Blueprint("crm", "plugins.crm", url_prefix="/crm", template_folder="templates", static_folder="static",
               static_url_path="/static")
#: The CRM's JSON endpoints, under /api/v1/crm (endpoints api_crm.<name>).
api = ApiBlueprint("crm", "plugins.crm")


def user_tz() -> str:
    """The time zone the user types times in."""
    try:
        from flask_babel import get_timezone

        return str(get_timezone())
    except Exception:  # outside a request Babel has no zone
        return "UTC"


def party_options(db, selected=None, q: str = "", limit: int = 30) -> list[tuple[str, str]]:
    """Options for a customer picker: parties matching ``q`` (and the selected one first)."""
    from plugins.crm.pipeline.services import party_model

    Party = party_model()
    query = select(Party).where(Party.active.is_(True))
    if q.strip():  # the core's own search column: name, email, VAT id and city, casefolded
        query = query.where(Party.search_text.contains(q.strip().casefold(), autoescape=True))
    parties = list(db.execute(query.order_by(Party.name_key, Party.id).limit(limit)).scalars())
    options = [(str(p.id), p.name) for p in parties]
    if selected not in (None, ""):
        try:
            chosen = db.get(Party, int(selected))
        except (TypeError, ValueError):
            chosen = None
        if chosen is not None and str(chosen.id) not in {value for value, _label in options}:
            options.insert(0, (str(chosen.id), chosen.name))
    return [("", "—")] + options


def flashed_back(url: str):
    """The answer to a refused button on a page (an ``on_refusal`` for :func:`core.transaction`):
    the reason flashed, and the browser sent to ``url`` (a 303, or an HX-Redirect for htmx)."""
    def answer(exc: KontorError):
        flash(exc.message, "error")
        return redirect_to(url)
    return answer
