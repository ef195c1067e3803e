"""The notifications' background work: the daily digest, and telling a user their job has ended."""
from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy.orm import Session

from core.auth.models import User
from core.company.scope import in_company
from core.i18n import N_
from core.jobs.models import Job
from core.jobs.services import job_title
from core.mail.services import SEND_KIND
from core.notifications.services import locale_of, notify, send_digests

DIGEST_KIND = "core.notification_digest"
JOB_DONE, JOB_FAILED = "core.job_done", "core.job_failed"


def digest_job(job) -> dict:
    """Send every user their daily digest (a run again sends nothing twice)."""
    return {"sent": send_digests(job.session)}


def tell_who_asked(db: Session, job: Job) -> None:
    """Notify the user who asked for ``job`` that it finished or failed (nobody for the system's
    and the scheduler's jobs; a sent mail is in the mail log, only its failure is told)."""
    if job.user_id is None or job.status not in ("done", "failed"):
        return
    if job.kind == SEND_KIND and job.status == "done":
        return
    user = db.get(User, job.user_id)
    if user is None or not user.active:
        return
    with force_locale(locale_of(db, user)):
        title = str(job_title(job))  # the one reader is its owner: named in their language
    with in_company(job.company_id):
        if job.status == "done":
            notify(db, JOB_DONE, [user], N_("Your job \u201c%(title)s\u201d has finished."), {"title": title},
                   url=f"/jobs/{job.id}")
        else:
            notify(db, JOB_FAILED, [user], N_("Your job \u201c%(title)s\u201d has failed."), {"title": title},
                   url=f"/jobs/{job.id}")
