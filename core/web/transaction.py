"""One unit of work per view or command, and the one answer to a refusal that escapes a page.

A view states its transaction once::

    values = form_values(request.form)
    with transaction(on_refusal=lambda exc: render_form(values, exc.as_errors(), 422)):
        opportunity = services.create_opportunity(db, values, actor)
    flash(...)
    return redirect(url_for(...), 303)

and an endpoint or CLI command without ``on_refusal``: ``with transaction(): services.post(db, …)``.
A :class:`~core.errors.KontorError` that escapes is answered by the app-wide handler
(:func:`refused_page` here for pages, :func:`core.api.base.problem_for` for the API) or, in a CLI
command, by :func:`cli_refusal`.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator, NoReturn
from urllib.parse import urlsplit

import click
from flask import abort, flash, has_request_context, make_response, redirect, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, default_exceptions

from core.api.base import problem_for, refusal_status
from core.db import session as request_session
from core.errors import KontorError
from core.security import is_api_request
from core.web.shell import is_partial_request, render


@contextmanager
def transaction(on_refusal: Callable[[KontorError], Any] | None = None, *,
                session: Session | None = None) -> Iterator[Session]:
    """Commit the block's work on success; roll it back on any exception.

    On a :class:`KontorError` (raised in the block or by the commit itself):

    - with ``on_refusal``, the request is answered with what ``on_refusal(exc)`` returns (any view
      return value: a page, ``(page, 422)``, a response), through ``abort``; a callable that raises
      (a CLI command's :func:`cli_refusal`) raises instead;
    - without it, the error goes on: to the app-wide mapping in a request (problem+json, a form's
      flash and 303, an htmx fragment), to :func:`cli_refusal` in a CLI command, to the caller
      elsewhere.

    Yields the session (the request's or CLI command's :data:`core.db.session` unless ``session``
    is given). Nested blocks are not savepoints: an inner block commits the whole session.
    """
    db = request_session if session is None else session
    try:
        yield db
        db.commit()
    except KontorError as exc:
        db.rollback()
        if on_refusal is not None:
            answer = on_refusal(exc)
            abort(make_response(answer))
        if not has_request_context() and click.get_current_context(silent=True) is not None:
            cli_refusal(exc)
        raise
    except BaseException:
        db.rollback()
        raise


def cli_refusal(exc: KontorError) -> NoReturn:
    """A CLI command's refusal: ``Error: <message>`` on stderr and exit status 1."""
    click.echo(f"Error: {exc.message}", err=True)
    raise SystemExit(1)


def redirect_to(url: str):
    """Where a page goes after a change: a 303 to ``url``, or for an htmx fragment request a 204
    whose ``HX-Redirect`` loads ``url`` as a whole page."""
    if is_partial_request():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def _same_site_referrer() -> str | None:
    """The page the request came from when it is on this site and not the request itself."""
    referrer = request.referrer or ""
    if not referrer:
        return None
    here, there = urlsplit(request.host_url), urlsplit(referrer)
    if (there.scheme, there.netloc) != (here.scheme, here.netloc):
        return None
    if there.path == request.path:
        return None  # the same address again would answer the same refusal
    return referrer


def _error_of(exc: KontorError, status: int) -> HTTPException:
    return default_exceptions.get(status, default_exceptions[400])(description=exc.message)


def refused_page(exc: KontorError):
    """The answer to a refusal no view handled, on a page (never a 500).

    - 403 and 404: the error page with that status, as ``abort`` gives;
    - an htmx fragment request: a 422 fragment with the message (htmx swaps a 422 in);
    - a form sent from a page of this site: the message flashed, and a 303 back to that page;
    - else (a GET, no referrer, another site's): the error page with the message, status 422
      (409, 429, 503 for those refusals).
    """
    request_session.rollback()
    status = refusal_status(exc)
    if status in (403, 404):
        return render("core/error.html", "core/_error.html", error=_error_of(exc, status)), status
    if is_partial_request():
        return render("core/_error.html", error=_error_of(exc, status)), 422
    back = _same_site_referrer() if request.method not in ("GET", "HEAD") else None
    if back:
        flash(exc.message, "error")
        return redirect(back, 303)
    return render("core/error.html", error=_error_of(exc, status)), status


def answer_refusal(exc: KontorError):
    """The app-wide handler of :class:`KontorError`: problem+json under ``/api/``, else :func:`refused_page`."""
    if is_api_request():
        request_session.rollback()
        return problem_for(exc)
    return refused_page(exc)
