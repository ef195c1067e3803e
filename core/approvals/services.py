"""The approval engine: ask for approval of a record, decide its tasks, reset it when it changes.

A request holds one task per step of every active rule whose condition holds for the record. A
rule's first steps are pending, the later ones waiting until the steps before them are approved; a
step whose approver's amount limit covers the record's amount completes its rule's chain. The
request is approved when every rule's chain is, rejected at the first rejection. The record's
module hears each outcome through ``approval_decided`` in the same transaction, and decides what
it unlocks. Every change is a row change, so the audit log holds every decision.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.actor import acting_as, current_actor
from core.approvals import conditions
from core.approvals.chains import approver_label, list_rules, stages
from core.approvals.models import ApprovalAssignee, ApprovalAway, ApprovalRequest, ApprovalRule, ApprovalTask
from core.approvals.registry import approvable
from core.auth.models import User, user_roles
from core.company.models import company_user_roles, company_users
from core.contrib import Approvable
from core.db import utcnow
from core.errors import Conflict, Forbidden, InvalidInput, KontorError, NotFound
from core.i18n import N_
from core.i18n import gettext as _
from core.notifications.services import notify
from core.plugins import hooks
from core.security import has_permission

OPEN = ("pending", "waiting")
REQUESTED = "core.approval_requested"
DECIDED = "core.approval_decided"
MAX_REASON = 2000


# -- reading --


def latest_request(db: Session, kind: str, record_id: int) -> ApprovalRequest | None:
    """The newest request for the record, whatever its state."""
    return db.scalar(select(ApprovalRequest).where(ApprovalRequest.kind == kind, ApprovalRequest.record_id == record_id)
                     .order_by(ApprovalRequest.id.desc()).limit(1))


def _matching(db: Session, target: Approvable, values: dict[str, Any]) -> tuple[list[ApprovalRule], list[ApprovalRule]]:
    """The active rules of the kind, and those of them whose condition holds for ``values``."""
    rules = list_rules(db, target.kind, active_only=True)
    return rules, [rule for rule in rules if conditions.holds(db, target.kind, rule.condition, values)]


def _any_holds(db: Session, target: Approvable, values: dict[str, Any]) -> bool:
    """Whether the condition of any active rule of the kind holds for ``values`` (only the conditions
    are read: a module asks this before every act the approval guards)."""
    found = db.scalars(select(ApprovalRule.condition).where(ApprovalRule.kind == target.kind,
                                                            ApprovalRule.active.is_(True))
                       .order_by(ApprovalRule.sequence, ApprovalRule.id))
    return any(conditions.holds(db, target.kind, condition, values) for condition in found)


def approval_state(db: Session, kind: str, record) -> str:
    """Where the record stands: ``none`` (no rule applies), ``required`` (a rule applies and nobody
    asked, or the record changed since it was approved or rejected), ``pending``, ``approved`` or
    ``rejected``."""
    target = approvable(kind)
    request = latest_request(db, kind, record.id)
    values = target.values(record)
    if request is not None and request.state == "pending":
        return "pending"
    if request is not None and request.state in ("approved", "rejected"):
        # a decision holds for the values it was made on; once a field the rules read changed, the
        # rules that hold now decide (ask again, or no approval needed)
        if not conditions.changed_fields(request.snapshot, values):
            return request.state
    return "required" if _any_holds(db, target, values) else "none"


def require_approval(db: Session, kind: str, record, message: str | Mapping[str, str] | None = None) -> None:
    """Refuse (:class:`Conflict`) unless the record needs no approval or is approved.

    ``message`` is the module's own sentence ("This bill needs approval before it can be posted"),
    or one per state (``required``, ``pending``, ``rejected``); the core's general one otherwise.
    """
    state = approval_state(db, kind, record)
    if state in ("none", "approved"):
        return
    if isinstance(message, Mapping):
        message = message.get(state)
    if message is None:
        title = str(approvable(kind).title)
        message = {
            "required": _("This %(what)s needs approval first: ask for it.", what=title),
            "pending": _("This %(what)s is waiting for approval.", what=title),
            "rejected": _("The approval of this %(what)s was rejected.", what=title),
        }[state]
    raise Conflict(message)


def get_request(db: Session, request_id: int) -> tuple[ApprovalRequest, Any]:
    """The request ``request_id`` and its record, if the actor may read the record (else NotFound
    or Forbidden, as the record's page would answer)."""
    request = db.get(ApprovalRequest, request_id) if 0 < request_id < 2**31 else None
    if request is None:
        raise NotFound(_("There is no approval request %(id)s.", id=request_id))
    return request, load_record(db, request.kind, request.record_id)


def load_record(db: Session, kind: str, record_id: int):
    """The record ``kind`` ``record_id`` as the actor may read it (NotFound, Forbidden otherwise)."""
    target = approvable(kind)
    if not has_permission(target.read_permission):
        raise Forbidden(_("You may not see this record."))
    record = db.get(target.model, record_id) if 0 < record_id < 2**31 else None
    if record is None:
        raise NotFound(_("There is no %(kind)s %(id)s.", kind=kind, id=record_id))
    return record


def get_task(db: Session, task_id: int) -> ApprovalTask:
    """The task ``task_id`` of a request of a company in scope; NotFound otherwise."""
    task = db.get(ApprovalTask, task_id) if 0 < task_id < 2**31 else None
    if task is None or db.get(ApprovalRequest, task.request_id) is None:
        raise NotFound(_("There is no approval task %(id)s.", id=task_id))
    return task


def away_delegators(db: Session, user_id: int, on: date | None = None) -> list[int]:
    """The users who are away on ``on`` (today) and have left their approvals to ``user_id``."""
    on = on or date.today()
    return list(db.scalars(select(ApprovalAway.user_id).where(
        ApprovalAway.delegate_id == user_id, ApprovalAway.starts <= on, ApprovalAway.ends >= on)))


def may_decide(db: Session, task: ApprovalTask, user) -> bool:
    """Whether ``user`` may decide ``task``: an assignee, or the delegate of an assignee away today;
    never the requester."""
    if user is None or task.request.requested_by_id == user.id:
        return False
    if user.id in task.assignee_ids:
        return True
    return bool(task.assignee_ids & set(away_delegators(db, user.id)))


def _awaiting_query(db: Session, user, what):
    """A select of ``what`` over the pending tasks ``user`` may decide (their own, and those of whoever
    left theirs to them), of pending requests of the companies in scope that they did not ask for."""
    for_whom = [user.id, *away_delegators(db, user.id)]
    return (select(what).join(ApprovalRequest, ApprovalRequest.id == ApprovalTask.request_id)
            .where(ApprovalTask.state == "pending", ApprovalRequest.state == "pending",
                   or_(ApprovalRequest.requested_by_id.is_(None), ApprovalRequest.requested_by_id != user.id),
                   ApprovalTask.id.in_(select(ApprovalAssignee.task_id)
                                       .where(ApprovalAssignee.user_id.in_(for_whom)))))


def awaiting(db: Session, user) -> list[ApprovalTask]:
    """The pending tasks ``user`` may decide, oldest first (see :func:`_awaiting_query`)."""
    return list(db.scalars(_awaiting_query(db, user, ApprovalTask).order_by(ApprovalTask.id)))


def awaiting_count(db: Session, user) -> int:
    """How many tasks await ``user``'s decision (the number beside "Awaiting my approval")."""
    return db.scalar(_awaiting_query(db, user, func.count(ApprovalTask.id)))


# -- asking --


def request_approval(db: Session, kind: str, record, *, note: str = "") -> ApprovalRequest | None:
    """Ask for approval of ``record`` of ``kind``; None when no active rule applies to it.

    Needs the kind's request permission. A request already pending (or approved, with the record
    unchanged since) is returned as it is. Otherwise a new request holds the values of the fields
    the rules read and a task per step of each rule that applies; the first approvers are notified.
    """
    target = approvable(kind)
    actor = current_actor()
    if actor is None or not has_permission(target.request_permission):
        raise Forbidden(_("You may not ask for approval of this record."))
    note = _clean_text(note, "note")
    values = target.values(record)
    existing = latest_request(db, kind, record.id)
    if existing is not None and existing.state == "pending":
        return existing
    if existing is not None and existing.state == "approved" and not conditions.changed_fields(existing.snapshot,
                                                                                                  values):
        return existing
    rules, matching = _matching(db, target, values)
    if not matching:
        return None
    request = ApprovalRequest(kind=kind, record_id=record.id, state="pending", title=str(target.describe(record))[:300],
                              note=note, requested_by_id=actor.id, requested_at=utcnow(),
                              snapshot=conditions.snapshot(values, conditions.read_fields(target, [r.condition for r in rules])))
    db.add(request)
    db.flush()
    _ask(db, request, matching, actor)
    db.flush()
    _notify_pending(db, request, target, record, [t for t in request.tasks if t.state == "pending"])
    return request


def _ask(db: Session, request: ApprovalRequest, rules: list[ApprovalRule], requester: User) -> None:
    """Add a task per step of each of ``rules`` to ``request``: the first stage pending, the rest waiting."""
    for rule in rules:
        for step, stage in zip(rule.steps, stages(rule.steps)):
            approvers = _approvers(db, request, rule, step, requester)
            task = ApprovalTask(rule_id=rule.id, rule_name=rule.name, stage=stage, approver_type=step.approver_type,
                                approver_label=_label(step, approvers), amount_limit=step.amount_limit,
                                state="pending" if stage == 0 else "waiting", reason="")
            task.assignees = [ApprovalAssignee(user_id=user.id) for user in approvers]
            request.tasks.append(task)


def _label(step, approvers: list[User]) -> str:
    if step.approver_type == "manager" and approvers:
        return (approvers[0].full_name or approvers[0].username)[:200]
    return approver_label(step)[:200]


def _approvers(db: Session, request: ApprovalRequest, rule: ApprovalRule, step, requester: User) -> list[User]:
    """The users who may approve ``step`` of ``request``: never the requester; for a role, its
    holders in the request's company who may read the record."""
    number = step.position + 1
    if step.approver_type == "manager":
        manager = db.get(User, requester.manager_id) if requester.manager_id else None
        if manager is None or not manager.active:
            raise Conflict(_("Step %(n)d of the rule %(rule)s asks your manager to approve, and you have no active "
                             "manager: ask an administrator to set one.", n=number, rule=rule.name))
        return [manager]
    if step.approver_type == "user":
        if step.user is None or not step.user.active or step.user.id == requester.id:
            raise Conflict(_("Step %(n)d of the rule %(rule)s names an approver who cannot approve this request "
                             "(inactive, or you yourself).", n=number, rule=rule.name))
        return [step.user]
    read_permission = approvable(request.kind).read_permission
    holders = [user for user in _role_holders(db, step.role_id, request.company_id)
               if user.id != requester.id and has_permission(read_permission, user)]
    if not holders:
        raise Conflict(_("Step %(n)d of the rule %(rule)s asks the role %(role)s to approve, and nobody else in "
                         "this company holds it.", n=number, rule=rule.name,
                         role=step.role.title or step.role.name if step.role else "?"))
    return holders


def _role_holders(db: Session, role_id: int, company_id: int) -> list[User]:
    """The active users who work in the company and hold the role there (everywhere, or in it only)."""
    everywhere = select(user_roles.c.user_id).where(user_roles.c.role_id == role_id)
    here = select(company_user_roles.c.user_id).where(company_user_roles.c.role_id == role_id,
                                                      company_user_roles.c.company_id == company_id)
    members = select(company_users.c.user_id).where(company_users.c.company_id == company_id)
    return list(db.scalars(select(User).where(User.active.is_(True), User.id.in_(members),
                                              or_(User.id.in_(everywhere), User.id.in_(here)))
                           .order_by(User.username)))


# -- deciding --


def _decidable(db: Session, task_id: int) -> tuple[ApprovalTask, User]:
    task = get_task(db, task_id)
    actor = current_actor()
    if actor is None:
        raise Forbidden(_("Sign in to decide approvals."))
    load_record(db, task.request.kind, task.request.record_id)  # who may not read the record may not decide it
    if task.request.requested_by_id == actor.id:
        raise Forbidden(_("You asked for this approval: someone else must decide it."))
    if not may_decide(db, task, actor):
        raise Forbidden(_("This approval is not yours to decide."))
    if task.request.state != "pending" or task.state != "pending":
        raise Conflict(_("This approval is no longer waiting for a decision."))
    return task, actor


def _amount(request: ApprovalRequest, target: Approvable) -> Decimal | None:
    value = request.snapshot.get(target.amount) if target.amount else None
    return Decimal(value) if value not in (None, "") else None


def approve(db: Session, task_id: int, note: str = "") -> ApprovalTask:
    """Approve the task ``task_id`` as the actor (an assignee or their delegate, never the requester).

    When the stage is all approved, the rule's next stage is asked, unless an approver's amount limit
    covers the amount (the chain is complete). An approver whose limit is below the amount cannot
    approve the last step. When every rule is complete the request is approved and the module told.
    """
    task, actor = _decidable(db, task_id)
    request = task.request
    target = approvable(request.kind)
    amount = _amount(request, target)
    rule_tasks = [t for t in request.tasks if t.rule_id == task.rule_id and t.state not in ("reset", "closed")]
    last_stage = max(t.stage for t in rule_tasks)
    if amount is not None and task.amount_limit is not None and amount > task.amount_limit and task.stage == last_stage:
        raise Forbidden(_("You approve up to %(limit)s, and this asks for %(amount)s.",
                          limit=task.amount_limit, amount=amount))
    task.state, task.decided_by, task.decided_at = "approved", db.get(User, actor.id), utcnow()
    task.reason = _clean_text(note, "note")
    stage_tasks = [t for t in rule_tasks if t.stage == task.stage]
    if all(t.state == "approved" for t in stage_tasks):
        covered = amount is not None and any(t.amount_limit is not None and amount <= t.amount_limit
                                             for t in stage_tasks)
        later = [t for t in rule_tasks if t.stage > task.stage and t.state == "waiting"]
        if covered:
            for waiting in later:
                waiting.state = "skipped"
        elif later:
            following = min(t.stage for t in later)
            asked = [t for t in later if t.stage == following]
            for waiting in asked:
                waiting.state = "pending"
            db.flush()
            _notify_pending(db, request, target, None, asked)
    db.flush()
    if not any(t.state in OPEN for t in request.tasks):
        _finish(db, request, "approved")
    return task


def approve_many(db: Session, task_ids: list[int], note: str = "") -> list[ApprovalTask]:
    """Approve every task of ``task_ids``, or none: the first refusal names its task (``tasks.<n>``,
    counted from 0) with the refusal's own status, and the caller's transaction rolls back."""
    if not task_ids:
        raise InvalidInput(_("Tick the approvals to approve."), field="tasks")
    approved, seen = [], set()
    for index, task_id in enumerate(task_ids):
        if task_id in seen:
            continue
        seen.add(task_id)
        try:
            approved.append(approve(db, task_id, note))
        except KontorError as exc:
            raise type(exc)(_("Approval %(id)s: %(reason)s", id=task_id, reason=exc.message),
                            field=f"tasks.{index}") from None
    return approved


def reject(db: Session, task_id: int, reason: str) -> ApprovalTask:
    """Reject the task ``task_id`` with ``reason`` (required): the whole request is rejected."""
    reason = _clean_text(reason, "reason")
    if not reason:
        raise InvalidInput(_("Say why you reject it."), field="reason")
    task, actor = _decidable(db, task_id)
    task.state, task.decided_by, task.decided_at, task.reason = "rejected", db.get(User, actor.id), utcnow(), reason
    _finish(db, task.request, "rejected")
    return task


def delegate(db: Session, task_id: int, to_user: User | int | None) -> ApprovalTask:
    """Hand the task ``task_id`` over to ``to_user``, who decides it instead of the actor."""
    task, actor = _decidable(db, task_id)
    to_user = db.get(User, to_user) if isinstance(to_user, int) else to_user
    if to_user is None or not to_user.active:
        raise InvalidInput(_("Pick an active user to hand the approval to."), field="to_user")
    if to_user.id == task.request.requested_by_id:
        raise InvalidInput(_("The requester cannot approve their own request."), field="to_user")
    if to_user.id == actor.id or to_user.id in task.assignee_ids:
        raise InvalidInput(_("%(name)s may already decide it.", name=to_user.username), field="to_user")
    company = task.request.company_id
    if db.scalar(select(company_users.c.user_id).where(company_users.c.company_id == company,
                                                       company_users.c.user_id == to_user.id)) is None:
        raise InvalidInput(_("%(name)s does not work in this company.", name=to_user.username), field="to_user")
    task.assignees = [a for a in task.assignees if a.user_id != actor.id] + [
        ApprovalAssignee(user_id=to_user.id, delegated_by_id=actor.id)]
    db.flush()
    target = approvable(task.request.kind)
    _notify_pending(db, task.request, target, None, [task], only=[to_user])
    return task


def recall(db: Session, request_id: int) -> ApprovalRequest:
    """Withdraw the pending request ``request_id``: only the one who asked may."""
    request, _record = get_request(db, request_id)
    actor = current_actor()
    if actor is None or request.requested_by_id != actor.id:
        raise Forbidden(_("Only the one who asked may recall the request."))
    if request.state != "pending":
        raise Conflict(_("Only a pending request can be recalled."))
    _finish(db, request, "recalled")
    return request


def _finish(db: Session, request: ApprovalRequest, state: str) -> None:
    """End ``request`` in ``state``: open tasks close, the module is told, the requester notified."""
    for task in request.tasks:
        if task.state in OPEN:
            task.state = "closed"
    request.state, request.decided_at = state, utcnow()
    db.flush()
    record = record_as_system(db, request)
    hooks().approval_decided(kind=request.kind, record=record, state=state, session=db)
    if state in ("approved", "rejected") and request.requested_by_id:
        target = approvable(request.kind)
        message = (N_("%(title)s is approved.") if state == "approved"
                   else N_("%(title)s is rejected."))
        notify(db, DECIDED, [request.requested_by_id], message, {"title": request.title},
               record=request.record, url=target.url(record) if record is not None else None)


def record_as_system(db: Session, request: ApprovalRequest):
    """The request's record, whoever acts (the approver may not read every field's record rules)."""
    target = approvable(request.kind)
    with db.no_autoflush, acting_as(None, "approvals"):
        return db.get(target.model, request.record_id)


# -- changes to the record --


def record_changed(db: Session, kind: str, record) -> ApprovalRequest | None:
    """Tell the engine that ``record`` changed: if a field the rules read differs from the request's
    snapshot, the request is asked again of the rules that hold now ("smart re-approval") or ends
    as not needed when none does; the module hears ``reset``. Returns the request it reset."""
    target = approvable(kind)
    request = latest_request(db, kind, record.id)
    if request is None or request.state not in ("pending", "approved"):
        return None
    values = target.values(record)
    if not conditions.changed_fields(request.snapshot, values):
        return None
    for task in request.tasks:
        if task.state not in ("reset", "closed"):
            task.state = "reset"
    rules, matching = _matching(db, target, values)
    request.snapshot = conditions.snapshot(values, conditions.read_fields(target, [r.condition for r in rules]))
    request.title = str(target.describe(record))[:300]
    request.decided_at = None
    requester = db.get(User, request.requested_by_id) if request.requested_by_id else None
    if matching and requester is not None:
        request.state = "pending"
        _ask(db, request, matching, requester)
    else:
        request.state, request.decided_at = "none", utcnow()
    db.flush()
    hooks().approval_decided(kind=kind, record=record, state="reset", session=db)
    if request.state == "pending":
        _notify_pending(db, request, target, record, [t for t in request.tasks if t.state == "pending"])
    return request


# -- standing delegation --


def away_of(db: Session, user: User) -> ApprovalAway | None:
    """``user``'s standing delegation, if they set one."""
    return db.get(ApprovalAway, user.id)


def set_away(db: Session, user: User, delegate_to: User | int | None, starts: date | None, ends: date | None
             ) -> ApprovalAway | None:
    """Leave ``user``'s approvals to ``delegate_to`` from ``starts`` to ``ends`` (inclusive); with no
    delegate, the standing delegation ends. Each refusal names its field."""
    current = db.get(ApprovalAway, user.id)
    if delegate_to is None:
        if current is not None:
            db.delete(current)
            db.flush()
        return None
    delegate_user = db.get(User, delegate_to) if isinstance(delegate_to, int) else delegate_to
    if delegate_user is None or not delegate_user.active:
        raise InvalidInput(_("Pick an active user."), field="delegate_id")
    if delegate_user.id == user.id:
        raise InvalidInput(_("Pick someone other than yourself."), field="delegate_id")
    if starts is None:
        raise InvalidInput(_("Give the first day you are away."), field="starts")
    if ends is None or ends < starts:
        raise InvalidInput(_("Give the last day you are away, on or after the first."), field="ends")
    if current is None:
        current = ApprovalAway(user_id=user.id)
        db.add(current)
    current.delegate_id, current.starts, current.ends = delegate_user.id, starts, ends
    db.flush()
    return current


# -- notifications --


def _notify_pending(db: Session, request: ApprovalRequest, target: Approvable, record, tasks: Iterable[ApprovalTask],
                    *, only: list[User] | None = None) -> None:
    """Tell the approvers of ``tasks`` (and the delegates of those away) that they are asked."""
    users: set[int] = set()
    for task in tasks:
        users |= {u.id for u in only} if only is not None else task.assignee_ids
    today = date.today()
    if users:
        users |= set(db.scalars(select(ApprovalAway.delegate_id).where(
            ApprovalAway.user_id.in_(users), ApprovalAway.starts <= today, ApprovalAway.ends >= today)))
    users.discard(request.requested_by_id)
    if not users:
        return
    record = record if record is not None else record_as_system(db, request)
    requester = request.requested_by
    notify(db, REQUESTED, sorted(users), N_("%(user)s asks you to approve %(title)s."),
           {"user": (requester.full_name or requester.username) if requester else "?", "title": request.title},
           record=request.record, url=target.url(record) if record is not None else None)


def _clean_text(text: str | None, field: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_REASON:
        raise InvalidInput(_("Use at most %(n)d characters.", n=MAX_REASON), field=field)
    return text


def pending_of(request: ApprovalRequest) -> list[ApprovalTask]:
    """The request's tasks waiting for a decision now."""
    return [task for task in request.tasks if task.state == "pending"]

