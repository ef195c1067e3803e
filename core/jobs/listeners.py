"""Jobs are handed to the queue after the transaction that asked for them commits.

This module imports nothing of Kontor's (the session factory in :mod:`core.db` installs it): the
app that asked knows how to enqueue (``app.extensions["kontor_enqueue"]``, set when it is built).
"""
from __future__ import annotations

import logging

from sqlalchemy import event

log = logging.getLogger("kontor.jobs")
PENDING = "kontor_jobs_to_enqueue"


def enqueue_after_commit(db, app, job_id: int) -> None:
    """Hand ``job_id`` to ``app``'s queue once ``db`` commits (never, if it rolls back)."""
    db.info.setdefault(PENDING, []).append((app, job_id))


def install_job_listeners(factory) -> None:
    """Hand the jobs a transaction asked for to the queue once it commits; forget them on rollback."""

    @event.listens_for(factory, "after_commit")
    def _after_commit(db) -> None:
        for app, job_id in db.info.pop(PENDING, None) or ():
            if app is None:  # asked outside any app: the reaper hands it to the queue
                continue
            try:
                app.extensions["kontor_enqueue"](app, job_id)
            except Exception:  # the queue is down: the reaper hands the job over later
                log.warning("could not enqueue job %s", job_id, exc_info=True)

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(db) -> None:
        db.info.pop(PENDING, None)
