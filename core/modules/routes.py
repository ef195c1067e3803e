"""The modules page under /admin/modules: the list with its acts, and the quarantined plugins."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for

from core.i18n import gettext as _
from core.modules import archive as archives
from core.modules import lifecycle
from core.filestore.download import send_stored
from core.security import require
from core.web.shell import is_partial_request, render
from core.web.transaction import transaction


def _done_message(action: str, name: str, result) -> str:
    if action == "purge":
        return _("Purged %(name)s; its rows are archived in %(files)s.", name=name,
                 files=", ".join(archives.archive_name(key) for key in result))
    names = ", ".join(result)
    return {
        "install": _("Installed: %(names)s.", names=names),
        "disable": _("Disabled: %(names)s.", names=names),
        "enable": _("Enabled: %(names)s.", names=names),
        "upgrade": _("Upgraded: %(names)s.", names=names),
    }[action]


def _page(error: str | None = None, status: int = 200):
    statuses = lifecycle.module_status(lifecycle.context_from_app(current_app))
    return render("modules/index.html", "modules/_table.html", modules=statuses, error=error,
                  quarantined=[s for s in statuses if s.state == "quarantined"], title=_("Modules"),
                  archives=archives.list_archives(lifecycle.context_from_app(current_app).storage)), status


def create_blueprint() -> Blueprint:
    """The ``modules`` blueprint (made anew for every app build)."""
    bp = Blueprint("modules", __name__, url_prefix="/admin/modules")

    @bp.get("/")
    @require("core.module.read")
    def index():
        return _page()

    @bp.get("/archives/<name>")
    @require("core.module.manage")
    def archive_download(name: str):
        """An archive a purge wrote, from the storage service (whichever host wrote it)."""
        if not archives.NAME.match(name):
            abort(404)
        store = lifecycle.context_from_app(current_app).storage
        key = archives.archive_key(name)
        if not store.exists(key):
            abort(404)
        return send_stored(store, key, name, "application/zip", store.size(key))

    @bp.post("/<name>/<action>")
    @require("core.module.manage")
    def act(name: str, action: str):
        if action not in lifecycle.ACTS:
            abort(404)
        options = {"disable": {"cascade": request.form.get("cascade") == "1"},
                   "purge": {"force": request.form.get("force_lose_records") == "1"}}.get(action, {})
        if action == "purge" and request.form.get("confirm_name", "").strip() != name:
            # the danger confirm asks for the module's name: a form sent without it purges nothing
            error = _("Type %(name)s to confirm the purge.", name=name)
            return _page(error, 200 if is_partial_request() else 422)
        # htmx swaps only successful answers: the table comes back with the error in it
        with transaction(on_refusal=lambda exc: _page(exc.message, 200 if is_partial_request() else exc.status)):
            result = lifecycle.ACTS[action](lifecycle.context_from_app(current_app), [name], **options)
        flash(_done_message(action, name, result), "success")
        if request.headers.get("HX-Request"):
            # the menu changes with the module set: the whole page is loaded anew
            return "", 204, {"HX-Refresh": "true"}
        return redirect(url_for("modules.index"))

    return bp
