"""What the modules' approval tests share: an approval rule set up as an admin does it, on the core's
Administration → Approval rules form, and the pending task a user is asked to decide."""
from __future__ import annotations

from sqlalchemy import select


def rule_form(name: str, condition: str, steps: list[dict]) -> dict:
    """The fields the rule form posts: ``steps`` as ``{"approver": "role", "role": "accountant"}``,
    ``{"approver": "user", "user": "karl"}`` or ``{"approver": "manager"}`` (``amount_limit``,
    ``parallel`` too)."""
    form = {"name": name, "condition": condition, "active": "1", "sequence": "10", "step_count": str(len(steps))}
    for number, step in enumerate(steps):
        for key, value in step.items():
            form[f"step-{number}-{key}"] = "1" if value is True else str(value)
    return form


def add_rule(admin_client, kind: str, name: str, condition: str, steps: list[dict]) -> None:
    """Save an approval rule for records of ``kind`` through the admin's form (signed-in ``admin_client``)."""
    response = admin_client.post_form(f"/admin/approval-rules/new?kind={kind}", rule_form(name, condition, steps))
    assert response.status_code == 303, response.get_data(as_text=True)


def pending_task_id(db, kind: str, record_id: int) -> int:
    """The id of the one task of the record's latest request that waits for a decision now."""
    from core.approvals.models import ApprovalRequest

    request = db.scalar(select(ApprovalRequest).where(ApprovalRequest.kind == kind, ApprovalRequest.record_id == record_id)
                        .order_by(ApprovalRequest.id.desc()).limit(1))
    [task] = [task for task in request.tasks if task.state == "pending"]
    return task.id
