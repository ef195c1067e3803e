"""Commands: ``kontor accounting rates import FILE``, ``rates set``, ``taxes load``, ``vat settle`` and
``revalue``."""

import click
from flask.cli import with_appcontext

from core import KontorError, cli_refusal, session as db, transaction

from plugins.accounting.cli import group
from plugins.accounting.tax import services


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


@group.group("taxes")
def taxes():
    """Taxes."""


@taxes.command("load")
@click.argument("country")
@with_appcontext
def taxes_load(country):
    """Add the default taxes of COUNTRY (DK, DE, PL, FI, SE)."""
    with transaction(on_refusal=cli_refusal):
        added = services.load_country_taxes(db, country)
    click.echo(f"{len(added)} taxes added")


@group.group("vat")
def vat_group():
    """The VAT report and its settlement."""


@vat_group.command("settle")
@click.option("--from", "date_from", required=True, help="The first day, YYYY-MM-DD.")
@click.option("--to", "date_to", required=True, help="The last day, YYYY-MM-DD.")
@with_appcontext
def vat_settle(date_from, date_to):
    """Post the VAT settlement of a period: its tax moved to 2210 VAT settlement."""
    from plugins.accounting.tax import vat_report

    with transaction(on_refusal=cli_refusal):
        entry = vat_report.settle(db, services.parse_day(date_from, "date_from"), services.parse_day(date_to, "date_to"))
    click.echo(f"posted {entry.number}")


@group.command("revalue")
@click.option("--date", "day", required=True, help="The period end, YYYY-MM-DD.")
@with_appcontext
def revalue_command(day):
    """Post the unrealised exchange differences of a period end, and their reversal."""
    from plugins.accounting.tax.revaluation import revalue

    with transaction(on_refusal=cli_refusal):
        result = revalue(db, services.parse_day(day))
    if result is None:
        click.echo("nothing to revalue")
    else:
        entry, reversal = result
        click.echo(f"posted {entry.number}, reversed by {reversal.number} on {reversal.date.isoformat()}")
