"""The ``core.export`` job: a list's export of many rows, written by a worker into the file storage.

A list or report answers ``?format=csv|xlsx`` with :func:`core.export_response`. When the rows
are more than ``EXPORT_JOB_ROWS`` (app config, 5,000 by default), the request does not write the
file: it starts this job and sends the user to the export's page. The job asks the same page
again, in the worker, as the user who asked and in the company they were in: the same view
checks the same permission, applies the same record rules and runs the same query, so the file
holds exactly what the list would have given, and nothing has to describe a list's query twice.
In that replay ``export_response`` hands its rows to the running job (:func:`running_export`),
which writes them through :func:`core.storage` and keeps the file's key in its result.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass

from flask import Response, current_app, has_request_context, redirect, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import select

from core.company.scope import in_company, scope_for_user
from core.db import session
from core.errors import Forbidden, KontorError
from core.i18n import gettext as _
from core.jobs.models import Job
from core.jobs.services import start_job
from core.filestore import storage

EXPORT_KIND = "core.export"
#: The rows above which an export is written by a job (app config ``EXPORT_JOB_ROWS``; 0: never).
EXPORT_JOB_ROWS = 5000
#: Rows written between two progress reports.
PROGRESS_EVERY = 2000

_running: ContextVar[ExportRun | None] = ContextVar("kontor_export_run", default=None)


def job_threshold() -> int | None:
    """How many rows an export of this request may hold before it goes to a job; None when this
    request's exports are always immediate (no signed-in page request, or jobs turned off)."""
    if not has_request_context():  # a command writing a report: always at once
        return None
    if _running.get() is not None or request.method != "GET" or request.path.startswith("/api/"):
        return None
    if not getattr(current_user, "is_authenticated", False):
        return None
    limit = int(current_app.config.get("EXPORT_JOB_ROWS", EXPORT_JOB_ROWS) or 0)
    return limit or None


def start_export(stem: str, fmt: str):
    """Start the export of this request's page as a job, and send the user to the export's page.

    Asking for the same export again while it is being written gets that job; once it ended, a
    new one is written (the rows may have changed).
    """
    db = session
    query = request.query_string.decode("utf-8", "replace")
    record = f"{EXPORT_KIND}:" + hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()[:40]
    job = db.execute(select(Job).where(Job.record == record, Job.user_id == current_user.id,
                                       Job.status.in_(("queued", "running"))).limit(1)).scalar()
    if job is None:
        job = start_job(db, EXPORT_KIND, {"path": request.path, "query": query, "format": fmt, "stem": stem},
                        title=_("Export %(name)s (%(format)s)", name=stem, format=fmt.upper()), record=record)
        db.commit()
    return redirect(url_for("exports.export", job_id=job.id), 303)


def running_export() -> ExportRun | None:
    """The export job this request is the replay of, if any."""
    return _running.get()


@dataclass
class ExportRun:
    """What the export job learns from the replayed page: where its file went, and how many rows."""

    job: object
    key: str = ""
    filename: str = ""
    content_type: str = ""
    rows: int = 0

    def write(self, filename: str, cells: Iterable[list],
              write_file: Callable[[Iterable[list]], tuple[bytes, str]]) -> Response:
        """Store the file ``write_file`` makes of ``cells`` (each row's values, in column order) as
        ``filename``, reporting progress; the replayed view returns the (empty) answer."""
        rows = list(cells)  # the query's work ends here; progress commits only plain values from now on
        total = len(rows)
        self.job.progress(0, total, _("Writing %(count)s rows", count=total))

        def counted():
            for number, row in enumerate(rows, start=1):
                yield row
                if number % PROGRESS_EVERY == 0 and number < total:
                    self.job.progress(number, total, _("%(done)s of %(total)s rows written", done=number,
                                                       total=total))

        body, content_type = write_file(counted())
        self.filename, self.content_type, self.rows = filename, content_type, total
        self.key = f"exports/{self.job.id}/{self.filename}"
        storage().put(self.key, body, content_type)
        self.job.progress(total, total, _("%(count)s rows written", count=total))
        return Response(status=204)


def export_job(job, path: str, query: str, format: str, stem: str) -> dict:
    """The job: ask the export's page again as the user who asked, and keep the file it writes."""
    user = job.user
    if user is None:
        raise Forbidden(_("An export runs as the user who asked for it."))
    app = current_app._get_current_object()
    run = ExportRun(job)
    token = _running.set(run)
    try:
        with app.test_request_context(path, query_string=query, method="GET"):
            login_user(user)
            response = _replay(app, user, job.company_id)
    finally:
        _running.reset(token)
    if not run.key:
        raise KontorError(_("The export's page answered %(status)s; no file was written.",
                            status=response.status_code), status=response.status_code)
    return {"file": run.key, "filename": run.filename, "content_type": run.content_type, "rows": run.rows,
            "format": format}


def _replay(app, user, company_id: int) -> Response:
    """Dispatch the pushed request as Flask does, in the job's company (the user may have switched
    since), refused if the user no longer works in it."""
    try:
        answer = app.preprocess_request()
        if answer is None:
            if scope_for_user(session, user, [company_id]).current != company_id:
                raise Forbidden(_("You no longer work in the company of this export."))
            with in_company(company_id):
                answer = app.dispatch_request()
    except Exception as exc:  # noqa: BLE001 - mapped to the page's own error answer, as in a request
        answer = app.handle_user_exception(exc)
    return app.make_response(answer)


PRUNE_KIND = "core.prune_exports"
#: How many days an export's file is kept for its owner to download (app config ``EXPORT_KEEP_DAYS``).
EXPORT_KEEP_DAYS = 7


def prune_exports(job) -> dict:
    """The nightly job: delete the files of exports finished more than ``EXPORT_KEEP_DAYS`` ago (the
    job row stays, its result marked ``expired``), so the storage does not grow without end."""
    from datetime import timedelta

    from core.company.scope import all_companies
    from core.orm import utcnow

    days = int(current_app.config.get("EXPORT_KEEP_DAYS", EXPORT_KEEP_DAYS))
    before = utcnow() - timedelta(days=days)
    store, removed = storage(), 0
    with all_companies():
        old = job.session.execute(select(Job).where(Job.kind == EXPORT_KIND, Job.status == "done",
                                                    Job.finished_at < before)).scalars().all()
        for export in old:
            result = dict(export.result or {})
            if result.get("expired") or not result.get("file"):
                continue
            store.delete(result["file"])
            export.result = {**result, "expired": True}
            removed += 1
        job.progress(len(old), len(old), _("%(count)s export files deleted", count=removed))
    return {"deleted": removed}
