"""Importing an uploaded CSV file of leads in the background: the ``crm.import_leads`` job.

The import pages check the file and fix its plan in the request (a bad file is refused beside its
field there), then this job inserts the planned rows chunk by chunk, with progress; run again, it
resumes after the last chunk it committed (see :func:`plugins.crm.leads.imports.import_upload`).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import Job, JobKind, gettext as _, KontorError, lazy_gettext as _l, start_job

from plugins.crm.leads import imports
from plugins.crm.leads.models import LeadUpload
from plugins.crm.permissions import LEAD_IMPORT

KIND = "crm.import_leads"


def record_of(upload: LeadUpload) -> str:
    """The record name an upload's import job carries (its status page shows the job)."""
    return f"crm.lead_upload:{upload.id}"


def import_in_background(db: Session, upload: LeadUpload, *, user, owner_id: int | None, valid_only: bool = False,
                         skip_duplicates: bool = False) -> Job:
    """Check ``upload`` and fix its plan (refused when rows have problems and not ``valid_only``), then
    ask for the job that imports it; asking again returns the same job."""
    imports.plan_upload(db, upload, user=user, valid_only=valid_only, skip_duplicates=skip_duplicates)
    return start_job(db, KIND, {"upload_id": upload.id, "owner_id": owner_id},
                     title=_("Import leads from %(file)s", file=upload.filename), record=record_of(upload),
                     key=f"{record_of(upload)}:import")


def import_leads_job(job, upload_id: int, owner_id: int | None) -> dict[str, Any]:
    """The job: insert the upload's planned rows, chunk by chunk, reporting progress after each."""
    db = job.session
    upload = db.get(LeadUpload, upload_id)
    if upload is None:
        raise KontorError(_("This upload has expired; upload the file again."), field="file", status=404)

    def report(done: int, total: int) -> None:
        job.progress(done, total, _("%(done)s of %(total)s rows imported", done=done, total=total))

    result = imports.import_upload(db, upload, user=job.user, owner_id=owner_id, progress=report)
    return {"created": result.created, "skipped_invalid": result.skipped_invalid,
            "skipped_duplicates": result.skipped_duplicates}


JOB_KINDS = [JobKind(KIND, run=import_leads_job, title=_l("Import leads"), permission=LEAD_IMPORT, max_attempts=3)]
