"""Activity pages (list, my activities, forms, mark done), the timeline endpoint and the reminders widget."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func
from werkzeug.routing import BuildError

from core import (export_response, gettext as _, has_permission, is_partial_request, keyset_page, KontorError,
                  lazy_gettext as _l, NotFound, render, require, session as db, transaction, utcnow)

from plugins.crm import permissions as p, timeline
from plugins.crm.access import allowed_activity_ids, may_change_activity, may_see
from plugins.crm.activities import services
from plugins.crm.activities.models import KIND_LABELS, Activity
from plugins.crm.pipeline.services import user_choices
from plugins.crm.web import bp, party_options, user_tz

PAGE_SIZE = 25
FORM_FIELDS = ("kind", "subject", "due_date", "due_time", "assignee_id", "notes", "party_id", "lead_id",
               "opportunity_id")
EXPORT_COLUMNS = [("id", "ID"), ("kind", _l("Kind")), ("subject", _l("Subject")), ("due_at", _l("Due")),
                  ("assignee", _l("Assigned to")), ("done", _l("Done")), ("party", _l("Customer")),
                  ("lead_id", _l("Lead")), ("opportunity_id", _l("Opportunity")), ("notes", _l("Notes"))]
VIEW_LABELS = {"open": _l("To do"), "overdue": _l("Overdue"), "today": _l("Today"), "upcoming": _l("Upcoming"),
               "done": _l("Done"), "all": _l("All")}


def _activity(activity_id: int) -> Activity:
    """The activity the user may see; a 404 otherwise, so that others' activities do not show."""
    try:
        return services.get_activity(db, activity_id, current_user)
    except NotFound:
        abort(404)


def _changeable(activity_id: int) -> Activity:
    """The activity the user may change; 404 when they may not see it, 403 when they only may see it."""
    found = _activity(activity_id)
    if not may_change_activity(found, current_user):
        abort(403)
    return found


def _local_parts(activity: Activity | None) -> tuple[str, str]:
    if activity is None or activity.due_at is None:
        return "", ""
    from zoneinfo import ZoneInfo

    local = activity.due_at.astimezone(ZoneInfo(user_tz()))
    return local.date().isoformat(), local.strftime("%H:%M")


def _values_of(activity: Activity) -> dict:
    due_date, due_time = _local_parts(activity)
    return {"kind": activity.kind, "subject": activity.subject, "due_date": due_date, "due_time": due_time,
            "assignee_id": activity.assignee_id, "notes": activity.notes, "party_id": activity.party_id or "",
            "lead_id": activity.lead_id or "", "opportunity_id": activity.opportunity_id or "",
            "done": activity.done}


def _form_values(form) -> dict:
    values = {key: form.get(key, "") for key in FORM_FIELDS if key in form}
    values["tz"] = user_tz()
    if "due_date" in values and not values["due_date"].strip():
        values["due_at"] = None
    return values


def _form(activity: Activity | None, values: dict, errors: dict, status: int = 200):
    html = render("crm/activities/form.html", activity=activity, values=values, errors=errors,
                  kinds=services.kind_options(), users=[(str(k), v) for k, v in user_choices(db)],
                  parties=party_options(db, values.get("party_id")),
                  title=activity.subject if activity else _("New activity"))
    return html, status


def _list_context(view: str, mine: bool):
    args = request.args
    kind = args.get("kind", "")
    q = (args.get("q") or "").strip()[:100]
    assignee = current_user.id if mine else (int(args["assignee_id"]) if args.get("assignee_id", "").isdigit() else None)
    query = services.activities_query(current_user, view=view, assignee_id=assignee, kind=kind, q=q, tz=user_tz())
    return query, {"kind": kind, "view": view, **({"assignee_id": str(assignee)} if assignee and not mine else {})}, q


