"""The exchange-rate revaluation run as a job: one per company and day, its entry the result.

No schedule starts it: a revaluation values the open balances at the rates of its day, which an
accountant loads (or checks) first, and it posts into a period the accountant is closing; a run at
month end that found last month's rates missing would post at stale rates. It is started from the
currencies page (or ``kontor accounting revalue``) once the period's rates are in.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import Conflict, Job, JobKind, current_company_id, gettext as _, lazy_gettext as _l, start_job

from plugins.accounting.currencies import revaluation
from plugins.accounting.ledger import services as ledger
from plugins.accounting.ledger.models import Entry
from plugins.accounting.permissions import ENTRY_POST

REVALUE_KIND = "accounting.revalue"
#: The record whose page (the currencies page) shows the revaluation jobs of the company.
RECORD = "accounting.revaluation"
FINISHED = ("done", "failed", "cancelled")


def start_revaluation(db: Session, day: date) -> Job:
    """Start the revaluation of ``day``; refused at once for a day on or before the lock date, or
    whose revaluation is posted already.

    There is one revaluation per company and day: a second request while one runs gets that job
    back, and once one posted its entry no other starts. A run that failed or found nothing to
    post may be asked for again (after the day's rates are in). The caller commits; the job starts
    after the commit.
    """
    ledger.check_lock_date(db, day)
    posted = posted_revaluation(db, day)
    if posted is not None:
        raise Conflict(_("The revaluation of %(day)s is posted already: entry %(number)s.", day=day.isoformat(),
                         number=posted.number), field="date")
    prefix = f"{RECORD}:{current_company_id(db)}:{day.isoformat()}"
    earlier = db.execute(select(func.count()).select_from(Job)
                         .where(Job.idempotency_key.like(f"{prefix}:%"), Job.status.in_(FINISHED))).scalar_one()
    return start_job(db, REVALUE_KIND, {"day": day.isoformat()},
                     title=_("Exchange revaluation %(day)s", day=day.isoformat()), record=RECORD,
                     key=f"{prefix}:{earlier + 1}")


def posted_revaluation(db: Session, day: date) -> Entry | None:
    """The revaluation entry of ``day`` in the current company, if one is posted (not its reversal)."""
    return db.execute(select(Entry).where(Entry.source == f"{revaluation.SOURCE}:{day.isoformat()}",
                                          Entry.reversal_of_id.is_(None))
                      .order_by(Entry.id).limit(1)).scalars().first()


def revaluation_job(job, day: str) -> dict:
    """The job: post the revaluation of ``day`` unless it is posted already; returns its entry."""
    db = job.session
    day_ = date.fromisoformat(day)
    job.progress(0, 1, _("Valuing the open foreign-currency balances at the rates of %(day)s", day=day))
    entry = posted_revaluation(db, day_)
    if entry is None:
        posted = revaluation.revalue(db, day_, user_id=job.user.id if job.user is not None else None)
        if posted is None:
            return {"day": day, "posted": False}
        entry = posted[0]
    reversal = db.execute(select(Entry).where(Entry.reversal_of_id == entry.id)).scalars().first()
    return {"day": day, "posted": True, "entry_id": entry.id, "number": entry.number,
            "reversal_id": reversal.id if reversal else None, "reversal_number": reversal.number if reversal else None,
            "reversal_date": reversal.date.isoformat() if reversal else None}


def job_kinds() -> list[JobKind]:
    """The currencies area's job kinds."""
    return [JobKind(REVALUE_KIND, run=revaluation_job, title=_l("Exchange revaluation"), permission=ENTRY_POST,
                    max_attempts=3)]
