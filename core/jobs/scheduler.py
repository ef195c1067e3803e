"""The scheduler's tick: start the jobs whose time has come, and hand lost jobs to the queue again.

Every run of a schedule has a key made of the schedule, the company and the tick (``core_job``'s
unique idempotency key), so a tick fired twice, by two schedulers or after a restart, starts the
job once. On PostgreSQL the schedulers also elect one of them with an advisory lock, so the others
stand by instead of racing for the same keys.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

from flask import Flask
from huey import crontab
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from core.company.scope import all_companies
from core.contrib import Schedule
from core.db import session as app_session
from core.jobs.context import JOBS
from core.jobs.models import Job
from core.jobs.queue import enqueue
from core.jobs.services import _create
from core.orm import utcnow

log = logging.getLogger("kontor.jobs")
#: The advisory lock the schedulers of a PostgreSQL deployment elect their leader with.
LEADER_LOCK = 7252151


def due_runs(schedule: Schedule, now: datetime, window: timedelta) -> list[str]:
    """The tick labels of ``schedule`` due in ``(now - window, now]`` (the newest last)."""
    if schedule.every is not None:
        period = schedule.every.total_seconds()
        slot = int(now.timestamp() // period) * period
        return [datetime.fromtimestamp(slot, timezone.utc).strftime("%Y%m%dT%H%M%S")]
    minute, hour, day, month, weekday = (schedule.cron or "").split()
    matches = crontab(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday)
    start = now.replace(second=0, microsecond=0)
    labels = []
    for back in range(max(1, int(window.total_seconds() // 60) + 1)):
        moment = start - timedelta(minutes=back)
        if matches(moment.replace(tzinfo=None)):
            labels.append(moment.strftime("%Y%m%dT%H%M"))
    return labels[::-1]


def tick(app: Flask, now: datetime | None = None, window: timedelta = timedelta(minutes=2)) -> list[int]:
    """Start every scheduled job due at ``now`` that no scheduler started yet; returns their ids."""
    now = now or utcnow()
    started = []
    with app.app_context(), all_companies():
        db = app_session._get_current_object()
        schedules = app.extensions["kontor"].schedules
        companies = db.execute(text("SELECT id FROM core_company WHERE active ORDER BY id")).scalars().all()
        default = companies[0] if companies else None
        for schedule in schedules:
            for label in due_runs(schedule, now, window):
                for company in (companies if schedule.per_company else [default]):
                    if company is None:
                        continue
                    key = f"schedule:{schedule.name}:{company if schedule.per_company else 'group'}:{label}"
                    if db.execute(select(Job.id).where(Job.idempotency_key == key)).first():
                        continue
                    try:
                        job = _create(db, schedule.kind, schedule.arguments, user_id=None, company_id=company,
                                      title="",  # the schedule's or kind's title, in the reader's language
                                      record="", key=key,
                                      max_attempts=app.extensions["kontor"].job_kinds[schedule.kind].max_attempts)
                        db.commit()
                        started.append(job.id)
                    except IntegrityError:  # another scheduler started it a moment ago
                        db.rollback()
    return started


def reap(app: Flask, now: datetime | None = None) -> list[int]:
    """Hand to the queue again the jobs whose worker died (stale heartbeat) or whose message was
    lost (waiting too long); a job out of attempts fails instead. Returns the ids handed over."""
    now = now or utcnow()
    stale = now - timedelta(seconds=float(app.config.get("JOB_STALE_SECONDS", 60)))
    handed = []
    with app.app_context(), all_companies():
        db = app_session._get_current_object()
        dead = db.execute(select(JOBS.c.id, JOBS.c.attempts, JOBS.c.max_attempts, JOBS.c.worker).where(
            JOBS.c.status == "running", JOBS.c.heartbeat_at < stale)).all()
        for job_id, attempts, max_attempts, worker in dead:
            values = ({"status": "failed", "finished_at": now, "error": "The worker running it stopped."}
                      if attempts >= max_attempts else
                      {"status": "queued", "worker": "", "enqueued_at": now, "run_after": None})
            changed = db.execute(update(JOBS).where(JOBS.c.id == job_id, JOBS.c.worker == worker,
                                                    JOBS.c.status == "running").values(**values)).rowcount
            if changed and values["status"] == "queued":
                handed.append(job_id)
        lost = db.execute(select(JOBS.c.id).where(
            JOBS.c.status == "queued", or_(JOBS.c.run_after.is_(None), JOBS.c.run_after <= now),
            or_(JOBS.c.enqueued_at.is_(None), JOBS.c.enqueued_at < stale))).scalars().all()
        if lost:
            db.execute(update(JOBS).where(and_(JOBS.c.id.in_(lost), JOBS.c.status == "queued")).values(enqueued_at=now))
            handed.extend(lost)
        db.commit()
    for job_id in handed:
        enqueue(app, job_id)
    return handed


class SchedulerThread(threading.Thread):
    """A worker's scheduler: every ``tick_seconds`` (when it leads) :func:`tick` and :func:`reap`."""

    def __init__(self, app_source, tick_seconds: float):
        super().__init__(name="kontor-scheduler", daemon=True)
        self.app_source, self.tick_seconds = app_source, tick_seconds
        self.stopping = threading.Event()
        self._leader_conn = None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                app = self.app_source()
                if self._leads(app):
                    window = timedelta(seconds=max(120.0, self.tick_seconds * 2))
                    tick(app, window=window)
                    reap(app)
            except Exception:
                log.exception("the scheduler's tick failed; it tries again at the next one")
            self.stopping.wait(self.tick_seconds)
        if self._leader_conn is not None:
            self._leader_conn.close()

    def _leads(self, app: Flask) -> bool:
        engine = app.extensions["kontor"].engine
        if engine.dialect.name != "postgresql":
            return True  # one host: the keys alone keep a duplicate tick harmless
        try:
            if self._leader_conn is None:
                self._leader_conn = engine.connect()
                self._leading = False
            if not self._leading:  # a session-level lock: held while this connection lives
                self._leading = bool(self._leader_conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK}).scalar())
            else:
                self._leader_conn.execute(text("SELECT 1"))  # still connected, so still holding it
            self._leader_conn.commit()
            return self._leading
        except Exception:
            self._leader_conn.close()
            self._leader_conn = None
            raise
