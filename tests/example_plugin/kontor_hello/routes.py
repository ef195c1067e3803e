"""Hello's page: the greetings and a form to add one."""
from flask import Blueprint, request, url_for

from core import has_permission, redirect_to, render, require, session, transaction

from kontor_hello import services
from kontor_hello.permissions import READ, WRITE

bp = Blueprint("hello", __name__, url_prefix="/hello", template_folder="templates")


def _page(errors=None, form=None, status=200):
    """The page (or, for an htmx request, its greetings partial) with the add form."""
    html = render("hello/index.html", "hello/_greetings.html", greetings=services.list_greetings(session),
                  language_options=[(code, code) for code in services.LANGUAGES], errors=errors or {},
                  form=form or {}, can_write=has_permission(WRITE))
    return html, status


@bp.get("/")
@require(READ)
def index():
    return _page()


@bp.post("/")
@require(WRITE)
def add():
    form = {"text": request.form.get("text", ""), "language": request.form.get("language", "")}
    with transaction(on_refusal=lambda exc: _page(exc.as_errors(), form, 422)):
        services.add_greeting(session, form["text"], form["language"])
    if request.headers.get("HX-Request"):
        return _page()  # the form swaps the greetings in place
    return redirect_to(url_for("hello.index"))
