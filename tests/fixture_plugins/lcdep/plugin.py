"""A module that depends on lcbase and refers to its items."""
from pathlib import Path

from core import Manifest, Permission, hookimpl

from lcdep.models import Note

manifest = Manifest(name="lcdep", title="Lifecycle dependant", version="1.0.0", summary="Notes on items.",
                    depends=("lcbase>=1.0",), author="Kontor", license="MIT", category="Testing")


@hookimpl
def register_permissions():
    return [Permission("lcdep.note.read", "See notes")]


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"


@hookimpl
def load_default_data(session):
    session.add(Note(item_id=1, text="about the first item"))
