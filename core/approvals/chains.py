"""Approval rules as an admin defines them: a condition over an approvable kind's fields and a chain of
steps (a role, a named user or the requester's manager; in sequence or in parallel; with amount limits)."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.approvals.conditions import compile_condition
from core.approvals.models import APPROVER_TYPES, ApprovalRule, ApprovalStep
from core.approvals.registry import MANAGE, approvable, approvables
from core.auth.models import Role, User
from core.errors import Forbidden, InvalidInput, NotFound
from core.i18n import gettext as _
from core.security import has_permission

MAX_STEPS = 20
MAX_LIMIT = Decimal("9999999999999.99")


def _may_manage() -> None:
    if not has_permission(MANAGE):
        raise Forbidden(_("You may not change approval rules."))


def list_rules(db: Session, kind: str | None = None, *, active_only: bool = False) -> list[ApprovalRule]:
    """The current company's approval rules (of ``kind``), by kind, sequence and id."""
    query = select(ApprovalRule).order_by(ApprovalRule.kind, ApprovalRule.sequence, ApprovalRule.id)
    if kind is not None:
        query = query.where(ApprovalRule.kind == kind)
    if active_only:
        query = query.where(ApprovalRule.active.is_(True))
    return list(db.scalars(query))


def get_rule(db: Session, rule_id: int) -> ApprovalRule:
    """The approval rule ``rule_id`` of a company in scope; :class:`NotFound` otherwise."""
    rule = db.get(ApprovalRule, rule_id) if 0 < rule_id < 2**31 else None
    if rule is None:
        raise NotFound(_("There is no approval rule %(id)s.", id=rule_id))
    return rule


def stages(steps: list[ApprovalStep]) -> list[int]:
    """The stage of each step: a step parallel with the previous one shares its stage."""
    found, stage = [], 0
    for index, step in enumerate(steps):
        if index and not step.parallel:
            stage += 1
        found.append(stage)
    return found


def save_rule(db: Session, rule: ApprovalRule | None, data: Mapping[str, Any]) -> ApprovalRule:
    """Create (``rule`` None) or replace an approval rule from ``data``: kind, name, condition, active,
    sequence and steps (each: approver ``role``/``user``/``manager``, ``role`` name, ``user`` name,
    ``parallel``, ``amount_limit``). Every refusal names its field (``steps.2.role``); nothing changes."""
    _may_manage()
    kind = data.get("kind") if rule is None else rule.kind
    if kind not in approvables():
        raise InvalidInput(_("Pick a kind of record that takes approval."), field="kind")
    name = (data.get("name") or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput(_("Give the rule a name of at most %(n)d characters.", n=120), field="name")
    condition = (data.get("condition") or "").strip()
    compile_condition(kind, condition, field="condition")
    steps = [_step(db, index, step) for index, step in enumerate(data.get("steps") or [])]
    if not steps:
        raise InvalidInput(_("Add at least one step: who approves."), field="steps")
    if len(steps) > MAX_STEPS:
        raise InvalidInput(_("A rule has at most %(n)d steps.", n=MAX_STEPS), field="steps")
    steps[0].parallel = False
    if rule is None:
        rule = ApprovalRule(kind=kind)
        db.add(rule)
    rule.name, rule.condition = name, condition
    rule.active = bool(data.get("active", True))
    rule.sequence = int(data.get("sequence") or 10)
    rule.steps = steps
    db.flush()
    return rule


def _step(db: Session, index: int, data: Mapping[str, Any]) -> ApprovalStep:
    prefix = f"steps.{index + 1}"
    approver = data.get("approver")
    if approver not in APPROVER_TYPES:
        raise InvalidInput(_("Step %(n)d: choose who approves (a role, a user or the requester's manager).",
                             n=index + 1), field=f"{prefix}.approver")
    step = ApprovalStep(position=index, approver_type=approver, parallel=bool(data.get("parallel")),
                        amount_limit=_limit(index, data.get("amount_limit")))
    if approver == "role":
        role = db.scalar(select(Role).where(Role.name == (data.get("role") or "")))
        if role is None:
            raise InvalidInput(_("Step %(n)d: pick a role.", n=index + 1), field=f"{prefix}.role")
        step.role = role
    elif approver == "user":
        user = db.scalar(select(User).where(User.username == (data.get("user") or ""), User.active.is_(True)))
        if user is None:
            raise InvalidInput(_("Step %(n)d: pick an active user.", n=index + 1), field=f"{prefix}.user")
        step.user = user
    return step


def _limit(index: int, value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        limit = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        limit = None
    if limit is None or not limit.is_finite() or limit < 0 or limit > MAX_LIMIT or limit != limit.quantize(Decimal("0.01")):
        raise InvalidInput(_("Step %(n)d: the amount limit is an amount of at least 0 with at most 2 decimals.",
                             n=index + 1), field=f"steps.{index + 1}.amount_limit")
    return limit.quantize(Decimal("0.01"))


def set_active(db: Session, rule: ApprovalRule, active: bool) -> ApprovalRule:
    """Activate or deactivate ``rule`` (a deactivated rule asks nothing of new requests)."""
    _may_manage()
    rule.active = active
    db.flush()
    return rule


def approver_label(step: ApprovalStep) -> str:
    """Who approves at ``step``, for people: the role's title, the user's name, or "Manager"."""
    if step.approver_type == "role" and step.role is not None:
        return step.role.title or step.role.name
    if step.approver_type == "user" and step.user is not None:
        return step.user.full_name or step.user.username
    return _("The requester's manager")


def kind_title(kind: str) -> str:
    """The title of the approvable ``kind``."""
    try:
        return str(approvable(kind).title)
    except NotFound:
        return kind
