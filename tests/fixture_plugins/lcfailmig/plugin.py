"""Installs a table, then its migration fails."""
from pathlib import Path

from core import Manifest, Permission, hookimpl

manifest = Manifest(name="lcfailmig", title="Failing migration", version="1.0.0", summary="Fails half-way.",
                    category="Testing")


@hookimpl
def register_permissions():
    return [Permission("lcfailmig.thing.read", "See things", ("staff",))]


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"
