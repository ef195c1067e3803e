"""Bank statements imported by a job: a large file's lines are stored in chunks, with progress."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import Job, JobKind, gettext as _, lazy_gettext as _l, start_job, storage

from plugins.accounting.banking import statements
from plugins.accounting.banking.models import Statement
from plugins.accounting.permissions import BANK_WRITE

IMPORT_KIND = "accounting.import_statement"
#: A statement of up to this many lines is stored at once (app config ``STATEMENT_JOB_LINES``).
JOB_LINES = 1000
CONTENT_TYPES = {"csv": "text/csv", "camt053": "application/xml"}


def statement_record(statement_id: int) -> str:
    """The record name of a statement: its page shows the progress of the job importing it."""
    return f"accounting.statement:{statement_id}"


def start_import(db: Session, data: bytes, *, file_format: str, filename: str = "", job_lines: int = JOB_LINES,
                 **options: Any) -> tuple[Statement, Job | None]:
    """Check a statement file and store it: at once when it is small, else by a job.

    A statement of up to ``job_lines`` lines is stored in this transaction, because the user
    expects to land on it and start matching, and that takes well under a second. A larger one is
    read and checked here all the same (every error is reported now, beside its field), then its
    lines are stored by an ``accounting.import_statement`` job, so the request answers at once and
    the statement's page shows how far the job got. Returns the statement and the job (None when
    stored at once). The caller commits; the job starts after the commit.
    """
    statement, parsed = statements.prepare_statement(db, data, file_format=file_format, filename=filename, **options)
    if len(parsed.lines) <= job_lines:
        statements.add_lines(db, statement, parsed.lines)
        return statement, None
    key = f"accounting/statements/{statement.company_id}/{statement.id}/source.{file_format}"
    storage().put(key, data, CONTENT_TYPES[file_format])
    arguments = {"statement_id": statement.id, "file": key, "file_format": file_format,
                 "mapping": options.get("mapping") or {}, "number_format": options.get("number_format", "1,234.56"),
                 "date_format": options.get("date_format", "%Y-%m-%d")}
    job = start_job(db, IMPORT_KIND, arguments, title=_("Import statement %(name)s", name=statement.name),
                    record=statement_record(statement.id), key=f"{statement_record(statement.id)}:import")
    return statement, job


def import_statement_job(job, statement_id: int, file: str, file_format: str, mapping: dict, number_format: str,
                         date_format: str) -> dict:
    """The job: store the lines of a checked statement file, a chunk per commit.

    Lines are numbered in the file's order and a stored number is skipped, so a second run (a
    retry after a worker died) completes the statement without doubling a line.
    """
    db = job.session
    statement = statements.get_statement(db, statement_id)
    parsed = statements.read_statement_file(storage().read(file), file_format=file_format, mapping=mapping,
                                            number_format=number_format, date_format=date_format)

    def progress(done: int, total: int) -> None:
        job.progress(done, total, _("%(done)s of %(total)s lines stored", done=done, total=total))

    added = statements.add_lines(db, statement, parsed.lines, progress=progress)
    return {"statement_id": statement_id, "lines": len(parsed.lines), "added": added}


def job_kinds() -> list[JobKind]:
    """The banking area's job kinds."""
    return [JobKind(IMPORT_KIND, run=import_statement_job, title=_l("Import a bank statement"),
                    permission=BANK_WRITE, max_attempts=3)]
