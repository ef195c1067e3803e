"""Deny by default: every view declares the permission it needs, and one check enforces it."""
from __future__ import annotations

from typing import Callable

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core.actor import current_actor

PUBLIC = "@public"
SIGNED_IN = "@signed-in"


def require(permission: str) -> Callable:
    """Declare that a view needs ``permission`` (``<module>.<object>.<action>``)."""

    def decorate(view):
        view.kontor_permission = permission
        return view

    return decorate


def public(view):
    """Declare that a view is open to everyone, signed in or not (login page, health check)."""
    view.kontor_permission = PUBLIC
    return view


def cross_site(view):
    """Declare a public view that accepts forms posted from other sites, without a CSRF token.

    For endpoints a company's own website posts to (a web-to-lead form) or that a link in an
    e-mail confirms (unsubscribe with a signed token). Only for :func:`public` views, which act
    for no signed-in user; the view must authorise the request itself.
    """
    view.kontor_cross_site = True
    return view


def signed_in(view):
    """Declare that a view is open to every signed-in user (dashboard, own profile)."""
    view.kontor_permission = SIGNED_IN
    return view


def declared_permission(endpoint: str) -> str | None:
    """The permission the view behind ``endpoint`` declared, or None."""
    if endpoint == "static" or endpoint.endswith(".static"):
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "kontor_permission", None)


def user_permissions(user) -> frozenset[str]:
    """The permissions ``user`` holds in the current company, among those the running app knows:
    through the roles they hold in all their companies and those granted in this company only."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    from core.company.scope import current_company_id
    from core.db import session

    company = current_company_id(session)
    cache = g.setdefault("kontor_permission_cache", {})
    key = (user.id, company)
    if key not in cache:
        from core.auth.models import RoleGrant, user_roles
        from core.company.models import company_user_roles

        everywhere = select(user_roles.c.role_id).where(user_roles.c.user_id == user.id)
        here = select(company_user_roles.c.role_id).where(company_user_roles.c.user_id == user.id,
                                                          company_user_roles.c.company_id == company)
        rows = session.execute(
            select(RoleGrant.permission).where(RoleGrant.role_id.in_(everywhere.union(here)))
            .execution_options(kontor_unscoped=True)  # record rules ask for permissions: no rule applies here
        ).scalars()
        known = current_app.extensions["kontor"].permissions
        cache[key] = frozenset(name for name in rows if name in known)
    return cache[key]


def has_permission(permission: str, user=None) -> bool:
    """Whether ``user`` holds ``permission``; without ``user``, whether the current actor does
    (:func:`core.current_actor`: the request's signed-in user, or the user of :func:`core.acting_as`
    in a command or job; the system, acting for nobody, holds none)."""
    user = current_actor() if user is None else user
    if permission == PUBLIC:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if permission == SIGNED_IN:
        return True
    return permission in user_permissions(user)


def is_api_request() -> bool:
    """Whether the current request is for the JSON API."""
    return request.path.startswith("/api/")


def enforce_declared_permission():
    """``before_request``: refuse any view without a declared permission, or without the right."""
    if request.endpoint is None:
        return None  # no route: Flask answers 404 or 405
    permission = declared_permission(request.endpoint)
    if permission is None:
        current_app.logger.error("view %s declares no permission; refused", request.endpoint)
        abort(403)
    if permission == PUBLIC:
        return None
    if not current_user.is_authenticated:
        if is_api_request():
            abort(401)
        return _to_login()
    if not has_permission(permission):
        abort(403)
    return None


def _to_login():
    """Send a signed-out visitor to the login page; an htmx request reloads the whole page there
    (``HX-Redirect``) instead of swapping the login form into a fragment."""
    login = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.headers.get("HX-Request") == "true":
        return current_app.response_class(status=204, headers={"HX-Redirect": login})
    return redirect(login)


def check(permission: str) -> None:
    """Abort with 403 unless the current user holds ``permission`` (for checks inside a view)."""
    if not has_permission(permission):
        abort(403)



#: The Content-Security-Policy of every page. Scripts come only from this site's files (no inline
#: scripts or event handlers); inline styles stay allowed, as htmx injects its indicator styles and
#: pages carry a few ``style`` attributes; no page may be framed.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
#: Two years, as the HSTS preload list asks; sent only on requests that came over HTTPS.
HSTS = "max-age=63072000; includeSubDomains"


def add_security_headers(response):
    """``after_request``: the security headers of every answer, set once here for every module.

    Pages and API answers are never cached (they show one user's data); the site's static files
    keep the caching Flask gives them. HSTS is sent only when the request came over HTTPS
    (``request.is_secure``, which trusts ``X-Forwarded-Proto`` only with ``KONTOR_PROXY_FIX``).
    """
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    endpoint = request.endpoint or ""
    if not (endpoint == "static" or endpoint.endswith(".static")):
        headers["Cache-Control"] = "no-store"
    return response
