"""The campaign pages: segments with a live count, campaigns, sending with progress, unsubscribing."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from core import (Column, cross_site, export_response, gettext as _, has_permission, keyset_page, latest_job,
                  lazy_gettext as _l, NotFound, public, render, require, session as db, transaction)

from plugins.crm.campaigns import config, jobs, mailer, services
from plugins.crm.campaigns.models import RECIPIENT_STATUSES, STATUS_LABELS, Campaign, Segment
from plugins.crm.permissions import CAMPAIGN_READ, CAMPAIGN_SEND, CAMPAIGN_WRITE
from plugins.crm.web import bp, flashed_back

COLUMNS = [
    Column("name", _l("Name"), sort="name", link=True),
    Column("segment", _l("Segment")),
    Column("status", _l("Status"), sort="status"),
    Column("recipients", _l("Recipients")),
    Column("created_at", _l("Created"), sort="created", format="datetime"),
    Column("finished_at", _l("Sent"), format="datetime"),
]
SORT_KEYS = {"created": Campaign.created_at, "name": Campaign.name, "status": Campaign.status}
CAMPAIGN_FIELDS = ("name", "segment_id", "subject", "body")
RECIPIENTS_PAGE = 100
#: who may open the core's mail log (Administration → Mail)
MAIL_LOG = "core.mail.manage"


def _campaign(campaign_id: int) -> Campaign:
    try:
        return services.get_campaign(db, campaign_id)
    except NotFound:
        abort(404)


def _segment(segment_id: int) -> Segment:
    try:
        return services.get_segment(db, segment_id)
    except NotFound:
        abort(404)


def _base_url() -> str:
    return config.site_url(db) or request.url_root.rstrip("/")


def _secret() -> str:
    return current_app.secret_key


def _segment_options() -> list[tuple[str, str]]:
    return [("", "—")] + [(str(s.id), s.name) for s in services.list_segments(db)]


def _campaign_query():
    q = request.args.get("q", "")[:200]
    status = request.args.get("status", "")
    stmt = select(Campaign)
    if q.strip():
        stmt = stmt.where(func.lower(Campaign.name).contains(q.strip().casefold(), autoescape=True))
    if status in ("draft", "sending", "sent"):
        stmt = stmt.where(Campaign.status == status)
    return stmt, q, status


def _row(campaign: Campaign) -> dict:
    counts = services.progress(db, campaign)
    return {"id": campaign.id, "name": campaign.name, "segment": campaign.segment_name,
            "status": str(STATUS_LABELS.get(campaign.status, campaign.status)),
            "recipients": _("%(sent)s of %(total)s sent", sent=counts.sent, total=counts.total) if counts.total else "",
            "created_at": campaign.created_at, "finished_at": campaign.finished_at}


def _campaign_form(campaign: Campaign | None, values: dict, errors: dict, status: int = 200):
    return render("crm/campaigns/campaign_form.html", "crm/campaigns/_campaign_form.html", campaign=campaign,
                  values=values, errors=errors, segments=_segment_options(),
                  title=campaign.name if campaign else _("New campaign")), status


def _recipient_status() -> str:
    status = request.args.get("recipient_status", "")
    return status if status in RECIPIENT_STATUSES else ""


def _detail(campaign: Campaign, errors: dict | None = None, test_address: str = "", status: int = 200):
    status_filter = _recipient_status()
    after = request.args.get("after_id", "")[:9]
    recipients = services.recipients(db, campaign, status=status_filter,
                                      after_id=int(after) if after.isascii() and after.isdigit() else 0,
                                      limit=RECIPIENTS_PAGE + 1)
    return render("crm/campaigns/campaign.html", "crm/campaigns/_campaign.html", campaign=campaign,
                  progress=services.progress(db, campaign), job=latest_job(db, jobs.record_of(campaign)),
                  recipients=recipients[:RECIPIENTS_PAGE],
                  more=recipients[RECIPIENTS_PAGE - 1].id if len(recipients) > RECIPIENTS_PAGE else None,
                  recipient_status=status_filter, recipient_statuses=RECIPIENT_STATUSES, status_labels=STATUS_LABELS,
                  attributed=services.attributed(db, campaign, current_user),
                  sender=services.sender_name(db, campaign.sent_by_id), errors=errors or {},
                  mail_log=services.mail_log(db, campaign), can_read_mail_log=has_permission(MAIL_LOG),
                  test_address=test_address or current_user.email, can_write=has_permission(CAMPAIGN_WRITE),
                  can_send=has_permission(CAMPAIGN_SEND), title=campaign.name), status


def _progress(campaign: Campaign, finished_now: bool = False):
    return render("crm/campaigns/_progress.html", campaign=campaign, progress=services.progress(db, campaign),
                  job=latest_job(db, jobs.record_of(campaign)), can_send=has_permission(CAMPAIGN_SEND),
                  finished_now=finished_now)


def _segment_values(form) -> dict:
    return {"name": form.get("name", ""), "include_parties": form.get("include_parties", ""),
            "include_leads": form.get("include_leads", ""), "tags": form.get("tags", ""),
            "countries": form.get("countries", ""), "party_kind": form.get("party_kind", ""),
            "lead_statuses": form.getlist("lead_statuses"), "lead_sources": form.getlist("lead_sources")}


def _segment_choices() -> dict:
    from plugins.crm.leads.models import SOURCE_LABELS, STATUS_LABELS as LEAD_STATUS_LABELS

    return {"lead_status_options": [(k, str(v)) for k, v in LEAD_STATUS_LABELS.items()],
            "lead_source_options": [(k, str(v)) for k, v in SOURCE_LABELS.items()],
            "kind_options": [("", _("Companies and people")), ("company", _("Companies")), ("person", _("People"))]}


def _segment_page(segment: Segment | None, values: dict, errors: dict, status: int = 200):
    spec = services.preview_segment(values)
    shown = services.members(db, spec, user=current_user)
    return render("crm/campaigns/segment.html", "crm/campaigns/_segment_form.html", segment=segment, values=values,
                  errors=errors, count=services.count(db, spec), members=shown[:100], member_total=len(shown),
                  can_write=has_permission(CAMPAIGN_WRITE), title=segment.name if segment else _("New segment"),
                  **_segment_choices()), status


def _values_of(segment: Segment) -> dict:
    return {"name": segment.name, "include_parties": segment.include_parties, "include_leads": segment.include_leads,
            "tags": segment.tags.replace(",", ", "), "countries": segment.countries.replace(",", ", "),
            "party_kind": segment.party_kind, "lead_statuses": services.split_list(segment.lead_statuses),
            "lead_sources": services.split_list(segment.lead_sources)}


@bp.get("/campaigns")
@require(CAMPAIGN_READ)
def campaigns():
    stmt, q, status = _campaign_query()
    fmt = request.args.get("format")
    if fmt:  # export_response refuses a format it cannot write (422 naming it)
        rows = [_row(c) for c in db.execute(stmt.order_by(Campaign.created_at.desc(), Campaign.id.desc())).scalars()]
        return export_response("campaigns", [(c.key, str(c.label)) for c in COLUMNS], rows, fmt)
    page = keyset_page(db, stmt, sort_keys=SORT_KEYS, id_column=Campaign.id,
                       sort=request.args.get("sort", "-created"), cursor=request.args.get("after"),
                       size=current_app.config["PAGE_SIZE"], query=q, filters={"status": status} if status else {})
    page.rows = [_row(c) for c in page.rows]
    return render("crm/campaigns/campaigns.html", "crm/campaigns/_campaigns.html", page=page, columns=COLUMNS,
                  status=status, status_labels=STATUS_LABELS,
                  row_url=lambda row: url_for("crm.campaign", campaign_id=row["id"]), title=_("Campaigns"))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@require(CAMPAIGN_WRITE)
def campaign_new():
    if request.method == "GET":
        values = {"segment_id": request.args.get("segment_id", ""),
                  "body": _("Hello {{name}},\n\n…\n\nBest regards\n\nUnsubscribe: {{unsubscribe_url}}")}
        return _campaign_form(None, values, {})
    values = {key: request.form.get(key, "") for key in CAMPAIGN_FIELDS}
    with transaction(on_refusal=lambda exc: _campaign_form(None, values, exc.as_errors(), 422)):
        campaign = services.create_campaign(db, values, user_id=current_user.id)
    flash(_("The campaign %(name)s is saved as a draft.", name=campaign.name), "success")
    return redirect(url_for("crm.campaign", campaign_id=campaign.id), 303)


@bp.get("/campaigns/<int:campaign_id>")
@require(CAMPAIGN_READ)
def campaign(campaign_id: int):
    fmt = request.args.get("format")
    if fmt:  # the recipients on the page; export_response refuses a format it cannot write (422 naming it)
        return _recipients_export(_campaign(campaign_id), fmt)
    return _detail(_campaign(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@require(CAMPAIGN_WRITE)
def campaign_edit(campaign_id: int):
    campaign = _campaign(campaign_id)
    if campaign.status != "draft":
        flash(_("Only a draft can be changed; duplicate the campaign to send it again."), "error")
        return redirect(url_for("crm.campaign", campaign_id=campaign.id), 303)
    if request.method == "GET":
        values = {key: "" if getattr(campaign, key) is None else str(getattr(campaign, key))
                  for key in CAMPAIGN_FIELDS}
        return _campaign_form(campaign, values, {})
    values = {key: request.form.get(key, "") for key in CAMPAIGN_FIELDS}
    with transaction(on_refusal=lambda exc: _campaign_form(campaign, values, exc.as_errors(), 422)):
        services.update_campaign(db, campaign, values)
    flash(_("The campaign %(name)s is saved.", name=campaign.name), "success")
    return redirect(url_for("crm.campaign", campaign_id=campaign.id), 303)


@bp.post("/campaigns/<int:campaign_id>/duplicate")
@require(CAMPAIGN_WRITE)
def campaign_duplicate(campaign_id: int):
    with transaction():
        copy = services.duplicate_campaign(db, _campaign(campaign_id), user_id=current_user.id)
    flash(_("The campaign %(name)s is saved as a draft.", name=copy.name), "success")
    return redirect(url_for("crm.campaign", campaign_id=copy.id), 303)


@bp.post("/campaigns/<int:campaign_id>/test")
@require(CAMPAIGN_WRITE)
def campaign_test(campaign_id: int):
    campaign = _campaign(campaign_id)
    address = request.form.get("test_address", "")
    with transaction(on_refusal=lambda exc: _detail(_campaign(campaign_id), {"test_address": [exc.message]}, address,
                                                    422)):
        services.send_test(db, campaign, address, secret=_secret(), base_url=_base_url())
    flash(_("A test message went to %(address)s.", address=address.strip()), "success")
    return redirect(url_for("crm.campaign", campaign_id=campaign.id), 303)


@bp.post("/campaigns/<int:campaign_id>/send")
@require(CAMPAIGN_SEND)
def campaign_send(campaign_id: int):
    campaign = _campaign(campaign_id)
    with transaction(on_refusal=flashed_back(url_for("crm.campaign", campaign_id=campaign_id))):
        jobs.send_in_background(db, campaign, user_id=current_user.id, base_url=request.url_root.rstrip("/"))
    return redirect(url_for("crm.campaign", campaign_id=campaign_id), 303)


@bp.get("/campaigns/<int:campaign_id>/progress")
@require(CAMPAIGN_READ)
def campaign_progress(campaign_id: int):
    campaign = _campaign(campaign_id)
    return _progress(campaign, finished_now=bool(request.args.get("following")) and campaign.status == "sent")


def _recipients_export(campaign: Campaign, fmt: str):
    """Every recipient of ``campaign`` with the status filtered on its page (all without one)."""
    rows = [{"email": r.email, "name": r.name, "company": r.company,
             "status": str(STATUS_LABELS.get(r.status, r.status)),
             "reason": r.reason, "sent_at": r.sent_at}
            for r in services.recipients(db, campaign, status=_recipient_status(), limit=10**9)]
    columns = [("email", _("Email")), ("name", _("Name")), ("company", _("Company")), ("status", _("Status")),
               ("reason", _("Reason")), ("sent_at", _("Sent"))]
    return export_response(f"campaign-{campaign.id}-recipients", columns, rows, fmt)


@bp.get("/segments")
@require(CAMPAIGN_READ)
def segments():
    rows = [(s, services.count(db, s)) for s in services.list_segments(db)]
    return render("crm/campaigns/segments.html", rows=rows, title=_("Segments"))


@bp.route("/segments/new", methods=["GET", "POST"])
@require(CAMPAIGN_WRITE)
def segment_new():
    if request.method == "GET":
        return _segment_page(None, {"include_parties": True}, {})
    values = _segment_values(request.form)
    with transaction(on_refusal=lambda exc: _segment_page(None, values, exc.as_errors(), 422)):
        segment = services.create_segment(db, values)
    flash(_("The segment %(name)s is saved.", name=segment.name), "success")
    return redirect(url_for("crm.segment", segment_id=segment.id), 303)


@bp.route("/segments/<int:segment_id>", methods=["GET", "POST"])
@require(CAMPAIGN_READ)
def segment(segment_id: int):
    segment = _segment(segment_id)
    if request.method == "GET":
        return _segment_page(segment, _values_of(segment), {})
    if not has_permission(CAMPAIGN_WRITE):
        abort(403)
    values = _segment_values(request.form)
    with transaction(on_refusal=lambda exc: _segment_page(segment, values, exc.as_errors(), 422)):
        services.update_segment(db, segment, values)
    flash(_("The segment %(name)s is saved.", name=segment.name), "success")
    return redirect(url_for("crm.segment", segment_id=segment.id), 303)


@bp.post("/segments/<int:segment_id>/delete")
@require(CAMPAIGN_WRITE)
def segment_delete(segment_id: int):
    segment = _segment(segment_id)
    with transaction(on_refusal=flashed_back(url_for("crm.segment", segment_id=segment_id))):
        services.delete_segment(db, segment)
    flash(_("The segment is removed."), "success")
    return redirect(url_for("crm.segments"), 303)


@bp.get("/segments/count")
@require(CAMPAIGN_READ)
def segment_count():
    spec = services.preview_segment(_segment_values(request.args))
    return render("crm/campaigns/_segment_count.html", count=services.count(db, spec))


@bp.route("/opt-outs", methods=["GET", "POST"])
@require(CAMPAIGN_READ)
def opt_outs():
    errors = {}
    status = 200
    if request.method == "POST":
        if not has_permission(CAMPAIGN_WRITE):
            abort(403)
        address = request.form.get("email", "")
        if not mailer.EMAIL_ADDRESS.match(address.strip()):
            errors, status = {"email": [_("Enter an email address such as name@example.com.")]}, 422
        else:
            with transaction():
                services.opt_out(db, address)
            flash(_("%(address)s will not be mailed again.", address=address.strip()), "success")
            return redirect(url_for("crm.opt_outs"), 303)
    q = request.args.get("q", "")[:200]
    return render("crm/campaigns/opt_outs.html", rows=services.search_opt_outs(db, q), q=q, errors=errors,
                  total=services.opt_out_count(db), can_write=has_permission(CAMPAIGN_WRITE),
                  title=_("Unsubscribed addresses")), status


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
@cross_site  # the signed token authorises the POST: the confirm button, or a mail client's one click (RFC 8058)
def unsubscribe(token: str):
    found = mailer.read_token(_secret(), token)
    if found is None:
        return render("crm/campaigns/unsubscribe.html", state="invalid", email="",
                      title=_("Unsubscribe")), 404
    email, campaign_id = found
    if request.method == "POST":
        with transaction():
            services.opt_out(db, email, campaign_id)
        return render("crm/campaigns/unsubscribe.html", state="done", email=email, title=_("Unsubscribe"))
    state = "done" if services.is_opted_out(db, email) else "confirm"
    return render("crm/campaigns/unsubscribe.html", state=state, email=email, token=token,
                  title=_("Unsubscribe"))
