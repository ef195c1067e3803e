"""Signing in and out, and the user's own profile."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from core.audit.recorder import Actor, record_event, set_actor
from core.auth import services
from core.db import session as db
from core.i18n import gettext as _
from core.security import public, signed_in
from core.web.shell import render


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.dashboard")


def create_blueprint() -> Blueprint:
    """The ``auth`` blueprint: login, logout, profile."""
    bp = Blueprint("auth", __name__)

    @bp.route("/login", methods=["GET", "POST"])
    @public
    def login():
        errors: dict[str, list[str]] = {}
        username = request.form.get("username", "")
        if request.method == "POST":
            try:
                user = services.authenticate(db, username, request.form.get("password", ""), request.remote_addr or "")
            except services.AuthError as exc:
                db.commit()  # keep the audit record and the throttle count of the failure
                errors = exc.as_errors()
                return render("auth/login.html", errors=errors, username=username), exc.status
            db.commit()
            locale = session.get("locale")
            session.clear()  # a new session for the signed-in user: nothing carries over
            if locale:
                session["locale"] = locale
            login_user(user)
            set_actor(Actor(user.id, user.username, f"{request.method} {request.path}"))
            return redirect(_safe_next(request.args.get("next")))
        return render("auth/login.html", errors=errors, username=username)

    @bp.post("/logout")
    @signed_in
    def logout():
        record_event(db, "logout", table_name="core_user", record_id=current_user.id)
        db.commit()
        logout_user()
        session.clear()
        flash(_("You are signed out."), "success")
        return redirect(url_for("auth.login"))

    @bp.route("/profile", methods=["GET", "POST"])
    @signed_in
    def profile():
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            user = current_user._get_current_object()
            user.full_name = request.form.get("full_name", "").strip()[:200]
            user.email = request.form.get("email", "").strip()[:254]
            new_password = request.form.get("new_password", "")
            try:
                if new_password:
                    from core.auth.passwords import verify_password

                    if not verify_password(user.password_hash, request.form.get("current_password", "")):
                        raise services.AuthError(_("The current password is wrong."), field="current_password")
                    services.set_password(db, user, new_password)
                locale = request.form.get("locale", "")
                from core.config import LANGUAGES

                if locale in LANGUAGES:
                    user.locale = locale
                db.commit()
            except services.AuthError as exc:
                db.rollback()
                errors = exc.as_errors()
            else:
                if new_password:
                    login_user(user)  # the nonce changed: renew this session, others end
                flash(_("Your profile is saved."), "success")
                return redirect(url_for("auth.profile"))
        return render("auth/profile.html", errors=errors)

    return bp
