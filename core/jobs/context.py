"""What a running job's code sees: its session, who asked, and how it reports progress."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.company.scope import all_companies
from core.jobs.models import Job
from core.orm import utcnow

JOBS = Job.__table__


class JobCancelled(Exception):
    """Raised by :meth:`JobContext.progress` when someone cancelled the job: the job stops there."""


class JobLost(Exception):
    """Raised when the job was handed to another worker meanwhile (this one was taken for dead)."""


class JobContext:
    """The first argument of a job kind's ``run``.

    ``session`` is the worker's session (also :data:`core.session` inside the job), acting as
    ``user`` (the user who asked, None for the system) in the job's company.
    """

    def __init__(self, job_id: int, session: Session, user: Any, company_id: int, worker: str, kind: str):
        self.id = job_id
        self.session = session
        self.user = user
        self.company_id = company_id
        self.kind = kind
        self._worker = worker

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        """Record how far the job got and commit the session: the work so far is kept (a chunk's end).

        Raises :class:`JobCancelled` when the job was cancelled meanwhile, and :class:`JobLost` when
        the reaper gave it to another worker (this one stops; the other goes on from the last chunk).
        """
        values: dict[str, Any] = {"done": int(done), "message": str(message)[:300], "heartbeat_at": utcnow()}
        if total is not None:
            values["total"] = int(total)
        with all_companies():
            changed = self.session.execute(
                update(JOBS).where(JOBS.c.id == self.id, JOBS.c.worker == self._worker, JOBS.c.status == "running")
                .values(**values)).rowcount
        self.session.commit()
        if not changed:
            raise JobLost(self.id)
        if self.cancel_requested():
            raise JobCancelled(self.id)

    def cancel_requested(self) -> bool:
        """Whether someone asked to cancel the job (checked by :meth:`progress`)."""
        with all_companies():
            return bool(self.session.execute(select(JOBS.c.cancel_requested).where(JOBS.c.id == self.id)).scalar())
