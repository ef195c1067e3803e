"""The pipeline's pages: board, opportunity list/detail/forms, stages, forecast."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_babel import format_currency
from werkzeug.routing import BuildError
from flask_login import current_user

from core import (charts, Column, export_response, gettext as _, has_permission, is_partial_request, keyset_page,
                  KontorError, lazy_gettext as _l, NotFound, parse_amount, render, require, session as db, transaction,
                  utcnow)

from plugins.crm import permissions as p
from plugins.crm.access import may_see
from plugins.crm.pipeline import approvals, services
from plugins.crm.pipeline.models import STATUS_LABELS, Opportunity
from plugins.crm.web import bp, flashed_back, party_options

PER_COLUMN = 20
PAGE_SIZE = 25

COLUMNS = [
    Column("title", _l("Title"), sort="title", link=True),
    Column("party_name", _l("Customer")),
    Column("stage_name", _l("Stage")),
    Column("revenue_text", _l("Expected revenue"), sort="revenue"),
    Column("probability_text", _l("Probability")),
    Column("expected_close", _l("Expected close"), sort="close", format="date"),
    Column("owner_name", _l("Owner")),
]
EXPORT_COLUMNS = [
    ("id", "ID"), ("title", _l("Title")), ("party", _l("Customer")), ("stage", _l("Stage")),
    ("expected_revenue", _l("Expected revenue")), ("currency", _l("Currency")), ("probability", _l("Probability")),
    ("weighted_revenue", _l("Weighted revenue")), ("expected_close", _l("Expected close")), ("owner", _l("Owner")),
    ("lost_reason", _l("Lost reason")), ("created_at", _l("Created")), ("closed_at", _l("Closed")),
]
FORM_FIELDS = ("party_id", "title", "expected_revenue", "discount", "currency", "probability", "expected_close",
               "owner_id", "stage_id", "lost_reason", "campaign_id")


def user_label(user) -> str:
    """A user's name as pages show it."""
    return (user.full_name or user.username) if user is not None else ""


class Row:
    """An opportunity as a list row (the display values the list view reads)."""

    def __init__(self, opportunity: Opportunity):
        self.id = opportunity.id
        self.title = opportunity.title
        self.party_name = opportunity.party.name if opportunity.party else ""
        self.stage_name = opportunity.stage.name
        self.revenue_text = format_currency(opportunity.expected_revenue, opportunity.currency)
        self.probability_text = f"{opportunity.probability} %"
        self.expected_close = opportunity.expected_close
        self.owner_name = user_label(opportunity.owner)


def sort_keys():
    """The sortable columns of the opportunity list."""
    from sqlalchemy import func

    return {"created": Opportunity.id, "title": func.lower(Opportunity.title),
            "revenue": Opportunity.expected_revenue,
            "close": func.coalesce(Opportunity.expected_close, date(9999, 12, 31))}


def stage_options(include_inactive: bool = False) -> list[tuple[str, str]]:
    """(id, name) of the stages, in pipeline order."""
    return [(str(s.id), s.name) for s in services.list_stages(db, include_inactive=include_inactive)]


def board_stage_choices() -> list[tuple[str, str, bool]]:
    """(id, name, is_lost) of the active stages, for the move select of a card."""
    return [(str(s.id), s.name, s.is_lost) for s in services.list_stages(db)]


def _filters() -> services.Filters:
    try:
        return services.Filters.from_args(request.args)
    except KontorError:
        return services.Filters.from_args({k: v for k, v in request.args.items() if k != "close_month"})


def _filter_context(filters: services.Filters) -> dict:
    return {"stage_choices": stage_options(), "owner_choices": services.user_choices(db),
            "status_labels": STATUS_LABELS, "may_see_all": has_permission(p.OPPORTUNITY_READ_ALL)}


def _opportunity(opportunity_id: int) -> Opportunity:
    try:
        return services.get_opportunity(db, opportunity_id, user=current_user)
    except NotFound:
        abort(404)


