"""A form view and an API endpoint that create a party and then refuse, one typed error per ``kind``."""
from flask import Blueprint, request
from markupsafe import escape

from core import (ApiBlueprint, Conflict, Forbidden, InvalidInput, KontorError, Manifest, NotFound, Permission,
                  Unavailable, create_party, hookimpl, json_object, json_response, require, session as db,
                  transaction)

manifest = Manifest(name="refusals", title="Refusals", version="1.0.0", summary="Raises each typed error.",
                    author="Kontor", license="MIT", category="Testing")

REFUSALS = {
    "invalid": lambda: InvalidInput("Give a shorter name.", field="name"),
    "conflict": lambda: Conflict("The party is already closed."),
    "notfound": lambda: NotFound("No such party."),
    "forbidden": lambda: Forbidden("You may not change this party."),
    "unavailable": lambda: Unavailable("The mail server cannot be reached."),
    "legacy": lambda: KontorError("Old style refusal.", field="name", status=422),
}


def _create_then(kind: str, name: str):
    """Write a party, then refuse (or crash) as ``kind`` says: nothing may be left behind."""
    party = create_party(db, {"name": name, "kind": "company"})
    db.flush()
    if kind == "crash":
        raise RuntimeError("a bug halfway through")
    if kind in REFUSALS:
        raise REFUSALS[kind]()
    return party


def _form(name: str, errors: dict, status: int = 200):
    error = "".join(f'<span class="error" data-field="{escape(field)}">{escape(" ".join(messages))}</span>'
                    for field, messages in errors.items())
    return f'<form method="post"><input name="name" value="{escape(name)}">{error}</form>', status


def create_blueprint() -> Blueprint:
    bp = Blueprint("refusals", __name__, url_prefix="/refusals")

    @bp.post("/<kind>")
    @require("refusals.party.write")
    def refuse(kind: str):
        name = request.form.get("name", "")
        on_refusal = (lambda exc: _form(name, exc.as_errors(), 422)) if request.form.get("inline") else None
        with transaction(on_refusal=on_refusal):
            party = _create_then(kind, name)
        return f"created {party.id}", 201

    return bp


def create_api() -> Blueprint:
    api = ApiBlueprint("refusals", __name__)

    @api.post("/<kind>")
    @require("refusals.party.write")
    def refuse(kind: str):
        with transaction():
            party = _create_then(kind, json_object().get("name", ""))
        return json_response({"id": party.id}, 201)

    return api


@hookimpl
def register_blueprints():
    return [create_blueprint()]


@hookimpl
def register_api():
    return [create_api()]


@hookimpl
def register_permissions():
    return [Permission("refusals.party.write", "Try refusals", ("admin",))]
