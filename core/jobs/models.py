"""The job table: the truth about every piece of background work, which the queue itself lacks.

huey carries a job's id from the web process to a worker; everything else (who asked, what it is
doing, how far it got, whether it is alive, what came of it) lives in ``core_job``, written in the
same transaction as the business change that asked for the job.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.company.scope import CompanyScoped
from core.db import Base, UTCDateTime, utcnow

#: The states of a job, in the order a job usually passes through them.
STATUSES = ("queued", "running", "done", "failed", "cancelled")
#: The states a job does not leave again (unless an admin retries a failed or cancelled one).
FINISHED = ("done", "failed", "cancelled")


class Job(CompanyScoped, Base):
    """One piece of background work: a registered kind run with its arguments as the user who asked."""

    __tablename__ = "core_job"
    __audited__ = False  # requests, cancels and retries are audited as events; the work itself audits its rows
    __table_args__ = (
        Index("ix_core_job_status_run_after", "status", "run_after"),
        Index("ix_core_job_user_id_id", "user_id", "id"),
        Index("ix_core_job_record", "record"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    arguments: Mapped[dict] = mapped_column(JSON, default=dict)
    #: who asked (None: the system, a schedule); the job runs as this user
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True)
    #: the record the job works on, e.g. ``crm.campaign:7``: its page shows the job's progress
    record: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(12), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(String(300), default="")
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    #: one job per key: a second request with the same key returns the first job
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: when the job was last handed to the queue (the reaper hands it again if it is lost)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: not before this time (a retry's back-off)
    run_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def finished(self) -> bool:
        """Whether the job has ended (done, failed or cancelled)."""
        return self.status in FINISHED

    @property
    def percent(self) -> int | None:
        """How far the job got, 0–100, when it knows its total."""
        if not self.total:
            return 100 if self.status == "done" else None
        return max(0, min(100, int(self.done * 100 / self.total)))
