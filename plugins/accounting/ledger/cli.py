"""The ledger's commands: ``kontor accounting verify``, ``chart import/export``, ``lock-date``, ``close-year``, ``reopen-year``."""
from __future__ import annotations

from datetime import date as Date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core import cli_refusal, session, transaction

from plugins.accounting.cli import group
from plugins.accounting.ledger import chart, services, years
from plugins.accounting.ledger.models import FiscalYear


@group.command("verify")
@with_appcontext
def verify_command():
    """Recompute the hash chain of every journal of every company; exit code 1 at the first break of any journal."""
    from core import all_companies, list_companies

    results = services.verify_every_company(session)
    with all_companies():
        names = {c.id: c.legal_name for c in list_companies(session)}
    broken = False
    for company_id, (checked, breaks) in results.items():
        company = f"{names.get(company_id, company_id)} (company {company_id})"
        if not breaks:
            click.echo(f"OK: {company}: {checked} posted entries, every journal's chain is intact.")
            continue
        broken = True
        for b in breaks:
            where = f"entry {b.number} (id {b.entry_id})" if b.entry_id else "chain head"
            click.echo(f"BROKEN: {company}, journal {b.journal}, {where}: {b.reason}", err=True)
    if broken:
        raise SystemExit(1)


@group.group("chart")
def chart_group():
    """Import or export the chart of accounts as CSV."""


@chart_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True), required=False)
@with_appcontext
def chart_export(file):
    """Write the chart to FILE (or standard output)."""
    text = chart.export_csv(session)
    if file:
        Path(file).write_text(text, encoding="utf-8")
        click.echo(f"{text.count(chr(10)) - 1} accounts written to {file}.")
    else:
        click.echo(text, nl=False)


@chart_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def chart_import(file):
    """Create or update accounts from the CSV FILE (matched by code); all or nothing."""
    with transaction(on_refusal=cli_refusal):
        result = chart.import_chart(session, Path(file).read_bytes())
    click.echo(f"{result.created} accounts created, {result.updated} updated.")


@group.command("lock-date")
@click.argument("day", required=False)
@click.option("--clear", is_flag=True, help="Remove the lock date.")
@with_appcontext
def lock_date_command(day, clear):
    """Show the lock date, or move it to DAY (YYYY-MM-DD)."""
    if not day and not clear:
        current = services.lock_date(session)
        click.echo(current.isoformat() if current else "no lock date")
        return
    try:
        target = None if clear else Date.fromisoformat(day)
    except ValueError:
        raise click.BadParameter("give YYYY-MM-DD", param_hint="DAY") from None
    with transaction(on_refusal=cli_refusal):
        years.set_lock_date(session, target)
    click.echo(f"lock date: {target.isoformat() if target else 'none'}")


def _year_named(name: str) -> FiscalYear:
    year = session.scalar(select(FiscalYear).where(FiscalYear.name == name))
    if year is None:
        raise click.ClickException(f"there is no fiscal year {name}")
    return year


@group.command("close-year")
@click.argument("name")
@with_appcontext
def close_year_command(name):
    """The year-end close of fiscal year NAME (e.g. 2026)."""
    year = _year_named(name)
    with transaction(on_refusal=cli_refusal):
        entry = years.close_year(session, year)
    click.echo(f"fiscal year {name} closed" + (f" by {entry.number}" if entry else " (no result to move)"))


@group.command("reopen-year")
@click.argument("name")
@with_appcontext
def reopen_year_command(name):
    """Reopen the closed fiscal year NAME: its closing entry is reversed (the latest closed year first)."""
    year = _year_named(name)
    with transaction(on_refusal=cli_refusal):
        reversal = years.reopen_year(session, year)
    click.echo(f"fiscal year {name} reopened" + (f": {reversal.number} reverses its close" if reversal else ""))
