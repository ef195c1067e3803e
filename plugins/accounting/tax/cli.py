"""Commands: ``kontor accounting taxes load`` and ``vat settle``."""

import click
from flask.cli import with_appcontext

from core import cli_refusal, session as db, transaction

from plugins.accounting.cli import group
from plugins.accounting.currencies.services import parse_day
from plugins.accounting.tax import services


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
        entry = vat_report.settle(db, parse_day(date_from, "date_from"), parse_day(date_to, "date_to"))
    click.echo(f"posted {entry.number}")
