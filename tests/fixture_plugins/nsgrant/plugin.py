"""Its own route, permission and role; its role also reads parties (the core's core.party.read)."""
from flask import Blueprint

from core import Manifest, Permission, Role, hookimpl, require

manifest = Manifest(name="nsgrant", title="Namespace grant", version="1.0.0",
                    summary="Grants a core permission to its own role.", category="Testing")


def create_blueprint() -> Blueprint:
    bp = Blueprint("nsgrant", __name__, url_prefix="/nsgrant")

    @bp.get("/")
    @require("nsgrant.thing.read")
    def index():
        return "nsgrant"

    return bp


@hookimpl
def register_blueprints():
    return [create_blueprint()]


@hookimpl
def register_permissions():
    return [Permission("nsgrant.thing.read", "See things", ("nsgrant_reader", "staff")),
            Permission("core.party.read", "See companies and people", ("nsgrant_reader",))]


@hookimpl
def register_roles():
    return [Role("nsgrant_reader", "Thing reader")]
