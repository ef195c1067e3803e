"""An export's page (its job's progress, then a download link) and the download, for its owner only."""
from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from core.db import session as db
from core.exports.jobs import EXPORT_KIND
from core.jobs.models import Job
from core.security import signed_in
from core.filestore import storage
from core.filestore.download import send_stored
from core.web.shell import render


def _own_export(job_id: int) -> Job:
    """The export ``job_id`` if the signed-in user asked for it (in a company in scope); else 404."""
    job = db.get(Job, job_id)
    if job is None or job.kind != EXPORT_KIND or job.user_id != current_user.id:
        abort(404)
    return job


def create_blueprint() -> Blueprint:
    """The ``exports`` blueprint (made anew for every app build)."""
    bp = Blueprint("exports", __name__, url_prefix="/exports")

    @bp.get("/<int:job_id>")
    @signed_in
    def export(job_id: int):
        job = _own_export(job_id)
        return render("exports/export.html", "exports/_export.html", job=job, title=job.title)

    @bp.get("/<int:job_id>/download")
    @signed_in
    def download(job_id: int):
        job = _own_export(job_id)
        if job.status != "done" or not job.result or job.result.get("expired"):
            abort(404)
        try:
            return send_stored(storage(), job.result["file"], job.result["filename"], job.result["content_type"])
        except FileNotFoundError:
            abort(404)

    return bp
