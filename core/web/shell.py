"""The UI shell: page rendering (full page or htmx partial), menus, errors and flash messages."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask, current_app, make_response, render_template
from flask_htmx import HTMX
from flask_login import current_user
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from core.api.base import problem
from core.contrib import Action, MenuItem, Panel
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


#: A record page kind: ``<module>.<record>`` (``core.party``, ``accounting.invoice``, ``crm.opportunity``).
RECORD_KIND = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


@dataclass
class RecordExtras:
    """What the modules add to one record page for the current user: panels and action buttons."""

    kind: str
    panels: list[Panel]
    actions: list[Action]


def record_extras(kind: str, record) -> RecordExtras:
    """The panels and actions every module contributes to the page of ``record``, for the current user.

    Calls the ``record_panels`` and ``record_actions`` hooks once each, keeps what the current
    user holds the permission of (so no module needs to check it again), and sorts by ``order``
    then title. ``kind`` is namespaced by the module owning the page (``core.party``,
    ``accounting.invoice``, ``crm.opportunity``); anything else is a mistake in the page.
    """
    if not RECORD_KIND.match(kind or ""):
        raise ValueError(f"record kind {kind!r} must be '<module>.<record>', e.g. 'core.party'")
    user = current_user._get_current_object() if getattr(current_user, "is_authenticated", False) else None
    found = {}
    for hook_name in ("record_panels", "record_actions"):
        contributed = contributions(hook_name, kind=kind, record=record, user=user)
        found[hook_name] = [item for item in contributed if user is not None and has_permission(item.permission)]
    return RecordExtras(
        kind,
        panels=sorted(found["record_panels"], key=lambda p: (p.order, str(p.title))),
        actions=sorted(found["record_actions"], key=lambda a: (a.order, str(a.label))),
    )


def _extras_of(kind: str, record) -> RecordExtras:
    """:func:`record_extras`, asked once per request for a page that shows both panels and actions."""
    from flask import g

    cache = g.setdefault("kontor_record_extras", {})
    key = (kind, type(record).__name__, getattr(record, "id", id(record)))
    if key not in cache:
        cache[key] = record_extras(kind, record)
    return cache[key]


def record_panels(kind: str, record) -> Markup:
    """The modules' panels for the page of ``record`` (a Jinja global: ``{{ record_panels("crm.lead", lead) }}``)."""
    extras = _extras_of(kind, record)
    return Markup(render_template("core/_record_panels.html", panels=extras.panels, kind=kind, record=record))


def record_actions(kind: str, record) -> Markup:
    """The modules' action buttons for the page of ``record`` (a Jinja global, placed in the page head)."""
    extras = _extras_of(kind, record)
    return Markup(render_template("core/_record_actions.html", actions=extras.actions, kind=kind, record=record))


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
    app.jinja_env.globals.update(is_partial_request=is_partial_request, too_large_limit=too_large_limit,
                                 record_panels=record_panels, record_actions=record_actions)
    app.jinja_env.add_extension("jinja2.ext.do")
