"""``kontor accounting report …``: the financial reports as CSV or XLSX, from the command line."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from core import InvalidInput, cli_refusal, export_response, gettext as _, session, transaction

from plugins.accounting.cli import group
from plugins.accounting.reports import (
    aged, consolidation, exports, figures, general_ledger, statements, trial_balance,
)

REPORTS = ("trial-balance", "general-ledger", "profit-and-loss", "balance-sheet", "aged-receivables",
           "aged-payables")


def _table(name: str, date_from: date, date_to: date, account: str | None, compare: str):
    if name == "trial-balance":
        return exports.trial_balance(trial_balance.trial_balance(session, date_from, date_to))
    if name == "general-ledger":
        if not account:
            raise InvalidInput(_("Give the account (--account CODE)."), field="account")
        return exports.general_ledger(session, general_ledger.get_account(session, account), date_from, date_to)
    if name == "profit-and-loss":
        return exports.statement(statements.profit_and_loss(session, date_from, date_to, compare=compare))
    if name == "balance-sheet":
        return exports.statement(statements.balance_sheet(session, date_to, date_from=date_from, compare=compare))
    kind = "receivable" if name == "aged-receivables" else "payable"
    return exports.aged(aged.aged_balances(session, kind, date_to))


@group.command("report")
@click.argument("name", type=click.Choice(REPORTS))
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: the fiscal "
              "year's).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last day, or the day aged reports "
              "are aged on (default: today).")
@click.option("--account", help="The account of the general ledger (code).")
@click.option("--compare", type=click.Choice(("none", "previous", "year")), default="none",
              help="A comparison column for the profit and loss and the balance sheet.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this .csv or .xlsx file instead of printing CSV.")
@with_appcontext
def report_command(name, date_from, date_to, account, compare, output):
    """Print the report NAME as CSV (or write it as CSV or XLSX with --output)."""
    day_to = date_to.date() if date_to else date.today()
    day_from = date_from.date() if date_from else figures.fiscal_year_start(session, day_to)
    fmt = "xlsx" if output and output.lower().endswith(".xlsx") else "csv"
    with transaction(on_refusal=cli_refusal):
        columns, rows = _table(name, day_from, day_to, account, compare)
        body = export_response(name, columns, rows, fmt).get_data()
    if output:
        Path(output).write_bytes(body)
        click.echo(f"{name} written to {output}.")
    else:
        sys.stdout.write(body.decode("utf-8-sig"))


@group.command("consolidated")
@click.argument("kind", type=click.Choice(consolidation.KINDS))
@click.option("--companies", default="", help="The companies' ids, comma-separated (default: every company).")
@click.option("--currency", default="", help="The group currency (default: the default company's).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: 1 January).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last day, the day of the rates "
              "(default: today).")
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this .csv or .xlsx file instead of printing CSV.")
@with_appcontext
def consolidated_command(kind, companies, currency, date_from, date_to, output):
    """Print the consolidated report KIND of several companies as CSV (or write it with --output)."""
    fmt = "xlsx" if output and output.lower().endswith(".xlsx") else "csv"
    with transaction(on_refusal=cli_refusal):
        report = consolidation.consolidate(session, kind, companies=consolidation.parse_ids(companies),
                                           currency=currency, date_from=date_from.date() if date_from else None,
                                           date_to=date_to.date() if date_to else None)
        body = export_response(f"consolidated-{kind}", *consolidation.export_table(report), fmt).get_data()
    if output:
        Path(output).write_bytes(body)
        click.echo(f"consolidated {kind} written to {output}.")
    else:
        sys.stdout.write(body.decode("utf-8-sig"))
