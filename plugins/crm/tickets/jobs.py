"""The scheduled SLA check: every few minutes, in each company, the tickets that just missed a
target are marked (and noted on their timeline) by the ``crm.check_sla`` job."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from core import JobKind, Schedule, lazy_gettext as _l

from plugins.crm.permissions import TICKET_READ
from plugins.crm.tickets import services

KIND = "crm.check_sla"
#: How often the scheduler checks the service levels of every company's open tickets.
EVERY = timedelta(minutes=5)


def check_sla_job(job) -> dict[str, Any]:
    """The job: mark the open tickets of the job's company that missed a target since the last check."""
    marked = services.mark_breaches(job.session)
    return {"marked": [ticket.number for ticket in marked]}


JOB_KINDS = [JobKind(KIND, run=check_sla_job, title=_l("Check service levels"), permission=TICKET_READ,
                     max_attempts=1)]
SCHEDULES = [Schedule("crm.sla_check", kind=KIND, every=EVERY, per_company=True, title=_l("Check service levels"))]
