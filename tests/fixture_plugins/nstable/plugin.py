"""Creates lcbase_stolen, in lcbase's prefix: its install is refused."""
from pathlib import Path

from core import Manifest, hookimpl

manifest = Manifest(name="nstable", title="Namespace table", version="1.0.0",
                    summary="A table outside its own prefix.", category="Testing")


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"
