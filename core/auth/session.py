"""Who is making the request: a session cookie for pages, a bearer token for the API."""
from __future__ import annotations

from flask import current_app, g, request
from flask_login import LoginManager

from core.actor import reset_actor, set_actor
from core.db import close_request_session, session
from core.i18n import lazy_gettext as _l


def load_user_from_session(user_id: str):
    """Flask-Login's loader: ``"<id>:<nonce>"``; a changed nonce or deactivation ends the session.

    The API ignores the session cookie: its endpoints take no CSRF token, so only a bearer token
    may authenticate them.
    """
    from core.auth.models import User

    if request.path.startswith("/api/"):
        return None
    uid, _, nonce = user_id.partition(":")
    if not uid.isdigit() or not nonce:
        return None
    user = session.get(User, int(uid))
    if user is None or not user.active or user.session_nonce != nonce:
        return None
    return user


def load_user_from_token(req):
    """Flask-Login's request loader: ``Authorization: Bearer <token>`` on API requests."""
    from core.auth.tokens import is_use_worth_noting, valid_token

    header = req.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    token = valid_token(session, secret.strip())
    if token is None:
        return None
    if is_use_worth_noting(token):
        g.kontor_token_used = token.id
    return token.user


def _note_token_use(_exc=None) -> None:
    token_id = g.pop("kontor_token_used", None)
    if token_id is not None:
        from core.auth.tokens import note_use

        close_request_session()  # end the request's transaction before writing in another
        note_use(current_app.extensions["kontor"].engine, token_id)


def _set_actor() -> None:
    """``before_request``: the signed-in user (by session or token) acts for this request."""
    from flask_login import current_user

    user = current_user._get_current_object() if getattr(current_user, "is_authenticated", False) else None
    g.kontor_actor_token = set_actor(user, f"{request.method} {request.path}")


def _reset_actor(_exc=None) -> None:
    token = g.pop("kontor_actor_token", None)
    if token is not None:
        reset_actor(token)


def init_login(app, login_manager: LoginManager) -> None:
    """Wire Flask-Login: loaders, the login view, and the actor (:mod:`core.actor`) of each request."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user_from_session)
    login_manager.request_loader(lambda req: load_user_from_token(req) if req.path.startswith("/api/") else None)
    app.before_request(_set_actor)
    app.teardown_request(_note_token_use)
    app.teardown_request(_reset_actor)
