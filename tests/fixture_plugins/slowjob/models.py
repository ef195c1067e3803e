"""What slowjob's jobs leave behind: one row per step done, one row per scheduled run."""
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core import Base


class Step(Base):
    """Step ``step`` of the steps job with ``run``: written once per step, however often the job runs.

    No unique key on purpose: the job's own check keeps it once, and the test counts the rows."""

    __tablename__ = "slowjob_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    run: Mapped[str] = mapped_column(String(40), index=True)
    step: Mapped[int] = mapped_column(Integer)


class Tick(Base):
    """One row each time the scheduled job ran (so a run done twice shows as two rows)."""

    __tablename__ = "slowjob_tick"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(Integer, index=True)
