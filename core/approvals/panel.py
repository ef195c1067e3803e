"""What the Approval panel of a record and the "Awaiting my approval" page show a user."""
from __future__ import annotations

from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import current_actor
from core.approvals import services
from core.approvals.models import ApprovalTask
from core.approvals.registry import approvables, approvable
from core.auth.models import User
from core.company.models import company_users
from core.i18n import gettext as _
from core.security import has_permission


def state_label(state: str) -> str:
    """A request's or task's state for people."""
    return {
        "none": _("No approval needed"), "required": _("Needs approval"), "pending": _("Pending"),
        "approved": _("Approved"), "rejected": _("Rejected"), "recalled": _("Recalled"), "waiting": _("Waiting"),
        "skipped": _("Not needed (within an earlier approver's limit)"), "reset": _("Asked again after a change"),
        "closed": _("Closed"),
    }.get(state, state)


def context(db: Session, kind: str, record) -> dict:
    """The template context of the Approval panel of ``record`` for the current user."""
    target = approvable(kind)
    user = current_actor()
    state = services.approval_state(db, kind, record)
    request = services.latest_request(db, kind, record.id)
    current = [t for t in request.tasks if t.state != "reset"] if request else []
    decidable = {t.id for t in current if t.state == "pending" and request.state == "pending"
                 and services.may_decide(db, t, user)}
    return {
        "kind": kind, "record": record, "target": target, "state": state, "approval": request,
        "rules": [(name, list(tasks)) for name, tasks in groupby(current, key=lambda t: t.rule_name)],
        "was_reset": bool(request and any(t.state == "reset" for t in request.tasks)),
        "can_request": state in ("required", "rejected") and has_permission(target.request_permission),
        "can_recall": bool(request and request.state == "pending" and user is not None
                           and request.requested_by_id == user.id),
        "decidable": decidable,
        "delegates": _delegates(db, request, user) if decidable else [],
        "state_label": state_label,
        "assignee_names": assignee_names,
        "panel_id": f"approval-{kind.replace('.', '-')}-{record.id}",
    }


def assignee_names(task: ApprovalTask) -> str:
    """Who may decide ``task``, by name."""
    return ", ".join(a.user.full_name or a.user.username for a in task.assignees)


def _delegates(db: Session, request, user) -> list[tuple[int, str]]:
    """Whom the user may hand a task over to: active users of the request's company but the requester."""
    members = select(company_users.c.user_id).where(company_users.c.company_id == request.company_id)
    users = db.scalars(select(User).where(User.active.is_(True), User.id.in_(members)).order_by(User.username))
    return [(u.id, u.full_name or u.username) for u in users if u.id not in (user.id, request.requested_by_id)]


def describe_task(db: Session, task: ApprovalTask) -> dict:
    """The record of ``task`` for the awaiting page: its kind's title and its URL (None when the kind is gone)."""
    target = approvables().get(task.request.kind)
    if target is None:
        return {"kind": task.request.kind, "url": None}
    record = services.record_as_system(db, task.request)
    return {"kind": str(target.title), "url": target.url(record) if record is not None else None}
