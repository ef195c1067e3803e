"""``kontor modules marketplace list | install NAME``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.errors import KontorError
from core.modules import marketplace


def _fail(exc: KontorError):
    click.echo(f"Error: {exc.message}", err=True)
    raise SystemExit(1)


@click.group("marketplace")
def marketplace_group():
    """Modules offered by the marketplace (KONTOR_MARKETPLACE)."""


@marketplace_group.command("list")
@with_appcontext
def list_command():
    """List the modules in the catalog."""
    try:
        entries = marketplace.load_catalog(current_app.config["MARKETPLACE"])
    except KontorError as exc:
        _fail(exc)
    for entry in entries:
        click.echo(f"{entry.name:<20} {entry.version:<10} {entry.title}")


@marketplace_group.command("install")
@click.argument("name")
@with_appcontext
def install_command(name):
    """Download, verify and install NAME from the marketplace."""
    try:
        installed = marketplace.install_from_app(current_app, name)
    except KontorError as exc:
        _fail(exc)
    click.echo(f"Installed: {', '.join(installed)}")
