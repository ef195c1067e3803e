"""Who is making the request: a session cookie for pages, a bearer token for the API."""
from __future__ import annotations

from flask import abort, current_app, g, request
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


def _requested_companies() -> list[int] | None:
    """The companies an API call names (``?company=2`` or ``?company=1,2``), or None."""
    raw = request.args.get("company", "").strip() if request.path.startswith("/api/") else ""
    if not raw:
        return None
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        abort_with_problem(422, "company", _l("Name companies by their ids, separated by commas."))
    return [int(part) for part in parts]


def abort_with_problem(status: int, field: str, message) -> None:
    from core.api.base import problem

    abort(problem(status, str(message), errors={field: [str(message)]}))


def _set_company_scope() -> None:
    """``before_request``: the companies this request works in (see :mod:`core.company.scope`)."""
    from flask_login import current_user

    from core.company.scope import CompanyScope, default_company_id, scope_for_user, set_scope

    if not current_app.extensions["kontor"].initialised:
        return
    requested = _requested_companies()
    if getattr(current_user, "is_authenticated", False):
        scope = scope_for_user(session, current_user, requested or ())
        if requested and set(requested) - set(scope.companies or ()):
            abort_with_problem(403, "company", _l("You do not work in every company named."))
    else:
        default = default_company_id(session)
        scope = CompanyScope(default, (default,))
    g.kontor_scope_token = set_scope(scope)


def _reset_actor(_exc=None) -> None:
    token = g.pop("kontor_actor_token", None)
    if token is not None:
        reset_actor(token)
    scope_token = g.pop("kontor_scope_token", None)
    if scope_token is not None:
        from core.company.scope import reset_scope

        reset_scope(scope_token)


def init_login(app, login_manager: LoginManager) -> None:
    """Wire Flask-Login: loaders, the login view, and the actor (:mod:`core.actor`) of each request."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user_from_session)
    login_manager.request_loader(lambda req: load_user_from_token(req) if req.path.startswith("/api/") else None)
    app.before_request(_set_actor)
    app.before_request(_set_company_scope)
    app.teardown_request(_note_token_use)
    app.teardown_request(_reset_actor)
