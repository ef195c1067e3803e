"""The UI shell: page rendering (full page or htmx partial), menus, errors and flash messages."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, make_response, render_template
from flask_htmx import HTMX
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from core.api.base import problem
from core.contrib import MenuItem
from core.db import session
from core.i18n import gettext
from core.plugins import flatten
from core.security import has_permission, is_api_request

@dataclass
class MenuGroup:
    """A section of the menu as shown: its key, title and the items the user may open."""

    key: str
    title: str
    items: list[MenuItem]


def is_partial_request() -> bool:
    """Whether htmx asked for a fragment (not a boosted full-page navigation)."""
    htmx: HTMX = current_app.htmx
    return bool(htmx) and not htmx.boosted


def render(template: str, partial: str | None = None, **context) -> str:
    """Render ``template``; for an htmx request, only ``partial`` (the fragment it includes)."""
    if partial and is_partial_request():
        return render_template(partial, **context)
    return render_template(template, **context)


def menu_for_user() -> list[MenuGroup]:
    """The menu of the enabled modules, filtered by the current user's permissions.

    Sections come in the ``order`` of the :class:`~core.contrib.MenuSection` the modules
    register; items in a section nobody registers come last, titled after its key.
    """
    kontor = current_app.extensions["kontor"]
    visible = [item for item in kontor.menu_items if has_permission(item.permission)]
    by_section: dict[str, list[MenuItem]] = {}
    for item in visible:
        by_section.setdefault(item.section, []).append(item)
    sections = kontor.menu_sections
    order = sorted(set(by_section), key=lambda key: (key not in sections, sections[key].order if key in sections else 0,
                                                    key))
    return [MenuGroup(key, str(sections[key].title) if key in sections else key.title(), by_section[key])
            for key in order]


def contributions(hook_name: str, **kwargs) -> list:
    """What every active plugin returns from a UI hook, in a flat list.

    A plugin whose hook raises is logged and left out, so one broken panel or widget never takes
    a page down with it.
    """
    hook = getattr(current_app.extensions["kontor"].pm.hook, hook_name)
    found: list = []
    for impl in reversed(hook.get_hookimpls()):
        try:
            result = impl.function(**{name: kwargs[name] for name in impl.argnames if name in kwargs})
        except Exception:
            current_app.logger.exception("%s failed in %s", impl.plugin_name, hook_name)
            continue
        found.extend(flatten([result]))
    return found


#: The challenge of a 401 from the API: a personal token as a bearer token.
API_CHALLENGE = 'Bearer realm="kontor"'


def _with_headers(response, exc: HTTPException):
    """``response`` with the headers the HTTP error carries (``Allow`` on a 405, ``WWW-Authenticate``
    on a 401, ``Retry-After``), which a replaced body must not lose."""
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if exc.code == 401 and is_api_request() and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = API_CHALLENGE
    return response


def too_large_limit() -> str:
    """The largest request the server accepts (``MAX_CONTENT_LENGTH``), for people: "16 MiB"."""
    size = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} B"


def _error_page(exc: HTTPException):
    if is_api_request():
        detail = exc.description or ""
        if exc.code == 413:
            detail = gettext("The request is larger than %(size)s, the most this server accepts.",
                             size=too_large_limit())
        return _with_headers(problem(exc.code or 500, exc.name, detail), exc)
    if exc.code in (400, 401, 403, 404, 405, 413, 422, 429):
        page = render("core/error.html", "core/_error.html", error=exc)
        return _with_headers(make_response(page, exc.code), exc)
    return exc


def _server_error(exc: Exception):
    if isinstance(exc, HTTPException):
        return _error_page(exc)
    session.rollback()
    current_app.logger.exception("unhandled error")
    if is_api_request():
        return problem(500, "Internal Server Error", "The request failed and changed nothing.")
    return render_template("core/error.html", error=None), 500


def _shell_context() -> dict:
    if not getattr(current_user, "is_authenticated", False):
        return {"menu": [], "has_permission": has_permission}
    return {"menu": menu_for_user(), "has_permission": has_permission}


def init_shell(app: Flask) -> None:
    """Install the shell's context processor and error pages (the app factory adds the handler of
    refusals, :func:`core.web.transaction.answer_refusal`, which builds on this module)."""
    app.context_processor(_shell_context)
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(Exception, _server_error)
    app.jinja_env.globals.update(is_partial_request=is_partial_request, too_large_limit=too_large_limit)
    app.jinja_env.add_extension("jinja2.ext.do")
