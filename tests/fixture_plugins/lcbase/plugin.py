"""A module with a table, default data, permissions, a role, a menu item, a page and a purge veto."""
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import Blueprint
from sqlalchemy import func, select

from core import Manifest, MenuItem, ModuleError, Permission, Role, hookimpl, require, session as db

from lcbase.models import Item

manifest = Manifest(name="lcbase", title="Lifecycle base", version="1.0.0", summary="Items for the lifecycle tests.",
                    author="Kontor", license="MIT", category="Testing")


def create_blueprint() -> Blueprint:
    bp = Blueprint("lcbase", __name__, url_prefix="/lcbase")

    @bp.get("/")
    @require("lcbase.item.read")
    def index():
        return f"lcbase items: {db.execute(select(func.count()).select_from(Item)).scalar_one()}"

    return bp


@hookimpl
def register_blueprints():
    return [create_blueprint()]


@hookimpl
def register_permissions():
    return [Permission("lcbase.item.read", "See items", ("staff",)),
            Permission("lcbase.item.write", "Change items", ("lcbase_clerk",))]


@hookimpl
def register_roles():
    return [Role("lcbase_clerk", "Item clerk")]


@hookimpl
def register_menu_items():
    return [MenuItem("main", "Items", "lcbase.index", "lcbase.item.read", order=90)]


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"


@hookimpl
def load_default_data(session):
    session.add_all([
        Item(name="first", amount=Decimal("1234.56"), day=date(2026, 1, 31)),
        Item(name="second", amount=Decimal("-0.01"), day=date(2026, 2, 28), note="with a note"),
    ])


@hookimpl
def module_installed(name, session):
    session.add(Item(name=f"saw {name}", amount=Decimal("0"), day=date(2026, 3, 1)))


@hookimpl
def module_uninstalling(name, session):
    if name == "lcbase" and session.execute(select(Item).where(Item.name == "posted")).first():
        raise ModuleError("lcbase holds posted items; they must not be lost")
