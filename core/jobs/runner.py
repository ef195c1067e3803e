"""Running one job in a worker: claim its row, run its kind as the user who asked, record the outcome.

A job is claimed with a conditional update (queued → running), so of two deliveries of the same
id only one runs it; a heartbeat thread keeps ``heartbeat_at`` fresh while it runs, and the reaper
hands a job whose heartbeat went stale (its worker was killed) to the queue again.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import or_, select, update

from core.actor import acting_as
from core.auth.models import User
from core.company.scope import all_companies, in_company
from core.db import session as app_session
from core.errors import KontorError
from core.jobs.context import JOBS, JobCancelled, JobContext, JobLost
from core.jobs.models import Job
from core.jobs.queue import enqueue, queue_for
from core.orm import utcnow
from core.security import has_permission

log = logging.getLogger("kontor.jobs")

WORKER = f"{socket.gethostname()}:{os.getpid()}"


def _settings(app: Flask) -> tuple[float, float]:
    """(heartbeat interval, retry pause per attempt) in seconds."""
    return float(app.config.get("JOB_HEARTBEAT_SECONDS", 5)), float(app.config.get("JOB_RETRY_SECONDS", 30))


def execute(app: Flask, job_id: int) -> str | None:
    """Run job ``job_id`` if it is still waiting (else do nothing); returns its new status."""
    worker = f"{WORKER}:{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    status = _execute(app, job_id, worker)
    if status is not None:
        log.info("job %s %s in %.2f s", job_id, status, time.monotonic() - started)
    return status


def _execute(app: Flask, job_id: int, worker: str) -> str | None:
    with app.app_context():
        db = app_session._get_current_object()
        if not _claim(db, job_id, worker):
            return None
        with all_companies():
            row = db.execute(select(JOBS).where(JOBS.c.id == job_id)).mappings().one()
        heartbeat = None if queue_for(app).immediate else _Heartbeat(app, job_id, worker)
        try:
            result = _run(app, db, row, worker)
        except JobCancelled:
            db.rollback()
            return _finish(db, job_id, worker, "cancelled", message=_cancelled_message())
        except JobLost:
            db.rollback()
            log.warning("job %s was handed to another worker while this one ran it", job_id)
            return None
        except KontorError as exc:  # the work was refused: trying again would be refused again,
            db.rollback()           # unless the refusal says something is unavailable for now
            if exc.status == 503:
                return _retry_or_fail(app, db, row, worker, exc.message)
            return _finish(db, job_id, worker, "failed", error=exc.message)
        except Exception as exc:
            db.rollback()
            log.exception("job %s (%s) failed", job_id, row["kind"])
            return _retry_or_fail(app, db, row, worker, _describe(exc))
        finally:
            if heartbeat is not None:
                heartbeat.stop()
        return _finish(db, job_id, worker, "done", result=result)


def _claim(db, job_id: int, worker: str) -> bool:
    now = utcnow()
    with all_companies():
        claimed = db.execute(
            update(JOBS).where(JOBS.c.id == job_id, JOBS.c.status == "queued",
                               or_(JOBS.c.run_after.is_(None), JOBS.c.run_after <= now))
            .values(status="running", worker=worker, attempts=JOBS.c.attempts + 1, started_at=now,
                    heartbeat_at=now, cancel_requested=False)).rowcount
    db.commit()
    return claimed == 1


def _run(app: Flask, db, row, worker: str) -> Any:
    kontor = app.extensions["kontor"]
    kind = kontor.job_kinds.get(row["kind"])
    if kind is None:
        raise KontorError(f"No module offers jobs of the kind {row['kind']!r} (is it installed and enabled?)")
    user = db.get(User, row["user_id"]) if row["user_id"] else None
    if row["user_id"] and (user is None or not user.active):
        raise KontorError("The user who asked for this job is no longer active.")
    origin = f"job {row['id']}: {row['kind']}"
    with acting_as(user, origin, username="" if user else "job"), in_company(row["company_id"]):
        if kind.permission and user is not None and not has_permission(kind.permission, user):
            raise KontorError(f"{user.username} no longer holds the permission {kind.permission}.")
        context = JobContext(row["id"], db, user, row["company_id"], worker, row["kind"])
        result = kind.run(context, **(row["arguments"] or {}))
        db.commit()
    return result


def _finish(db, job_id: int, worker: str, status: str, *, result=None, error: str = "", message: str | None = None):
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "error": error}
    if result is not None:
        values["result"] = result
    if message is not None:
        values["message"] = message
    with all_companies():
        db.execute(update(JOBS).where(JOBS.c.id == job_id, JOBS.c.worker == worker).values(**values))
    db.commit()
    if status in ("done", "failed"):
        _announce_end(db, job_id)
    return status


def _announce_end(db, job_id: int) -> None:
    # after the outcome is committed, in a transaction of its own: a listener cannot change it
    try:
        with all_companies():
            job = db.get(Job, job_id, populate_existing=True)
        current_app.extensions["kontor"].pm.hook.job_ended(job=job, session=db)
        db.commit()
    except Exception:
        db.rollback()
        log.exception("job %s: a job_ended hook failed", job_id)


def _retry_or_fail(app: Flask, db, row, worker: str, error: str) -> str:
    with all_companies():
        attempts, max_attempts = db.execute(
            select(JOBS.c.attempts, JOBS.c.max_attempts).where(JOBS.c.id == row["id"])).one()
    if attempts >= max_attempts:
        return _finish(db, row["id"], worker, "failed", error=error)
    pause = _settings(app)[1] * attempts
    now = utcnow()
    with all_companies():
        db.execute(update(JOBS).where(JOBS.c.id == row["id"], JOBS.c.worker == worker).values(
            status="queued", error=error, worker="", run_after=now + timedelta(seconds=pause), enqueued_at=now))
    db.commit()
    enqueue(app, row["id"], delay=pause)
    return "queued"


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"[:2000]


def _cancelled_message() -> str:
    from core.i18n import gettext

    return gettext("Cancelled")


class _Heartbeat:
    """Keeps a running job's ``heartbeat_at`` fresh from a thread of its own, on its own connection."""

    def __init__(self, app: Flask, job_id: int, worker: str):
        self.engine = app.extensions["kontor"].engine
        self.job_id, self.worker = job_id, worker
        self.interval = _settings(app)[0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(JOBS).where(JOBS.c.id == self.job_id, JOBS.c.worker == self.worker,
                                                    JOBS.c.status == "running").values(heartbeat_at=utcnow()))
            except Exception:  # a missed beat only makes the job look older; the next one may pass
                log.warning("could not record job %s's heartbeat", self.job_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 1)