def _form_values(form) -> dict:
    values = {key: (form.get(key) or "").strip() for key in FORM_FIELDS if key in form}
    for key in ("expected_revenue", "discount"):
        if key in values:
            values[key] = parse_amount(values[key])
    return values


def _values_of(opportunity: Opportunity) -> dict:
    return {"party_id": opportunity.party_id, "title": opportunity.title,
            "expected_revenue": opportunity.expected_revenue, "discount": opportunity.discount,
            "currency": opportunity.currency,
            "probability": opportunity.probability, "expected_close": opportunity.expected_close or "",
            "owner_id": opportunity.owner_id, "stage_id": opportunity.stage_id,
            "lost_reason": opportunity.lost_reason, "campaign_id": opportunity.campaign_id or ""}


def _form(opportunity: Opportunity | None, values: dict, errors: dict, status: int = 200):
    campaigns = services.campaign_choices(db)
    html = render("crm/pipeline/form.html", opportunity=opportunity, values=values, errors=errors,
                  parties=party_options(db, values.get("party_id")), stages=stage_options(),
                  owners=[(str(k), v) for k, v in services.user_choices(db)],
                  campaigns=None if campaigns is None else [("", "—")] + [(str(k), v) for k, v in campaigns],
                  title=opportunity.title if opportunity else _("New opportunity"))
    return html, status


def _card_context(filters) -> dict:
    """What every card of a board needs, computed once per page rather than once per card."""
    from flask_wtf.csrf import generate_csrf

    return {"filters": filters, "filter_args": filters.as_args(), "stage_choices": board_stage_choices(),
            "board_url": url_for("crm.board", **filters.as_args()), "token": generate_csrf(),
            "can_write": has_permission(p.OPPORTUNITY_WRITE),
            "labels": {"move": _("Move"), "lost": _("Lost reason"), "lost_hint": _("Lost reason (when lost)"),
                       "stage_of": _("Stage of %(title)s", title="__TITLE__")}}


def _column_context(columns, filters):
    return {"columns": columns, "per_column": PER_COLUMN, **_card_context(filters)}


# -- The board --
@bp.get("/board")
@require(p.OPPORTUNITY_READ)
def board():
    filters = _filters()
    filters.status = ""
    columns = services.board(db, filters, current_user, per_column=PER_COLUMN)
    context = {**_filter_context(filters), **_column_context(columns, filters)}
    return render("crm/pipeline/board.html", "crm/pipeline/_board.html", title=_("Pipeline"), **context)


@bp.get("/board/columns/<int:stage_id>/cards")
@require(p.OPPORTUNITY_READ)
def board_more(stage_id: int):
    filters = _filters()
    filters.status = ""
    try:
        stage = services.get_stage(db, stage_id)
    except NotFound:
        abort(404)
    after = services.int_or_none(request.args.get("after"))
    cards, more = services.column_cards(db, stage.id, filters, current_user, after=after, limit=PER_COLUMN)
    return render("crm/pipeline/_cards.html", cards=cards, more=more, stage=stage, **_card_context(filters))


@bp.post("/opportunities/<int:opportunity_id>/stage")
@require(p.OPPORTUNITY_WRITE)
def opportunity_stage(opportunity_id: int):
    opportunity = _opportunity(opportunity_id)
    old_stage_id = opportunity.stage_id
    stage_id = request.form.get("stage_id", "")
    reason = request.form.get("lost_reason", "")
    filters = _filters()
    filters.status = ""
    error = None
    try:  # a refused move is answered here: the board's columns again, or the form beside the field
        with transaction():
            services.change_stage(db, opportunity, services.get_stage(db, stage_id), lost_reason=reason)
    except KontorError as exc:
        error = exc
    if is_partial_request() and request.form.get("from") == "board":
        wanted = {old_stage_id}
        if error is None:
            wanted.add(opportunity.stage_id)
        elif services.int_or_none(stage_id):
            wanted.add(int(stage_id))
        columns = services.board(db, filters, current_user, per_column=PER_COLUMN, stage_ids=wanted)
        html = render("crm/pipeline/_columns_oob.html", message=error.message if error else
                      _("%(title)s moved to %(stage)s.", title=opportunity.title, stage=opportunity.stage.name),
                      failed=error is not None, **_column_context(columns, filters))
        return html, (422 if error else 200)
    if error is not None:
        db.expire_all()
        opportunity = _opportunity(opportunity_id)
        return render("crm/pipeline/stage_form.html", opportunity=opportunity, stages=stage_options(),
                      values={"stage_id": stage_id, "lost_reason": reason}, errors=error.as_errors(),
                      title=opportunity.title, next=_safe_next()), 422
    flash(_("%(title)s moved to %(stage)s.", title=opportunity.title, stage=opportunity.stage.name), "success")
    return redirect(_safe_next() or url_for("crm.opportunity", opportunity_id=opportunity.id), 303)