def _listing(endpoint: str, mine: bool):
    view = request.args.get("view", "open" if mine else "all")
    view = view if view in services.VIEWS else "open"
    query, filters, q = _list_context(view, mine)
    fmt = request.args.get("format", "")
    if fmt:  # export_response refuses a format it cannot write (422 naming it)
        rows = db.execute(query.order_by(Activity.id)).unique().scalars()
        data = ({"id": a.id, "kind": str(KIND_LABELS.get(a.kind, a.kind)), "subject": a.subject, "due_at": a.due_at,
                 "assignee": timeline.user_label(a.assignee), "done": a.done,
                 "party": a.party.name if a.party else "", "lead_id": a.lead_id, "opportunity_id": a.opportunity_id,
                 "notes": a.notes} for a in rows)
        return export_response("activities", [(k, str(v)) for k, v in EXPORT_COLUMNS], data, fmt)
    far = datetime(9999, 12, 31, tzinfo=timezone.utc)
    due_key = func.coalesce(Activity.due_at, far)
    sort = request.args.get("sort", "-due" if view == "done" else "due")
    page = keyset_page(db, query, sort_keys={"due": due_key, "created": Activity.id,
                                             "subject": func.lower(Activity.subject)},
                       id_column=Activity.id, sort=sort, cursor=request.args.get("after"), size=PAGE_SIZE,
                       query=q, filters=filters)
    changeable = allowed_activity_ids(db, [a.id for a in page.rows], current_user, "change")
    return render("crm/activities/list.html", "crm/activities/_list.html", page=page, endpoint=endpoint,
                  mine=mine, view=view, views=VIEW_LABELS, kinds=services.kind_options(),
                  users=user_choices(db), now=utcnow(), kind_labels=KIND_LABELS,
                  title=_("My activities") if mine else _("Activities"),
                  can_write=has_permission(p.ACTIVITY_WRITE), changeable=changeable)


@bp.get("/activities")
@require(p.ACTIVITY_READ)
def activities():
    return _listing("crm.activities", mine=False)


@bp.get("/my-activities")
@require(p.ACTIVITY_READ)
def my_activities():
    return _listing("crm.my_activities", mine=True)


@bp.route("/activities/new", methods=["GET", "POST"])
@require(p.ACTIVITY_WRITE)
def activity_new():
    if request.method == "GET":
        values = {"kind": request.args.get("kind", "call"), "assignee_id": current_user.id,
                  **{key: request.args.get(key, "") for key in ("party_id", "lead_id", "opportunity_id")}}
        return _form(None, values, {})
    values = _form_values(request.form)
    values["done"] = request.form.get("done") in ("1", "on")
    with transaction(on_refusal=lambda exc: _form(None, values, exc.as_errors(), 422)):
        activity = services.create_activity(db, values, user=current_user)
    flash(_("%(subject)s is planned.", subject=activity.subject), "success")
    return redirect(_back(activity), 303)


@bp.get("/activities/<int:activity_id>")
@require(p.ACTIVITY_READ)
def activity(activity_id: int):
    found = _activity(activity_id)
    return render("crm/activities/detail.html", activity=found, kind_labels=KIND_LABELS,
                  now=utcnow(), title=found.subject, can_change=may_change_activity(found, current_user))


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@require(p.ACTIVITY_WRITE)
def activity_edit(activity_id: int):
    found = _changeable(activity_id)
    if request.method == "GET":
        return _form(found, _values_of(found), {})
    values = _form_values(request.form)
    values["done"] = request.form.get("done") in ("1", "on")
    with transaction(on_refusal=lambda exc: _form(found, values, exc.as_errors(), 422)):
        services.update_activity(db, found, values, user=current_user)
    flash(_("%(subject)s is saved.", subject=found.subject), "success")
    return redirect(url_for("crm.activity", activity_id=found.id), 303)


@bp.post("/activities/<int:activity_id>/done")
@require(p.ACTIVITY_WRITE)
def activity_done(activity_id: int):
    found = _changeable(activity_id)
    with transaction():
        services.set_done(db, found, request.form.get("done", "1") in ("1", "on", "true"), user=current_user)
    if is_partial_request():
        return render("crm/activities/_row.html", a=found, now=utcnow(), kind_labels=KIND_LABELS,
                      changeable={found.id})
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//")
                    else url_for("crm.activity", activity_id=found.id), 303)


