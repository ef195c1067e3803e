"""A module whose migration branch is broken: its only revision revises one that does not exist."""
from pathlib import Path

from core import Manifest, hookimpl

manifest = Manifest(name="lcdangling", title="Dangling branch", version="1.0.0",
                    summary="Its migration revises a revision nobody wrote.", category="Testing")


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"
