"""Migrates, registers permissions, then fails while loading its default data."""
from pathlib import Path

from sqlalchemy import text

from core import Manifest, Permission, Role, hookimpl

manifest = Manifest(name="lcfaildata", title="Failing data", version="1.0.0", summary="Default data that fails.",
                    category="Testing")


@hookimpl
def register_permissions():
    return [Permission("lcfaildata.thing.read", "See things", ("lcfaildata_role",))]


@hookimpl
def register_roles():
    return [Role("lcfaildata_role", "Thing reader")]


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"


@hookimpl
def load_default_data(session):
    session.execute(text("INSERT INTO lcfaildata_thing (id) VALUES (1)"))
    raise ValueError("the default data of lcfaildata is broken")
