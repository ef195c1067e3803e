"""The shell's own pages: the dashboard, the language switch and the health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user

from core.config import LANGUAGES
from core.security import has_permission, public, signed_in
from core.web.shell import contributions, render
from core.web.transaction import transaction


def create_blueprint() -> Blueprint:
    """The ``web`` blueprint (made anew for every app build)."""
    bp = Blueprint("web", __name__)

    @bp.get("/")
    @public
    def index():
        if current_user.is_authenticated:
            return redirect(url_for("web.dashboard"))
        return redirect(url_for("auth.login"))

    @bp.get("/dashboard")
    @signed_in
    def dashboard():
        widgets = [w for w in contributions("dashboard_widgets", user=current_user) if has_permission(w.permission)]
        widgets.sort(key=lambda w: (w.order, str(w.title)))
        return render("core/dashboard.html", widgets=widgets, title="Dashboard")

    @bp.post("/language")
    @public
    def set_language():
        code = request.form.get("locale", "")
        if code in LANGUAGES:
            session["locale"] = code
            if current_user.is_authenticated:
                with transaction():
                    current_user.locale = code
        target = request.form.get("next") or request.referrer or url_for("web.index")
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("web.index")
        return redirect(target)

    @bp.get("/health")
    @public
    def health():
        return jsonify(status="ok", revision=current_app.extensions["kontor"].revision)

    return bp
