"""``kontor modules list | install | disable | enable | purge | upgrade NAME…``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.cli import fail
from core.modules import lifecycle
from core.modules.marketplace_cli import marketplace_group
from core.web.transaction import cli_refusal, transaction

COLUMNS = (("name", "NAME"), ("state", "STATE"), ("version", "AVAILABLE"), ("installed_version", "INSTALLED"),
           ("title", "TITLE"))


def _context() -> lifecycle.ModuleContext:
    return lifecycle.context_from_app(current_app)


def _step(act: str, name: str) -> None:
    click.echo(f"  {act} {name}…")


def _run(act, names, **options):
    """Run a lifecycle act; a refusal goes to stderr with a non-zero exit."""
    with transaction(on_refusal=cli_refusal):
        return act(_context(), list(names), progress=_step if len(names) > 1 or act is lifecycle.install else None,
                   **options)


def format_table(rows: list[dict], columns=COLUMNS) -> str:
    """``rows`` as a plain-text table with a header line."""
    widths = [max([len(title)] + [len(str(r[key])) for r in rows]) for key, title in columns]
    lines = ["  ".join(title.ljust(w) for (_, title), w in zip(columns, widths)).rstrip()]
    for row in rows:
        lines.append("  ".join(str(row[key]).ljust(w) for (key, _), w in zip(columns, widths)).rstrip())
    return "\n".join(lines)


@click.group("modules")
def modules_group():
    """List, install, disable, enable, purge and upgrade modules."""


modules_group.add_command(marketplace_group)


@modules_group.command("list")
@with_appcontext
def list_command():
    """List every module: available, installed, disabled, upgradable or quarantined."""
    statuses = lifecycle.module_status(_context())
    click.echo(format_table([s.as_dict() for s in statuses]))
    broken = [s for s in statuses if s.state == "quarantined"]
    if broken:
        click.echo("\nQuarantined:")
        for status in broken:
            click.echo(f"  {status.name}: {status.error}")


@modules_group.command("install")
@click.argument("names", nargs=-1, required=True)
@click.option("--restore", "restore", metavar="ARCHIVE",
              help="Restore the module's rows from this archive (a file, or the name of an archive a purge stored) "
                   "instead of loading its default data.")
@with_appcontext
def install_command(names, restore):
    """Install NAME… and the modules they depend on."""
    installed = _run(lifecycle.install, names, restore_from=restore)
    click.echo(f"Installed: {', '.join(installed)}")


@modules_group.command("disable")
@click.argument("names", nargs=-1, required=True)
@click.option("--cascade", is_flag=True, help="Also disable the enabled modules that depend on them.")
@with_appcontext
def disable_command(names, cascade):
    """Disable NAME… (their tables and rows are kept)."""
    disabled = _run(lifecycle.disable, names, cascade=cascade)
    click.echo(f"Disabled: {', '.join(disabled)}")


@modules_group.command("enable")
@click.argument("names", nargs=-1, required=True)
@with_appcontext
def enable_command(names):
    """Enable NAME… (and the disabled modules they need)."""
    enabled = _run(lifecycle.enable, names)
    click.echo(f"Enabled: {', '.join(enabled)}")


@modules_group.command("purge")
@click.argument("names", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force-lose-records", "force", is_flag=True,
              help="Purge even though a module would keep its records (posted books within their retention "
                   "period): they are lost. Audited.")
@with_appcontext
def purge_command(names, yes, force):
    """Archive the rows of NAME…, then drop their tables, roles and permissions and forget them."""
    if not yes and not click.confirm(f"Purge {', '.join(names)}? Their rows are archived, then their tables dropped."):
        fail("Nothing was purged.")
    archives = _run(lifecycle.purge, names, force=force)
    click.echo(f"Purged: {', '.join(names)}")
    for key in archives:
        click.echo(f"Archive: {key.rsplit('/', 1)[-1]}")


@modules_group.command("upgrade")
@click.argument("names", nargs=-1, required=True)
@with_appcontext
def upgrade_command(names):
    """Run the new migrations of NAME… and record their new versions."""
    upgraded = _run(lifecycle.upgrade, names)
    click.echo(f"Upgraded: {', '.join(upgraded)}")
