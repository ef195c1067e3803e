"""Starting, reading, cancelling and retrying jobs: the services behind the pages, the API and the CLI.

A job is written in the business transaction that asks for it and handed to the queue after that
transaction commits (:func:`install_job_listeners`): a rolled-back request starts no job, and a
job never runs before the data it needs is visible.
"""
from __future__ import annotations

import json
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import current_actor
from core.audit.recorder import record_event
from core.company.scope import current_company_id
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.i18n import gettext as _
from core.jobs.listeners import enqueue_after_commit
from core.jobs.models import FINISHED, STATUSES, Job  # noqa: F401 (Job: for the API)
from core.orm import utcnow
from core.security import has_permission

#: Who sees and acts on every job of their companies, not only their own.
MANAGE = "core.jobs.manage"


def start_job(db: Session, kind: str, arguments: dict[str, Any] | None = None, *, title: str = "",
              record: str = "", key: str | None = None, max_attempts: int | None = None) -> Job:
    """Ask for a job of ``kind`` with ``arguments``, as the acting user, in the current company.

    The job runs after ``db`` commits. ``key`` makes the request idempotent: the job already asked
    for with that key is returned instead of a new one (finished or not). ``record`` names the
    record whose page shows the job (``"crm.campaign:7"``). Refused with :class:`core.Forbidden`
    when the user lacks the kind's permission.
    """
    job_kind = _kind(kind)
    user = current_actor()
    if job_kind.permission and user is not None and not has_permission(job_kind.permission, user):
        raise Forbidden(_("You may not start this job."))
    if key:
        existing = db.execute(select(Job).where(Job.idempotency_key == key)).scalar()
        if existing is not None:
            return existing
    return _create(db, kind, arguments, user_id=user.id if user is not None else None,
                   company_id=current_company_id(db), title=title, record=record,
                   key=key, max_attempts=max_attempts or job_kind.max_attempts)


def _kind(name: str):
    kind = current_app.extensions["kontor"].job_kinds.get(name)
    if kind is None:
        raise InvalidInput(_("There is no job kind %(kind)s.", kind=name), field="kind")
    return kind


def _create(db: Session, kind: str, arguments: dict[str, Any] | None, *, user_id: int | None, company_id: int,
            title: str, record: str, key: str | None, max_attempts: int) -> Job:
    arguments = dict(arguments or {})
    try:
        json.dumps(arguments)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"the arguments of a {kind} job must be JSON values: {exc}") from None
    job = Job(kind=kind, arguments=arguments, user_id=user_id, company_id=company_id, title=title[:200],
              record=record[:120], idempotency_key=key, max_attempts=max(1, max_attempts), status="queued",
              enqueued_at=utcnow())
    db.add(job)
    db.flush()
    _enqueue_after_commit(db, job.id)
    return job


def _enqueue_after_commit(db: Session, job_id: int) -> None:
    enqueue_after_commit(db, current_app._get_current_object() if has_app_context() else None, job_id)


def latest_job(db: Session, record: str) -> Job | None:
    """The newest job of the current company working on ``record`` (``"crm.campaign:7"``), or None."""
    return db.execute(select(Job).where(Job.record == record).order_by(Job.id.desc()).limit(1)).scalar()


def can_manage(user) -> bool:
    """Whether ``user`` sees and handles every job of their companies (else only their own)."""
    return has_permission(MANAGE, user)


def jobs_query(user, *, status: str | None = None, kind: str | None = None, everyone: bool = False,
               mine: bool = False):
    """The jobs ``user`` may see (newest first): all of the companies in scope for a manager (and
    with ``everyone``: the system's own view, in a command), else their own; narrowed to
    ``status`` and ``kind`` when given; ``mine``: the user's own, whoever they are."""
    query = select(Job)
    if mine or not (everyone or can_manage(user)):
        query = query.where(Job.user_id == (user.id if user is not None else -1))
    if status:
        if status not in STATUSES:
            raise InvalidInput(_("Choose a status among %(statuses)s.", statuses=", ".join(STATUSES)), field="status")
        query = query.where(Job.status == status)
    if kind:
        query = query.where(Job.kind == kind)
    return query.order_by(Job.id.desc())


def get_job(db: Session, job_id: int, user, *, everyone: bool = False) -> Job:
    """Job ``job_id`` when ``user`` may see it (theirs, or any in scope for a manager or with
    ``everyone``); else NotFound."""
    job = db.get(Job, job_id)
    if job is None or not (everyone or can_manage(user) or (user is not None and job.user_id == user.id)):
        raise NotFound(_("There is no job %(id)s.", id=job_id))
    return job


def cancel_job(db: Session, job: Job) -> Job:
    """Cancel ``job``: a waiting job at once, a running one at its next progress report."""
    if job.finished:
        raise Conflict(_("The job has already ended (%(status)s).", status=job.status), field="status")
    if job.status == "queued":
        job.status, job.finished_at, job.message = "cancelled", utcnow(), _("Cancelled")
    else:
        job.cancel_requested = True
    _audit(db, job, "job cancelled")
    return job


def retry_job(db: Session, job: Job) -> Job:
    """Run a failed or cancelled ``job`` again from its first attempt (as the user who asked)."""
    if job.status not in ("failed", "cancelled"):
        raise Conflict(_("Only a failed or cancelled job can be tried again."), field="status")
    job.status, job.attempts, job.error, job.message = "queued", 0, "", ""
    job.run_after = job.finished_at = None
    job.cancel_requested = False
    job.enqueued_at = utcnow()
    _audit(db, job, "job retried")
    db.flush()
    _enqueue_after_commit(db, job.id)
    return job


def _audit(db: Session, job: Job, action: str) -> None:
    record_event(db, action, table_name="core_job", record_id=job.id,
                 changes={"kind": job.kind, "title": job.title}, company_id=job.company_id)


def job_title(job: Job) -> str:
    """What a job is called on its pages: the title it was started with, else its schedule's or its
    kind's (translated for the reader), else the kind's name."""
    if job.title:
        return job.title
    kontor = current_app.extensions["kontor"]
    if (job.idempotency_key or "").startswith("schedule:"):
        name = job.idempotency_key.split(":")[1]
        schedule = next((s for s in kontor.schedules if s.name == name and s.title), None)
        if schedule is not None:
            return str(schedule.title)
    kind = kontor.job_kinds.get(job.kind)
    return str(kind.title) if kind is not None and kind.title else job.kind


def show_result(value) -> str:
    """A value of a job's result as a reader sees it (a list as its items, comma-separated)."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def describe_kinds() -> dict[str, str]:
    """The job kinds of the running app and their titles (for the filter of the jobs page)."""
    return {name: str(kind.title or name) for name, kind in current_app.extensions["kontor"].job_kinds.items()}


__all__ = ["FINISHED", "MANAGE", "can_manage", "cancel_job", "get_job", "jobs_query",
           "latest_job", "retry_job", "start_job"]
