"""The jobs API: ``/api/v1/jobs`` (a user's own jobs, every job for a manager), cancel and retry."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from core.api.base import ApiBlueprint, documented, json_response, load_query, paged
from core.db import session as db
from core.jobs import services
from core.jobs.schemas import JobQuerySchema, JobSchema
from core.security import signed_in
from core.web.transaction import transaction


def create_blueprint() -> Blueprint:
    """``api_jobs``: list, read, cancel and retry jobs."""
    bp = ApiBlueprint("jobs", __name__)

    @bp.get("")
    @signed_in
    @documented("The jobs the token's user may see, newest first (filters: status, kind; paging: after, limit)",
                query=JobQuerySchema, response=JobSchema, many=True)
    def list_jobs():
        args = load_query(JobQuerySchema())
        query = services.jobs_query(current_user, status=args["status"], kind=args["kind"], mine=args["mine"])
        if args["after"]:
            query = query.where(services.Job.id < args["after"])
        rows = db.execute(query.limit(args["limit"] + 1)).scalars().all()
        more = len(rows) > args["limit"]
        rows = rows[:args["limit"]]
        return paged(rows, next_cursor=str(rows[-1].id) if more else None, schema=JobSchema())

    @bp.get("/<int:job_id>")
    @signed_in
    @documented("One job, with its progress and its result or error", response=JobSchema)
    def get_job(job_id: int):
        return json_response(JobSchema().dump(services.get_job(db, job_id, current_user)))

    @bp.post("/<int:job_id>/cancel")
    @signed_in
    @documented("Cancel a job: a waiting one at once, a running one at its next progress report",
                response=JobSchema)
    def cancel_job(job_id: int):
        with transaction():
            job = services.cancel_job(db, services.get_job(db, job_id, current_user))
        return json_response(JobSchema().dump(job))

    @bp.post("/<int:job_id>/retry")
    @signed_in
    @documented("Run a failed or cancelled job again", response=JobSchema)
    def retry_job(job_id: int):
        with transaction():
            job = services.retry_job(db, services.get_job(db, job_id, current_user))
        return json_response(JobSchema().dump(job))

    return bp



