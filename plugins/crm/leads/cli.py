"""``kontor crm import-leads``: the CSV import from the command line."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from core import cli_refusal, KontorError, map_rows, session as db, transaction

from plugins.crm.leads import imports, services


@click.command("import-leads")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mapping", multiple=True, metavar="FIELD=HEADER",
              help=f"Which column fills a lead field (repeatable); unmapped fields are guessed from the headers. "
                   f"Fields: {', '.join(imports.FIELDS)}.")
@click.option("--valid-only", is_flag=True, help="Import the valid rows of a file that also has bad ones.")
@click.option("--skip-duplicates", is_flag=True, help="Leave out rows that look like existing leads or parties.")
@click.option("--owner", default="", help="User name of the owner of rows that name none (default: unassigned).")
@with_appcontext
def import_leads_command(file: Path, mapping: tuple[str, ...], valid_only: bool, skip_duplicates: bool, owner: str):
    """Import leads from the CSV file FILE; nothing is imported from a file with bad rows unless --valid-only."""
    with transaction(on_refusal=cli_refusal):
        csv_file = imports.read_file(file.read_bytes())
        chosen = {**imports.guess_mapping(csv_file), **imports.parse_mapping_options(list(mapping),
                                                                                              csv_file.headers)}
        owner_id = None
        if owner:
            user = services.user_by_name(db, owner)
            if user is None:
                raise KontorError(f"there is no active user {owner!r}", field="owner")
            owner_id = user.id
        check = imports.check_rows(db, map_rows(csv_file, imports.check_mapping(chosen, csv_file.headers)), user=None)
        click.echo("Columns: " + ", ".join(f"{name}={header}" for name, header in chosen.items()))
        for problem in check.problems:
            click.echo(f"line {problem.line}: {problem.field}: {problem.message}", err=True)
        for line, found in sorted(check.duplicates.items()):
            click.echo(f"line {line}: possible duplicate: {'; '.join(found)}", err=True)
        if check.problems and not valid_only:
            raise KontorError(f"{len(check.bad_lines)} rows have problems; nothing was imported "
                              f"(--valid-only imports the {len(check.rows)} valid rows).")
        with click.progressbar(length=len(check.rows), label="Importing leads", show_pos=True) as bar:
            result = imports.import_checked(db, check, user=None, owner_id=owner_id, valid_only=valid_only,
                                            skip_duplicates=skip_duplicates, progress=bar.update)
    click.echo(f"{result.created} leads imported; {result.skipped_invalid} bad rows and "
               f"{result.skipped_duplicates} possible duplicates left out.")
