"""The pages of everyhook: top-level views on one module-level blueprint that every app shares."""
from flask import Blueprint, redirect, request, url_for

from core import cross_site, public, render, require, session
from everyhook.services import add_thing, all_things

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


@bp.post("/suggest")
@public
@cross_site
def suggest():
    """A form another site posts to: no session, no CSRF token."""
    add_thing(session, "suggested: " + (request.form.get("name") or "?"), None)
    session.commit()
    return "thanks", 201


@bp.post("/public-but-same-site")
@public
def same_site():
    return "accepted", 200
