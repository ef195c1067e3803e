"""The pages of everyhook."""
from flask import Blueprint, redirect, request, url_for

from core import render, require, session
from everyhook.services import add_thing, all_things


def create_blueprint() -> Blueprint:
    """The ``everyhook`` blueprint."""
    bp = Blueprint("everyhook", __name__, url_prefix="/everyhook", template_folder="templates")

    @bp.get("/")
    @require("everyhook.thing.read")
    def index():
        return render("everyhook/index.html", things=all_things(session))

    @bp.post("/give/<int:party_id>")
    @require("everyhook.thing.write")
    def give(party_id):
        add_thing(session, request.form.get("name") or "a gift", party_id)
        session.commit()
        return redirect(url_for("everyhook.index"))

    return bp
