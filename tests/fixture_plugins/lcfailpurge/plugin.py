"""Installs cleanly; its downgrade drops the table, then fails."""
from pathlib import Path

from core import Manifest, Permission, hookimpl

manifest = Manifest(name="lcfailpurge", title="Failing purge", version="1.0.0", summary="A downgrade that fails.",
                    category="Testing")


@hookimpl
def register_permissions():
    return [Permission("lcfailpurge.thing.read", "See things")]


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"
