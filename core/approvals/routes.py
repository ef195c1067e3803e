"""The approval pages: the panel of a record, "Awaiting my approval", the standing delegation and the
Administration → Approval rules pages (thin views over the services)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, request, url_for
from markupsafe import escape

from core.actor import current_actor
from core.approvals import chains, panel as panel_view, services
from core.approvals.models import APPROVER_TYPES
from core.approvals.registry import MANAGE, approvable, approvables
from core.auth.managers import manager_candidates
from core.auth.services import all_roles
from core.db import session as db
from core.errors import Conflict, InvalidInput, KontorError, NotFound
from core.i18n import gettext as _
from core.security import require, signed_in
from core.web.format import parse_amount
from core.web.shell import is_partial_request, render
from core.web.transaction import redirect_to, transaction

# The record's own permissions decide who sees a panel and who may ask or decide: the services check
# them, so those views are declared for any signed-in user.
bp = Blueprint("approvals", __name__)


class AwaitingLabel:
    """The menu entry "Awaiting my approval", with the number of tasks awaiting the signed-in user."""

    def __str__(self) -> str:
        user = current_actor()
        count = services.awaiting_count(db, user) if user is not None else 0
        label = _("Awaiting my approval")
        return f"{label} ({count})" if count else label

    def __html__(self) -> str:
        return str(escape(str(self)))


# -- the panel of a record --


def _panel(kind: str, record_id: int, errors: dict | None = None, status: int = 200):
    record = services.load_record(db, kind, record_id)
    html = render("approvals/page.html", "approvals/_panel.html", errors=errors or {}, title=_("Approval"),
                  **panel_view.context(db, kind, record))
    return html, status


def _after_panel_change(kind: str, record_id: int):
    if is_partial_request():
        return _panel(kind, record_id)
    return redirect_to(url_for("approvals.panel", kind=kind, record_id=record_id))


def _refused_in_panel(kind: str, record_id: int):
    def refused(exc: KontorError):
        if exc.status == 404:
            raise exc
        # the panel again, with the reason beside the field or above the buttons (a 403 for a decision
        # the user may not make; the panel itself is refused when the record is not theirs to read)
        return _panel(kind, record_id, exc.as_errors(), 403 if exc.status == 403 else 422)

    return refused


@bp.get("/approvals/record/<kind>/<int:record_id>")
@signed_in
def panel(kind: str, record_id: int):
    return _panel(kind, record_id)


@bp.post("/approvals/record/<kind>/<int:record_id>/request")
@signed_in
def ask(kind: str, record_id: int):
    with transaction(on_refusal=_refused_in_panel(kind, record_id)):
        record = services.load_record(db, kind, record_id)
        if services.request_approval(db, kind, record, note=request.form.get("note", "")) is None:
            raise Conflict(_("No approval rule applies to this record: it needs no approval."))
    return _after_panel_change(kind, record_id)


def _task_request(task_id: int):
    task = services.get_task(db, task_id)
    return task.request.kind, task.request.record_id


@bp.post("/approvals/tasks/<int:task_id>/approve")
@signed_in
def approve(task_id: int):
    kind, record_id = _task_request(task_id)
    with transaction(on_refusal=_refused_in_panel(kind, record_id)):
        services.approve(db, task_id, request.form.get("note", ""))
    return _after_panel_change(kind, record_id)


@bp.post("/approvals/tasks/<int:task_id>/reject")
@signed_in
def reject(task_id: int):
    kind, record_id = _task_request(task_id)
    with transaction(on_refusal=_refused_in_panel(kind, record_id)):
        services.reject(db, task_id, request.form.get("reason", ""))
    return _after_panel_change(kind, record_id)


@bp.post("/approvals/tasks/<int:task_id>/delegate")
@signed_in
def delegate(task_id: int):
    kind, record_id = _task_request(task_id)
    with transaction(on_refusal=_refused_in_panel(kind, record_id)):
        services.delegate(db, task_id, _user_id(request.form.get("to_user"), "to_user"))
    return _after_panel_change(kind, record_id)


@bp.post("/approvals/<int:request_id>/recall")
@signed_in
def recall(request_id: int):
    approval, _record = services.get_request(db, request_id)
    kind, record_id = approval.kind, approval.record_id
    with transaction(on_refusal=_refused_in_panel(kind, record_id)):
        services.recall(db, request_id)
    return _after_panel_change(kind, record_id)


def _user_id(text: str | None, field: str) -> int:
    text = (text or "").strip()
    if not text.isdigit() or len(text) > 10:
        raise InvalidInput(_("Pick a user from the list."), field=field)
    return int(text)


# -- awaiting my approval --


def _awaiting_page(status: int = 200):
    user = current_actor()
    tasks = services.awaiting(db, user)
    return render("approvals/awaiting.html", "approvals/_awaiting.html", tasks=tasks, title=_("Awaiting my approval"),
                  approvables=approvables(), describe=lambda task: panel_view.describe_task(db, task)), status


@bp.get("/approvals/")
@signed_in
def awaiting():
    return _awaiting_page()


@bp.post("/approvals/approve")
@signed_in
def approve_many():
    ids = [int(v) for v in request.form.getlist("tasks") if v.isdigit() and len(v) <= 10]

    def refused(exc: KontorError):
        flash(exc.message, "error")
        return redirect_to(url_for("approvals.awaiting"))

    with transaction(on_refusal=refused):
        approved = services.approve_many(db, ids, request.form.get("note", ""))
    flash(_("%(n)d approved.", n=len(approved)), "success")
    return redirect_to(url_for("approvals.awaiting"))


# -- away: a standing delegation --


def _away_form(errors: dict, values: dict, status: int = 200):
    user = current_actor()
    options = [("", "—")] + [(str(u.id), u.full_name or u.username) for u in manager_candidates(db) if u.id != user.id]
    return render("approvals/away.html", errors=errors, values=values, options=options, title=_("Away")), status


@bp.route("/approvals/away", methods=["GET", "POST"])
@signed_in
def away():
    user = current_actor()
    if request.method == "GET":
        current = services.away_of(db, user)
        values = {"delegate_id": str(current.delegate_id), "starts": current.starts.isoformat(),
                  "ends": current.ends.isoformat()} if current else {}
        return _away_form({}, values)
    form = request.form.to_dict()
    with transaction(on_refusal=lambda exc: _away_form(exc.as_errors(), form, 422)):
        delegate_to = _user_id(form.get("delegate_id"), "delegate_id") if form.get("delegate_id") else None
        services.set_away(db, user, delegate_to, _date(form.get("starts"), "starts"), _date(form.get("ends"), "ends"))
    flash(_("Your approvals go to your delegate while you are away.") if form.get("delegate_id")
          else _("Your approvals are yours again."), "success")
    return redirect_to(url_for("approvals.away"))


def _date(text: str | None, field: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("Enter a date."), field=field) from None


# -- Administration → Approval rules --


@bp.get("/admin/approval-rules")
@require(MANAGE)
def rule_list():
    rules = chains.list_rules(db)
    kinds = sorted(approvables().values(), key=lambda a: str(a.title))
    return render("approvals/rules.html", rules=rules, kinds=kinds, title=_("Approval rules"),
                  approver_label=chains.approver_label)


def _steps_submitted() -> list[dict]:
    """The steps of the posted form (``step-<n>-<field>``), in order."""
    count = min(request.form.get("step_count", 0, type=int) or 0, chains.MAX_STEPS + 1)
    steps = []
    for n in range(count):
        prefix = f"step-{n}-"
        if f"{prefix}approver" not in request.form:
            continue
        steps.append({"approver": request.form.get(f"{prefix}approver", ""), "role": request.form.get(f"{prefix}role", ""),
                      "user": request.form.get(f"{prefix}user", ""),
                      "parallel": request.form.get(f"{prefix}parallel") == "1",
                      "amount_limit": parse_amount(request.form.get(f"{prefix}amount_limit", ""))})
    return steps


def _edit_steps(steps: list[dict], op: str) -> list[dict]:
    """The steps after the steps editor's button ``op``: add, remove-<n>, up-<n>."""
    action, _sep, index = op.partition("-")
    n = int(index) if index.isdigit() else -1
    if action == "add" and len(steps) < chains.MAX_STEPS:
        steps.append({"approver": "role", "role": "", "user": "", "parallel": False, "amount_limit": ""})
    elif action == "remove" and 0 <= n < len(steps):
        steps.pop(n)
    elif action == "up" and 0 < n < len(steps):
        steps[n - 1], steps[n] = steps[n], steps[n - 1]
    return steps


