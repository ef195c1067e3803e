"""The notification pages: the bell's count, the inbox (open one, mark read, mark all read) and the
settings, where each user chooses per kind how notifications reach them. Every user sees only their own."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from core.db import session as db
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.notifications import services
from core.notifications.registry import notification_kinds
from core.notifications.schemas import InboxQuerySchema
from core.security import signed_in
from core.web.shell import render
from core.web.transaction import redirect_to, transaction

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

#: What each channel is called on the settings page.
CHANNEL_LABELS = {
    "inapp": _l("In the app"),
    "email": _l("E-mail at once"),
    "digest": _l("Daily digest"),
}
#: Tells the bell (and anything else listening) to count again after a change.
CHANGED = "notifications-changed"
#: Notifications per page of the inbox.
PAGE = 30


def _user():
    return current_user._get_current_object()


@bp.get("/bell")
@signed_in
def bell():
    return render("notifications/_bell.html", count=services.unread_count(db, _user()), initial=False)


@bp.get("")
@signed_in
def inbox():
    user = _user()
    try:
        args = InboxQuerySchema().load({k: v for k, v in request.args.items() if k in ("unread", "before")})
    except ValidationError as exc:
        errors, status, args = exc.messages, 422, {"unread": False, "before": None}
        notes = []
    else:
        errors, status = {}, 200
        notes = services.inbox(db, user, unread=args["unread"], before=args["before"], limit=PAGE + 1)
    more, notes = len(notes) > PAGE, notes[:PAGE]
    html = render("notifications/inbox.html", "notifications/_inbox.html",
                  entries=[services.shown(db, user, n) for n in notes], more=more, unread=args["unread"],
                  errors=errors, unread_count=services.unread_count(db, user), title=_("Notifications"))
    return html, status


@bp.get("/<int:notification_id>/open")
@signed_in
def open_notification(notification_id: int):
    # Opening is reading: a plain link (it opens in a new tab too), marking only the reader's own.
    user = _user()
    with transaction():
        note = services.mark_read(db, user, notification_id)
        entry = services.shown(db, user, note)
    target = entry["url"]
    if not target or not target.startswith("/") or target.startswith("//"):
        target = url_for("notifications.inbox")
    return redirect(target, 303)


@bp.post("/<int:notification_id>/read")
@signed_in
def mark_read(notification_id: int):
    user = _user()
    with transaction():
        note = services.mark_read(db, user, notification_id)
    if request.headers.get("HX-Request"):
        response = render_entry(services.shown(db, user, note))
        return response, 200, {"HX-Trigger": CHANGED}
    return redirect_to(request.referrer if _local(request.referrer) else url_for("notifications.inbox"))


def render_entry(entry: dict) -> str:
    """One notification of the inbox (the fragment an htmx "mark read" swaps in)."""
    return render("notifications/_entry.html", entry=entry)


def _local(url: str | None) -> bool:
    if not url:
        return False
    return url.startswith(request.host_url) or (url.startswith("/") and not url.startswith("//"))


@bp.post("/read-all")
@signed_in
def mark_all_read():
    with transaction():
        count = services.mark_all_read(db, _user())
    flash(_("Marked %(count)s notifications read.", count=count) if count else _("Nothing was unread."), "success")
    return redirect_to(url_for("notifications.inbox"))


@bp.route("/settings", methods=["GET", "POST"])
@signed_in
def settings():
    user = _user()
    if request.method == "GET":
        return _settings_page(services.choices(db, user))
    wanted = {kind: request.form[kind] for kind in notification_kinds() if kind in request.form}
    with transaction(on_refusal=lambda exc: _settings_page({**services.choices(db, user), **wanted},
                                                             exc.as_errors(), 422)):
        services.save_choices(db, user, wanted)
    flash(_("Your notification settings are saved."), "success")
    return redirect_to(url_for("notifications.settings"))


def _settings_page(chosen: dict, errors: dict | None = None, status: int = 200):
    kinds = notification_kinds()
    titles = {name: str(kind.title) for name, kind in kinds.items()}
    rows = [(name, titles[name], chosen.get(name)) for name in sorted(kinds, key=titles.get)]
    return render("notifications/settings.html", rows=rows, channels=CHANNEL_LABELS, errors=errors or {},
                  title=_("Notification settings")), status
