"""Commands: ``kontor accounting rates import FILE``, ``rates set`` and ``revalue``."""

import click
from flask.cli import with_appcontext

from core import KontorError, cli_refusal, session as db, transaction

from plugins.accounting.cli import group
from plugins.accounting.currencies import revaluation, services


def _rates_refused(exc: KontorError):
    """A refused rates import lists every bad row, then exits with status 1."""
    if isinstance(exc, services.RatesRefused):
        for line, reason in exc.problems:
            click.echo(f"line {line}: {reason}", err=True)
        raise click.ClickException(f"nothing imported: {len(exc.problems)} bad rows")
    cli_refusal(exc)


@group.group("rates")
def rates():
    """Exchange rates."""


@rates.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--date-column", default="", help="The column of the date (default: guessed, e.g. date).")
@click.option("--currency-column", default="", help="The column of the currency code.")
@click.option("--rate-column", default="", help="The column of the rate.")
@with_appcontext
def rates_import(file, date_column, currency_column, rate_column):
    """Import exchange rates from a CSV FILE (date, currency, rate); all rows or none."""
    mapping = {"date": date_column, "currency": currency_column, "rate": rate_column}
    with transaction(on_refusal=_rates_refused):
        imported = services.import_rates(db, file.read(), mapping if any(mapping.values()) else None)
    click.echo(f"{len(imported)} rates imported")


@rates.command("set")
@click.argument("currency")
@click.argument("day")
@click.argument("rate")
@with_appcontext
def rates_set(currency, day, rate):
    """Record the RATE of CURRENCY from DAY (YYYY-MM-DD) on."""
    with transaction(on_refusal=cli_refusal):
        row = services.set_rate(db, currency, day, rate)
    click.echo(f"{row.currency} {row.date.isoformat()} {row.rate}")


@group.command("revalue")
@click.option("--date", "day", required=True, help="The period end, YYYY-MM-DD.")
@with_appcontext
def revalue_command(day):
    """Post the unrealised exchange differences of a period end, and their reversal."""
    with transaction(on_refusal=cli_refusal):
        result = revaluation.revalue(db, services.parse_day(day))
    if result is None:
        click.echo("nothing to revalue")
    else:
        entry, reversal = result
        click.echo(f"posted {entry.number}, reversed by {reversal.number} on {reversal.date.isoformat()}")