def _submitted_rule(kind: str) -> dict:
    form = request.form
    return {"kind": kind, "name": form.get("name", ""), "condition": form.get("condition", ""),
            "active": form.get("active") == "1", "sequence": form.get("sequence", "10"), "steps": _steps_submitted()}


def _rule_form(rule, values: dict, errors: dict, status: int = 200):
    kind = values["kind"]
    context = {"rule": rule, "values": values, "errors": errors, "kind_title": chains.kind_title(kind),
               "rule_kind": f"approval.{kind}", "approver_types": APPROVER_TYPES,
               "role_options": [(r.name, r.title or r.name) for r in all_roles(db)],
               "user_options": [(u.username, u.full_name or u.username) for u in manager_candidates(db)],
               "title": _("Approval rule")}
    return render("approvals/rule_form.html", "approvals/_steps.html" if request.form.get("op") else None,
                  **context), status


def _values_of(rule) -> dict:
    return {"kind": rule.kind, "name": rule.name, "condition": rule.condition, "active": rule.active,
            "sequence": rule.sequence,
            "steps": [{"approver": s.approver_type, "role": s.role.name if s.role else "",
                       "user": s.user.username if s.user else "", "parallel": s.parallel,
                       "amount_limit": s.amount_limit if s.amount_limit is not None else ""} for s in rule.steps]}


