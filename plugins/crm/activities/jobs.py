"""The scheduled due reminders: every few minutes, in each company, the ``crm.notify_due_activities``
job tells the assignees of the activities that fell due since the last run."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from core import JobKind, Schedule, lazy_gettext as _l

from plugins.crm.activities import due
from plugins.crm.permissions import ACTIVITY_READ

KIND = "crm.notify_due_activities"
#: How often the scheduler looks for activities that fell due.
EVERY = timedelta(minutes=5)


def notify_due_job(job) -> dict[str, Any]:
    """The job: notify the assignees of the job's company's activities that fell due."""
    return {"notified": [activity.id for activity in due.notify_due(job.session)]}


JOB_KINDS = [JobKind(KIND, run=notify_due_job, title=_l("Remind assignees of due activities"),
                     permission=ACTIVITY_READ, max_attempts=1)]
SCHEDULES = [Schedule("crm.activity_due", kind=KIND, every=EVERY, per_company=True,
                      title=_l("Remind assignees of due activities"))]
