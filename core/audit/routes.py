"""The audit log's pages: search with filters, a record's history, and the history panel."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask import Blueprint, current_app, request
from marshmallow import ValidationError

from core.audit import services
from core.audit.schemas import AuditQuerySchema
from core.db import session as db
from core.i18n import date_, datetime_
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.security import require
from core.web.listing import Page
from core.web.shell import render

#: Labels of the actions the core writes; others (module events) are shown as they are.
ACTION_LABELS = {
    "insert": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "login": _l("Signed in"),
    "login.failed": _l("Failed sign-in"),
    "login.locked": _l("Sign-in locked"),
    "logout": _l("Signed out"),
}

#: How many changes the history panel of a record page shows.
PANEL_SIZE = 5


def action_label(action: str) -> str:
    """The user-facing name of an audit action."""
    label = ACTION_LABELS.get(action)
    return str(label) if label else action


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?)?$")


def show_value(value: Any) -> str:
    """A before or after value of a change as the user reads it (dates in their locale)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            moment = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
        return datetime_(moment) if isinstance(moment, datetime) else date_(moment)
    return str(value)


def _empty_page(filters: dict[str, str]) -> Page:
    return Page(rows=[], next_cursor=None, sort="-seq", filters=filters)


def create_blueprint() -> Blueprint:
    """The ``audit`` blueprint under ``/audit`` (made anew for every app build)."""
    bp = Blueprint("audit", __name__, url_prefix="/audit")

    @bp.get("/widget")
    @require("core.audit.read")
    def widget():
        page = services.list_records(db, services.AuditFilters(), limit=8)
        return render("audit/_widget.html", records=page.rows)

    @bp.get("")
    @require("core.audit.read")
    def audit_list():
        raw = {k: v for k, v in request.args.items() if k in AuditQuerySchema().fields}
        try:
            args = AuditQuerySchema().load(raw)
        except ValidationError as exc:
            errors, status = exc.messages, 422
            page = _empty_page({k: v for k, v in raw.items() if k not in ("after", "limit", "sort")})
        else:
            errors, status = {}, 200
            page = services.list_records(db, args["filters"], after=args["after"],
                                         limit=current_app.config["PAGE_SIZE"])
        modules = sorted({"core", *current_app.extensions["kontor"].active_names})
        html = render("audit/list.html", "audit/_list.html", page=page, errors=errors, modules=modules,
                      actions=sorted(ACTION_LABELS), title=_("Audit log"))
        return html, status

    @bp.get("/record/<table_name>/<path:record_id>")
    @require("core.audit.read")
    def record_history(table_name: str, record_id: str):
        page = services.record_history(db, table_name, record_id, after=request.args.get("after"),
                                       limit=current_app.config["PAGE_SIZE"])
        return render("audit/history.html", "audit/_history.html", page=page, table_name=table_name,
                      record_id=record_id, title=_("History of %(table)s %(id)s", table=table_name, id=record_id))

    @bp.get("/panel/<table_name>/<path:record_id>")
    @require("core.audit.read")
    def record_panel(table_name: str, record_id: str):
        page = services.record_history(db, table_name, record_id, limit=PANEL_SIZE)
        return render("audit/_panel.html", page=page, table_name=table_name, record_id=record_id)

    return bp
