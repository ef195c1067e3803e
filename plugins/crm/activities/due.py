"""The notification an activity's assignee gets when it falls due, once per due time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import N_, NotificationKind, lazy_gettext as _l, notify, utcnow

from plugins.crm.activities.models import Activity

DUE = "crm.activity_due"
KINDS = [NotificationKind(DUE, _l("An activity of mine falls due"))]


def record_of(activity: Activity) -> str | None:
    """The record whose readers may see the activity, as a notification names it: its opportunity or
    lead. None for an activity only about a customer, which its assignee always sees (see
    :mod:`plugins.crm.access`)."""
    if activity.opportunity_id:
        return f"crm.opportunity:{activity.opportunity_id}"
    if activity.lead_id:
        return f"crm.lead:{activity.lead_id}"
    return None


def notify_due(db: Session, now: datetime | None = None) -> list[Activity]:
    """Tell the assignee (their owner when the assignee is no longer active) of each open activity
    of the current company whose due time has come; each activity once, however often this runs.

    The marker is set in the same transaction as the notification; on PostgreSQL the rows are
    locked (another run skips them), on SQLite a second writer waits, then finds them marked.
    """
    now = now or utcnow()
    query = (select(Activity).where(Activity.done.is_(False), Activity.due_at.is_not(None), Activity.due_at <= now,
                                    Activity.due_notified_at.is_(None))
             .order_by(Activity.due_at, Activity.id).with_for_update(skip_locked=True, of=Activity))
    found = list(db.execute(query).unique().scalars())
    for activity in found:
        activity.due_notified_at = now
        recipient = activity.assignee_id if activity.assignee.active else activity.created_by_id
        if recipient is not None:
            notify(db, DUE, [recipient], N_("%(subject)s is due"), {"subject": activity.subject},
                   record=record_of(activity), url=f"/crm/activities/{activity.id}")
    db.flush()
    return found