@bp.post("/activities/<int:activity_id>/delete")
@require(p.ACTIVITY_WRITE)
def activity_delete(activity_id: int):
    found = _changeable(activity_id)
    with transaction():
        services.delete_activity(db, found, user=current_user)
    flash(_("The activity is deleted."), "success")
    return redirect(url_for("crm.my_activities"), 303)


@bp.get("/widgets/reminders")
@require(p.ACTIVITY_READ)
def reminders_widget():
    rows, count = services.reminders(db, current_user, tz=user_tz())
    return render("crm/activities/_reminders.html", rows=rows, count=count, now=utcnow(),
                  kind_labels=KIND_LABELS)


# -- The timeline --
def _target_args():
    found = {}
    for key in timeline.TARGETS:
        value = request.values.get(key, "")
        if value:
            if not value.isdigit():
                abort(404)
            found[key] = int(value)
    if len(found) != 1:
        abort(404)
    return found


def _check_target(target: dict):
    """404 unless the record exists and the user may see it (the lead and opportunity rules;
    a customer's timeline for those who may see customers)."""
    from plugins.crm.leads.models import Lead
    from plugins.crm.pipeline.models import Opportunity
    from plugins.crm.pipeline.services import party_model

    (key, value), = target.items()
    model, kind = {"party_id": (party_model(), None), "lead_id": (Lead, "lead"),
                   "opportunity_id": (Opportunity, "opportunity")}[key]
    if key == "party_id" and not has_permission("core.party.read"):
        abort(404)
    record = db.get(model, value)
    if record is None or (kind and not may_see(record, kind, user=current_user)):
        abort(404)
    return record


@bp.get("/timeline", endpoint="timeline")
@require(p.ACTIVITY_READ)
def timeline_view():
    target = _target_args()
    _check_target(target)
    try:
        page, older = timeline.entries(db, user=current_user, before=request.args.get("before"), **target)
    except KontorError:
        abort(400)
    return render("crm/_timeline.html", entries=page, older=older, target=target, now=utcnow(),
                  kind_labels=KIND_LABELS, first=not request.args.get("before"))


@bp.get("/timeline/panel")
@require(p.ACTIVITY_READ)
def timeline_panel():
    target = _target_args()
    _check_target(target)
    return render("crm/_timeline_box.html", target=target)


@bp.post("/timeline/notes")
@require(p.ACTIVITY_WRITE)
def timeline_note():
    target = _target_args()
    record = _check_target(target)
    links = dict(target)
    if "party_id" not in links:
        links["party_id"] = getattr(record, "party_id", None)
    body = request.form.get("body", "")

    def refused(exc: KontorError):
        if is_partial_request():
            return render("crm/_timeline_box.html", target=target, errors=exc.as_errors(), body=body), 422
        return render("crm/_timeline_page.html", target=target, errors=exc.as_errors(), body=body,
                      title=_("Timeline")), 422

    with transaction(on_refusal=refused):
        timeline.add_note(db, body=body, user_id=current_user.id, **links)
    if is_partial_request():
        return render("crm/_timeline_box.html", target=target, fresh=True)
    return redirect(request.referrer if _same_site(request.referrer) else url_for("crm.my_activities"), 303)


def _same_site(url: str | None) -> bool:
    from urllib.parse import urlparse

    if not url:
        return False
    parsed = urlparse(url)
    return parsed.netloc in ("", request.host)


def _back(activity: Activity) -> str:
    if activity.opportunity_id:
        return url_for("crm.opportunity", opportunity_id=activity.opportunity_id)
    if activity.lead_id:
        try:
            return url_for("crm.lead", lead_id=activity.lead_id)
        except BuildError:  # the leads pages may not be there
            pass
    return url_for("crm.activity", activity_id=activity.id)
