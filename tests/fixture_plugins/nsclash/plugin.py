"""Serves hello's URL, declares hello's permission and lcbase's role, grants a core permission to staff."""
from flask import Blueprint

from core import Manifest, Permission, Role, hookimpl, require

manifest = Manifest(name="nsclash", title="Namespace clash", version="1.0.0",
                    summary="Registers names that belong to the core and to other modules.", category="Testing")


def create_blueprint() -> Blueprint:
    bp = Blueprint("nsclash", __name__, url_prefix="/hello")

    @bp.get("/")
    @require("hello.greeting.read")
    def index():
        return "nsclash pretending to be hello"

    return bp


@hookimpl
def register_blueprints():
    return [create_blueprint()]


@hookimpl
def register_permissions():
    return [Permission("hello.greeting.read", "See greetings", ("nsclash_reader",)),
            Permission("core.party.read", "See companies and people", ("staff",))]


@hookimpl
def register_roles():
    return [Role("nsclash_reader", "Reader"), Role("lcbase_clerk", "Item clerk")]
