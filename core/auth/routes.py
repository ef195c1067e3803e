"""Signing in and out, and the user's own profile and API tokens."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from core.audit.recorder import Actor, set_actor
from core.auth import password_reset, services, tokens
from core.db import session as db
from core.errors import NotFound
from core.i18n import gettext as _
from core.security import public, signed_in
from core.web.shell import render
from core.web.transaction import transaction


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the dashboard (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("web.dashboard")


def _throttle_rule() -> services.ThrottleRule:
    """The login throttle of this instance (``LOGIN_MAX_FAILURES``, ``LOGIN_LOCK_SECONDS``)."""
    config = current_app.config
    return services.ThrottleRule(max_failures=config.get("LOGIN_MAX_FAILURES", 5),
                                 lock=timedelta(seconds=config.get("LOGIN_LOCK_SECONDS", 300)))


def create_blueprint() -> Blueprint:
    """The ``auth`` blueprint: login, logout, profile and personal API tokens."""
    bp = Blueprint("auth", __name__)

    @bp.route("/login", methods=["GET", "POST"])
    @public
    def login():
        errors: dict[str, list[str]] = {}
        username = request.form.get("username", "")
        if request.method == "POST":
            try:
                user = services.authenticate(db, username, request.form.get("password", ""),
                                             request.remote_addr or "", _throttle_rule())
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
        with transaction():
            services.sign_out(db, current_user._get_current_object())
        logout_user()
        session.clear()
        flash(_("You are signed out."), "success")
        return redirect(url_for("auth.login"))

    def _profile_page(errors=None, new_token=None, status=200):
        user = current_user._get_current_object()
        page = render("auth/profile.html", errors=errors or {}, tokens=tokens.tokens_of(db, user),
                      new_token=new_token, title=_("My profile"))
        return page, status

    @bp.route("/profile", methods=["GET", "POST"])
    @signed_in
    def profile():
        if request.method == "GET":
            return _profile_page()
        user = current_user._get_current_object()
        form = request.form
        with transaction(on_refusal=lambda exc: _profile_page(exc.as_errors(), status=422)):
            password_changed = services.update_own_profile(
                db, user, full_name=form.get("full_name", ""), email=form.get("email", ""),
                locale=form.get("locale", ""), current_password=form.get("current_password", ""),
                new_password=form.get("new_password", ""))
        if password_changed:
            login_user(user)  # the nonce changed: renew this session, the others end
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("auth.profile"))

    @bp.post("/profile/tokens")
    @signed_in
    def create_token():
        user = current_user._get_current_object()
        with transaction(on_refusal=lambda exc: _profile_page(exc.as_errors(), status=422)):
            token, secret = tokens.create_token(db, user, request.form.get("name", ""))
        # shown on this response only; never stored in the session or a flash message
        return _profile_page(new_token=(token, secret), status=201)

    @bp.post("/profile/tokens/<int:token_id>/revoke")
    @signed_in
    def revoke_token(token_id: int):
        def no_such_token(_exc: NotFound):
            return _profile_page({"_schema": [_("No such token.")]}, status=404)

        with transaction(on_refusal=no_such_token):
            token = tokens.token_of(db, current_user._get_current_object(), token_id)
            tokens.revoke_token(db, token)
        flash(_("The token %(name)s is revoked.", name=token.name), "success")
        return redirect(url_for("auth.profile"))

    @bp.route("/login/forgot", methods=["GET", "POST"])
    @public
    def forgot_password():
        identifier = request.form.get("identifier", "")
        if request.method == "GET":
            return render("auth/forgot.html", errors={}, identifier="", sent=False, title=_("Forgot password"))
        try:
            password_reset.request_reset(db, identifier, secret=current_app.config["SECRET_KEY"], link_for=_reset_link,
                                         address=request.remote_addr or "", rule=_reset_rule())
        except services.AuthError as exc:
            db.commit()  # keep the throttle's count and the audit record
            return render("auth/forgot.html", errors=exc.as_errors(), identifier=identifier, sent=False,
                          title=_("Forgot password")), exc.status
        db.commit()
        return render("auth/forgot.html", errors={}, identifier="", sent=True, title=_("Forgot password"))

    @bp.route("/login/reset/<token>", methods=["GET", "POST"])
    @public
    def reset_password(token: str):
        secret = current_app.config["SECRET_KEY"]

        def form(errors: dict, status: int = 200):
            return render("auth/reset.html", errors=errors, token=token, title=_("Choose a new password")), status

        if request.method == "GET":
            try:
                password_reset.user_of_token(db, secret, token)
            except services.AuthError as exc:
                return form(exc.as_errors(), exc.status)
            return form({})
        with transaction(on_refusal=lambda exc: form(exc.as_errors(), exc.status if exc.field == "token" else 422)):
            password_reset.reset_password_with_token(db, secret, token, request.form.get("password", ""),
                                                     request.form.get("confirm", ""))
        locale = session.get("locale")
        session.clear()  # whoever was signed in in this browser is not any more
        if locale:
            session["locale"] = locale
        flash(_("Your password is changed. Sign in with it."), "success")
        return redirect(url_for("auth.login"), 303)

    return bp


def _reset_link(token: str) -> str:
    """The address of a reset link: on the configured address of this Kontor when set, so that a
    forged Host header cannot point the link elsewhere."""
    from core.mail.settings import site_url

    base = site_url(db)
    path = url_for("auth.reset_password", token=token)
    return base + path if base else url_for("auth.reset_password", token=token, _external=True)


def _reset_rule() -> password_reset.ResetThrottle:
    config = current_app.config
    return password_reset.ResetThrottle(max_requests=config.get("LOGIN_MAX_FAILURES", 5),
                                        lock=timedelta(seconds=config.get("LOGIN_LOCK_SECONDS", 300)))
