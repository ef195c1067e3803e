"""The marketplace section of the modules page: the catalog, with an Install button per module."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for

from core.errors import KontorError
from core.i18n import gettext as _
from core.modules import marketplace
from core.modules.registry import read_state
from core.security import require
from core.web.shell import is_partial_request, render
from core.web.transaction import transaction


def _section(error: str | None = None, status: int = 200):
    kontor = current_app.extensions["kontor"]
    location = current_app.config["MARKETPLACE"]
    catalog, catalog_error = [], None
    if location:
        try:
            catalog = marketplace.load_catalog(location)
        except KontorError as exc:  # recovers: the page shows why the catalog is missing, and the rest
            catalog_error = exc.message
    installed = read_state(kontor.engine)[1]
    page = render("modules/marketplace.html", "modules/_marketplace.html", catalog=catalog, configured=bool(location),
                  catalog_error=catalog_error, error=error, installed=installed, title=_("Marketplace"))
    return page, status


def create_blueprint() -> Blueprint:
    """The ``marketplace`` blueprint (made anew for every app build)."""
    bp = Blueprint("marketplace", __name__, url_prefix="/admin/marketplace")

    @bp.get("/")
    @require("core.module.read")
    def catalog():
        return _section()

    @bp.post("/<name>")
    @require("core.module.manage")
    def install(name):
        # htmx swaps only successful answers: the section comes back with the error in it
        with transaction(on_refusal=lambda exc: _section(exc.message, 200 if is_partial_request() else exc.status)):
            installed = marketplace.install_from_app(current_app, name)
        flash(_("Installed: %(names)s.", names=", ".join(installed)), "success")
        if request.headers.get("HX-Request"):
            # the menu and the module list change too: show the whole page anew
            return "", 204, {"HX-Refresh": "true"}
        return redirect(url_for("modules.index"))

    return bp
