"""``kontor accounting statement import``: bring a bank statement file in from the command line."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from core import KontorError, cli_refusal, session as db, transaction

from plugins.accounting.cli import group
from plugins.accounting.banking import statements


def _refused(exc: KontorError):
    """A refused import lists every bad row of the file, then exits with status 1."""
    if isinstance(exc, statements.StatementFileError):
        for line, reason in exc.problems:
            click.echo(f"line {line}: {reason}", err=True)
        raise click.ClickException(f"{len(exc.problems)} bad rows; nothing was imported")
    cli_refusal(exc)


def _mapping(pairs: str) -> dict[str, str]:
    """``date=Booking date,amount=Amount`` as {field: header}."""
    mapping = {}
    for pair in filter(None, (part.strip() for part in (pairs or "").split(","))):
        field, sep, header = pair.partition("=")
        if not sep or field.strip() not in statements.CSV_FIELDS:
            raise click.BadParameter(f"{pair!r}: use FIELD=HEADER with FIELD one of {', '.join(statements.CSV_FIELDS)}",
                                     param_hint="--map")
        mapping[field.strip()] = header.strip()
    return mapping


@group.group("statement")
def statement_group():
    """Bank statements."""


@statement_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(["camt053", "csv"]), default=None,
              help="The file's format (guessed from the extension when left out).")
@click.option("--map", "mapping", default="", help="CSV columns: date=Header,amount=Header (or debit=…,credit=…), "
                                                   "description=…, reference=…, counterparty=…, balance=….")
@click.option("--journal", default="BNK", show_default=True, help="The bank journal the statement belongs to.")
@click.option("--number-format", default="1,234.56", show_default=True,
              type=click.Choice(list(statements.NUMBER_FORMATS)), help="How the CSV writes numbers.")
@click.option("--date-format", default="%Y-%m-%d", show_default=True, type=click.Choice(list(statements.DATE_FORMATS)),
              help="How the CSV writes dates.")
@click.option("--name", default="", help="A name for the statement.")
@with_appcontext
def import_command(file: Path, file_format, mapping, journal, number_format, date_format, name):
    """Import FILE (camt.053 XML or CSV) as a bank statement; lines then wait to be matched."""
    file_format = file_format or ("csv" if file.suffix.lower() in (".csv", ".txt") else "camt053")
    data = file.read_bytes()
    columns = _mapping(mapping)
    with transaction(on_refusal=_refused):  # at once, whatever its size: the command waits anyway
        statement, parsed = statements.prepare_statement(db, data, file_format=file_format, journal=journal,
                                                         mapping=columns, number_format=number_format,
                                                         date_format=date_format, name=name, filename=file.name)
        with click.progressbar(length=len(parsed.lines), label="Importing", show_pos=True) as bar:
            statements.add_lines(db, statement, parsed.lines, progress=lambda done, _total: bar.update(done - bar.pos))
    matched = sum(1 for line in statement.lines if statements.suggestions(db, line, limit=1))
    click.echo(f"Imported statement {statement.name} (id {statement.id}): {len(statement.lines)} lines, "
               f"{matched} with a suggested match.")
