"""Sending a campaign in the background: the ``crm.send_campaign`` job and how it is asked for.

The page, the API and the command start the same job; one job sends a campaign, batch by batch,
and may be run again (a worker died, the mail server was away) without mailing anyone twice.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import current_app
from sqlalchemy.orm import Session

from core import Job, JobKind, gettext as _, latest_job, lazy_gettext as _l, start_job, Unavailable

from plugins.crm.campaigns import config, services
from plugins.crm.campaigns.models import Campaign
from plugins.crm.permissions import CAMPAIGN_SEND

KIND = "crm.send_campaign"


def record_of(campaign: Campaign) -> str:
    """The record name the campaign's jobs carry (its page shows their progress), as its messages do."""
    return services.record_of(campaign)


def send_in_background(db: Session, campaign: Campaign, *, user_id: int | None, base_url: str) -> Job:
    """Fix the recipients of a draft and ask for the job that mails them; returns the job.

    A campaign being sent gets its running job back, or, when its last job failed or was
    cancelled, a new job that goes on from where that one stopped. ``base_url`` is the address
    unsubscribe links point to when none is configured.
    """
    config.mail_settings(db)  # refused before the mail server and the sender are set
    if campaign.status != "sending":
        services.start_send(db, campaign, user_id=user_id)  # refuses a campaign sent already
    previous = latest_job(db, record_of(campaign))
    key = f"{record_of(campaign)}:send"
    if previous is not None and previous.finished and campaign.status == "sending":
        key = f"{record_of(campaign)}:resume:{previous.id}"
    return start_job(db, KIND, {"campaign_id": campaign.id, "base_url": config.site_url(db) or base_url},
                     title=_("Send campaign %(name)s", name=campaign.name), record=record_of(campaign), key=key)


def send_all(db: Session, campaign: Campaign, *, base_url: str,
             report: Callable[[services.Progress], None]) -> services.Progress:
    """Mail every recipient of a sending campaign still queued, batch by batch, through the core's
    mail service; ``report(progress)`` after each batch. What the job runs, and the command in the
    foreground.

    What an earlier attempt left is settled first (messages put off by the server go again, none
    that may have left goes twice). Messages the server put off in this run, and a server that
    cannot be reached, raise :class:`Unavailable`: the job tries again later.
    """
    mail = config.mail_settings(db)
    services.resume_send(db, campaign, mail)
    while True:
        progress = services.send_batch(db, campaign, secret=current_app.secret_key, base_url=base_url, config=mail)
        report(progress)
        if progress.finished:
            return progress
        if not services.has_queued(db, campaign):
            break
    waiting = services.put_off(db, campaign)
    if waiting:
        raise Unavailable(_("The mail server put off %(n)s messages; they go again when the job tries again.",
                            n=waiting))
    raise Unavailable(_("Another sender holds the rest of this campaign; try again later."))


def send_campaign_job(job, campaign_id: int, base_url: str) -> dict[str, Any]:
    """The job: mail the campaign's queued recipients batch by batch, reporting progress after each."""
    def report(progress: services.Progress) -> None:
        job.progress(progress.done, progress.total, _(
            "%(sent)s sent, %(failed)s failed, %(skipped)s skipped of %(total)s", sent=progress.sent,
            failed=progress.failed, skipped=progress.skipped, total=progress.total))

    db = job.session
    progress = send_all(db, services.get_campaign(db, campaign_id), base_url=base_url, report=report)
    return {"sent": progress.sent, "failed": progress.failed, "skipped": progress.skipped, "total": progress.total}


def running_job(db: Session, campaign: Campaign) -> Job | None:
    """The campaign's send job when one is waiting or running, else None."""
    job = latest_job(db, record_of(campaign))
    return job if job is not None and not job.finished else None


JOB_KINDS = [JobKind(KIND, run=send_campaign_job, title=_l("Send a campaign"), permission=CAMPAIGN_SEND,
                     max_attempts=3)]