@bp.get("/opportunities/<int:opportunity_id>/stage")
@require(p.OPPORTUNITY_WRITE)
def opportunity_stage_form(opportunity_id: int):
    opportunity = _opportunity(opportunity_id)
    values = {"stage_id": request.args.get("stage_id", opportunity.stage_id), "lost_reason": opportunity.lost_reason}
    return render("crm/pipeline/stage_form.html", opportunity=opportunity, stages=stage_options(),
                  values=values, errors={}, title=opportunity.title, next=_safe_next())


# -- Opportunity list, export, forms, detail --
@bp.get("/opportunities")
@require(p.OPPORTUNITY_READ)
def opportunities():
    filters = _filters()
    fmt = request.args.get("format", "")
    query = services.opportunities_query(filters, current_user)
    if fmt:  # export_response refuses a format it cannot write (422 naming it)
        return _export(query, fmt)
    page = keyset_page(db, query, sort_keys=sort_keys(), id_column=Opportunity.id,
                       sort=request.args.get("sort", "-created"), cursor=request.args.get("after"),
                       size=PAGE_SIZE, query=filters.q,
                       filters={k: str(v) for k, v in filters.as_args().items() if k != "q"})
    page.rows = [Row(o) for o in page.rows]
    return render("crm/pipeline/list.html", "crm/pipeline/_list.html", page=page, columns=COLUMNS,
                  row_url=lambda row: url_for("crm.opportunity", opportunity_id=row.id),
                  title=_("Opportunities"), filters=filters,
                  **_filter_context(filters))


def _export(query, fmt):
    rows = db.execute(query.order_by(Opportunity.id)).unique().scalars()
    data = ({"id": o.id, "title": o.title, "party": o.party.name if o.party else "", "stage": o.stage.name,
             "expected_revenue": o.expected_revenue, "currency": o.currency, "probability": o.probability,
             "weighted_revenue": o.weighted_revenue, "expected_close": o.expected_close,
             "owner": user_label(o.owner), "lost_reason": o.lost_reason, "created_at": o.created_at,
             "closed_at": o.closed_at} for o in rows)
    return export_response("opportunities", [(k, str(v)) for k, v in EXPORT_COLUMNS], data, fmt)


@bp.get("/party-options")
@require(p.ACTIVITY_READ)  # the customer picker of opportunity and activity forms alike
def party_picker():
    return render("crm/pipeline/_options.html",
                  options=party_options(db, request.args.get("party_id"), request.args.get("party_q", "")),
                  selected=request.args.get("party_id", ""))


@bp.route("/opportunities/new", methods=["GET", "POST"])
@require(p.OPPORTUNITY_WRITE)
def opportunity_new():
    if request.method == "GET":
        values = {"owner_id": current_user.id, "currency": services.company_currency(db),
                  "party_id": request.args.get("party_id", ""), "stage_id": request.args.get("stage_id", "")}
        return _form(None, values, {})
    values = _form_values(request.form)
    with transaction(on_refusal=lambda exc: _form(None, values, exc.as_errors(), 422)):
        opportunity = services.create_opportunity(
            db, party=values.get("party_id"), title=values.get("title"), owner_id=values.get("owner_id"),
            expected_revenue=values.get("expected_revenue"), currency=values.get("currency"),
            expected_close=values.get("expected_close"), stage=values.get("stage_id") or None,
            campaign_id=values.get("campaign_id") or None, probability=values.get("probability") or None,
            discount=values.get("discount"))
    flash(_("%(title)s is saved.", title=opportunity.title), "success")
    return redirect(url_for("crm.opportunity", opportunity_id=opportunity.id), 303)