def _sequence(text) -> int:
    text = str(text or "").strip()
    if not text.isdigit() or int(text) > 100000:
        raise InvalidInput(_("Give a whole number from 0 to 100000."), field="sequence")
    return int(text)


def _save(rule, kind: str):
    values = _submitted_rule(kind)
    if request.form.get("op"):  # a button of the steps editor: the form again, nothing saved
        values["steps"] = _edit_steps(values["steps"], request.form["op"])
        return _rule_form(rule, values, {})
    with transaction(on_refusal=lambda exc: _rule_form(rule, values, exc.as_errors(), 422)):
        values["sequence"] = _sequence(values["sequence"])
        saved = chains.save_rule(db, rule, values)
    flash(_("The approval rule %(name)s is saved.", name=saved.name), "success")
    return redirect_to(url_for("approvals.rule_list"))


@bp.route("/admin/approval-rules/new", methods=["GET", "POST"])
@require(MANAGE)
def rule_create():
    kind = request.values.get("kind", "")
    try:
        approvable(kind)
    except NotFound:
        abort(404)
    if request.method == "GET":
        return _rule_form(None, {"kind": kind, "name": "", "condition": "", "active": True, "sequence": 10,
                                 "steps": [{"approver": "manager", "role": "", "user": "", "parallel": False,
                                            "amount_limit": ""}]}, {})
    return _save(None, kind)


@bp.route("/admin/approval-rules/<int:rule_id>/edit", methods=["GET", "POST"])
@require(MANAGE)
def rule_edit(rule_id: int):
    rule = chains.get_rule(db, rule_id)
    if request.method == "GET":
        return _rule_form(rule, _values_of(rule), {})
    return _save(rule, rule.kind)


@bp.post("/admin/approval-rules/<int:rule_id>/active")
@require(MANAGE)
def rule_active(rule_id: int):
    rule = chains.get_rule(db, rule_id)
    active = request.form.get("active") == "1"
    with transaction():
        chains.set_active(db, rule, active)
    flash(_("The approval rule %(name)s is active.", name=rule.name) if active
          else _("The approval rule %(name)s is deactivated.", name=rule.name), "success")
    return redirect_to(url_for("approvals.rule_list"))
