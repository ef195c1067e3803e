"""Hello's page: the greetings and a form to add one."""
from flask import Blueprint, redirect, request, url_for

from core import KontorError, has_permission, render, require, session

from kontor_hello import services
from kontor_hello.permissions import READ, WRITE


def create_blueprint():
    """The ``hello`` blueprint (made anew for every app build)."""
    bp = Blueprint("hello", __name__, url_prefix="/hello", template_folder="templates")

    def page(errors=None, form=None, status=200):
        html = render("hello/index.html", "hello/_greetings.html", greetings=services.list_greetings(session),
                      language_options=[(code, code) for code in services.LANGUAGES], errors=errors or {},
                      form=form or {}, can_write=has_permission(WRITE))
        return html, status

    @bp.get("/")
    @require(READ)
    def index():
        return page()

    @bp.post("/")
    @require(WRITE)
    def add():
        form = {"text": request.form.get("text", ""), "language": request.form.get("language", "")}
        try:
            services.add_greeting(session, form["text"], form["language"])
        except KontorError as exc:
            session.rollback()
            return page(exc.as_errors(), form, 422)
        session.commit()
        if request.headers.get("HX-Request"):
            return page()
        return redirect(url_for("hello.index"))

    return bp
