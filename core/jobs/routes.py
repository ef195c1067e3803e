"""The jobs pages: a user's jobs (every job of the companies in scope for a manager), one job with
its progress, result or error, and the cancel and retry buttons."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from core.db import session as db
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.jobs import services
from core.jobs.models import Job
from core.jobs.schemas import JobQuerySchema
from core.security import signed_in
from core.web.shell import render
from core.web.transaction import redirect_to, transaction

STATUS_LABELS = {
    "queued": _l("Waiting"),
    "running": _l("Running"),
    "done": _l("Done"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
}


def status_label(status: str) -> str:
    """The user-facing name of a job's status."""
    return str(STATUS_LABELS.get(status, status))


def create_blueprint() -> Blueprint:
    """The ``jobs`` blueprint under ``/jobs``."""
    bp = Blueprint("jobs", __name__, url_prefix="/jobs")

    @bp.get("")
    @signed_in
    def job_list():
        raw = {k: v for k, v in request.args.items() if k in JobQuerySchema().fields}
        errors, status, jobs, more = {}, 200, [], False
        try:
            args = JobQuerySchema().load(raw)
        except ValidationError as exc:
            errors, status = exc.messages, 422
            args = {"status": "", "kind": "", "after": None, "mine": False}
        else:
            query = services.jobs_query(current_user, status=args["status"], kind=args["kind"], mine=args["mine"])
            if args["after"]:
                query = query.where(Job.id < args["after"])
            size = current_app.config["PAGE_SIZE"]
            jobs = db.execute(query.limit(size + 1)).scalars().all()
            more, jobs = len(jobs) > size, jobs[:size]
        html = render("jobs/list.html", "jobs/_list.html", jobs=jobs, more=more, errors=errors, filters=args,
                      kinds=services.describe_kinds(), statuses=STATUS_LABELS,
                      manager=services.can_manage(current_user) and not args["mine"],
                      title=_("My jobs") if args["mine"] else _("Jobs"))
        return html, status

    @bp.get("/<int:job_id>")
    @signed_in
    def job_detail(job_id: int):
        job = services.get_job(db, job_id, current_user)
        return render("jobs/detail.html", job=job, manager=services.can_manage(current_user),
                      title=_("Job %(id)s", id=job.id))

    @bp.get("/<int:job_id>/progress")
    @signed_in
    def job_progress(job_id: int):
        return render("core/jobs/_progress.html", job=services.get_job(db, job_id, current_user))

    @bp.post("/<int:job_id>/cancel")
    @signed_in
    def cancel_job(job_id: int):
        with transaction():
            job = services.cancel_job(db, services.get_job(db, job_id, current_user))
        flash(_("The job is cancelled.") if job.status == "cancelled"
              else _("The job stops at its next step."), "success")
        return redirect_to(url_for("jobs.job_detail", job_id=job_id))

    @bp.post("/<int:job_id>/retry")
    @signed_in
    def retry_job(job_id: int):
        with transaction():
            services.retry_job(db, services.get_job(db, job_id, current_user))
        flash(_("The job runs again."), "success")
        return redirect_to(url_for("jobs.job_detail", job_id=job_id))

    return bp