@bp.get("/opportunities/<int:opportunity_id>")
@require(p.OPPORTUNITY_READ)
def opportunity(opportunity_id: int):
    found = _opportunity(opportunity_id)
    campaigns = dict(services.campaign_choices(db) or [])
    lead_url = None
    if found.lead_id:
        try:
            lead_url = url_for("crm.lead", lead_id=found.lead_id)
        except BuildError:
            lead_url = None
    from plugins.crm.activities.models import KIND_LABELS
    from plugins.crm.activities.services import open_of_opportunity

    planned = open_of_opportunity(db, found.id, current_user) if has_permission(p.ACTIVITY_READ) else []
    return render("crm/pipeline/detail.html", opportunity=found, stages=stage_options(), lead_url=lead_url,
                  planned=planned, kind_labels=KIND_LABELS, now=utcnow(),
                  campaign_name=campaigns.get(found.campaign_id), title=found.title,
                  can_write=has_permission(p.OPPORTUNITY_WRITE))


@bp.route("/opportunities/<int:opportunity_id>/edit", methods=["GET", "POST"])
@require(p.OPPORTUNITY_WRITE)
def opportunity_edit(opportunity_id: int):
    found = _opportunity(opportunity_id)
    if request.method == "GET":
        return _form(found, _values_of(found), {})
    values = _form_values(request.form)
    with transaction(on_refusal=lambda exc: _form(found, values, exc.as_errors(), 422)):
        services.update_opportunity(db, found, values)
    flash(_("%(title)s is saved.", title=found.title), "success")
    if not may_see(found, "opportunity", user=current_user):  # handed over to another salesperson
        return redirect(url_for("crm.board"), 303)
    return redirect(url_for("crm.opportunity", opportunity_id=found.id), 303)


@bp.post("/opportunities/<int:opportunity_id>/request-approval")
@require(p.OPPORTUNITY_WRITE)
def opportunity_request_approval(opportunity_id: int):
    found = _opportunity(opportunity_id)
    with transaction(on_refusal=flashed_back(url_for("crm.opportunity", opportunity_id=found.id))):
        approvals.ask(db, found, request.form.get("note", ""))
    flash(_("Approval of %(title)s is requested.", title=found.title), "success")
    return redirect(url_for("crm.opportunity", opportunity_id=found.id), 303)


# -- Stages --
def _stages_page(values=None, errors=None, status=200, editing=None):
    return render("crm/pipeline/stages.html", stages=services.list_stages(db, include_inactive=True),
                  values=values or {"probability": 10}, errors=errors or {}, editing=editing,
                  title=_("Pipeline stages")), status


@bp.get("/stages")
@require(p.STAGE_MANAGE)
def stages():
    return _stages_page()


@bp.post("/stages")
@require(p.STAGE_MANAGE)
def stage_new():
    values = _stage_values(request.form)
    with transaction(on_refusal=lambda exc: _stages_page(values, exc.as_errors(), 422)):
        stage = services.create_stage(db, values)
    flash(_("Stage %(name)s is added.", name=stage.name), "success")
    return redirect(url_for("crm.stages"), 303)


@bp.route("/stages/<int:stage_id>/edit", methods=["GET", "POST"])
@require(p.STAGE_MANAGE)
def stage_edit(stage_id: int):
    stage = _stage(stage_id)
    if request.method == "GET":
        values = {k: getattr(stage, k) for k in ("name", "sequence", "probability", "is_won", "is_lost", "fold",
                                                 "active")}
        return render("crm/pipeline/stage_edit.html", stage=stage, values=values, errors={}, title=stage.name)
    values = _stage_values(request.form, checkboxes=("is_won", "is_lost", "fold", "active"))
    with transaction(on_refusal=lambda exc: (render("crm/pipeline/stage_edit.html", stage=_stage(stage_id),
                                                    values=values, errors=exc.as_errors(),
                                                    title=values.get("name") or ""), 422)):
        services.update_stage(db, stage, values)
    flash(_("Stage %(name)s is saved.", name=stage.name), "success")
    return redirect(url_for("crm.stages"), 303)


