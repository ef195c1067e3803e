"""``kontor modules marketplace list | install NAME | publish WHEEL… [--to FOLDER]``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from core.modules import marketplace
from core.web.transaction import cli_refusal, transaction



@click.group("marketplace")
def marketplace_group():
    """Modules offered by the marketplace (KONTOR_MARKETPLACE)."""


@marketplace_group.command("list")
@with_appcontext
def list_command():
    """List the modules in the catalog."""
    with transaction(on_refusal=cli_refusal):
        entries = marketplace.load_catalog(current_app.config["MARKETPLACE"])
    for entry in entries:
        click.echo(f"{entry.name:<20} {entry.version:<10} {entry.title}")


@marketplace_group.command("install")
@click.argument("name")
@with_appcontext
def install_command(name):
    """Download, verify and install NAME from the marketplace."""
    with transaction(on_refusal=cli_refusal):
        installed = marketplace.install_from_app(current_app, name)
    click.echo(f"Installed: {', '.join(installed)}")


@marketplace_group.command("publish")
@click.argument("wheels", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="The catalog folder (default: KONTOR_MARKETPLACE, when it is a folder).")
@with_appcontext
def publish_command(wheels, folder):
    """Add plugin WHEELS to a folder catalog, with their manifests and checksums."""
    from core.modules.publish import publish

    target = folder or current_app.config["MARKETPLACE"]
    if not target or marketplace.is_url(str(target)):
        click.echo("Error: give --to FOLDER (KONTOR_MARKETPLACE is not a folder).", err=True)
        raise SystemExit(2)
    for wheel in wheels:
        with transaction(on_refusal=cli_refusal):
            entry = publish(wheel, Path(target))
        click.echo(f"Published {entry.name} {entry.version} to {target}")