@bp.post("/stages/<int:stage_id>/delete")
@require(p.STAGE_MANAGE)
def stage_delete(stage_id: int):
    stage = _stage(stage_id)
    with transaction(on_refusal=flashed_back(url_for("crm.stages"))):
        services.delete_stage(db, stage)
    flash(_("The stage is deleted."), "success")
    return redirect(url_for("crm.stages"), 303)


@bp.post("/stages/<int:stage_id>/move")
@require(p.STAGE_MANAGE)
def stage_move(stage_id: int):
    with transaction():
        services.move_stage(db, _stage(stage_id), -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("crm.stages"), 303)


def _stage(stage_id: int):
    try:
        return services.get_stage(db, stage_id)
    except NotFound:
        abort(404)


# -- Forecast --
@bp.get("/forecast")
@require(p.REPORT_READ)
def forecast():
    filters = _filters()
    data = services.forecast(db, filters, current_user)
    return render("crm/pipeline/forecast.html", data=data, charts=_forecast_charts(data), title=_("Forecast"),
                  filters=filters, **_filter_context(filters))


@bp.get("/widgets/funnel")
@require(p.OPPORTUNITY_READ)
def funnel_widget():
    data = services.forecast(db, services.Filters(), current_user)
    svg = charts.funnel_chart([(s["stage"], s["count"]) for s in data["funnel"]], title=_("Pipeline by stage"))
    return render("crm/pipeline/_funnel_widget.html", funnel=data["funnel"], svg=svg)


def _stage_values(form, checkboxes=("is_won", "is_lost", "fold")) -> dict:
    values = {key: form.get(key, "").strip() for key in ("name", "sequence", "probability") if key in form}
    for key in checkboxes:
        values[key] = form.get(key) in ("1", "on", "true")
    return values


def _safe_next() -> str | None:
    target = request.values.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else None


def _forecast_charts(data: dict) -> dict:
    """The forecast's charts: per currency by month and by owner, won/lost by month, the funnel."""
    found = {"month": [], "owner": [], "won_lost": "", "funnel": ""}
    for currency in sorted({row["currency"] for row in data["by_month"]}):
        rows = [row for row in data["by_month"] if row["currency"] == currency]
        found["month"].append((currency, charts.bar_chart(
            [row["month"] or _("No date") for row in rows],
            [(_("Expected revenue"), [row["revenue"] for row in rows]),
             (_("Weighted"), [row["weighted"] for row in rows])],
            title=_("Pipeline by expected close month (%(currency)s)", currency=currency), money_currency=currency)))
        owners = [row for row in data["by_owner"] if row["currency"] == currency]
        found["owner"].append((currency, charts.bar_chart(
            [row["owner"] for row in owners], [(_("Weighted"), [row["weighted"] for row in owners])],
            title=_("Weighted pipeline by owner (%(currency)s)", currency=currency), money_currency=currency)))
    months = sorted({row["month"] for row in data["won_lost"]})
    if months:
        won = {m: 0 for m in months}
        lost = {m: 0 for m in months}
        for row in data["won_lost"]:
            won[row["month"]] += row["won_count"]
            lost[row["month"]] += row["lost_count"]
        found["won_lost"] = charts.bar_chart(months, [(_("Won"), [won[m] for m in months]),
                                                      (_("Lost"), [lost[m] for m in months])],
                                             title=_("Won and lost by month"))
    if data["funnel"]:
        found["funnel"] = charts.funnel_chart([(s["stage"], s["count"]) for s in data["funnel"]],
                                              title=_("Pipeline by stage"))
    return found
