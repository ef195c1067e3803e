"""The lead pages: list, form, detail, qualify, disqualify, merge, CSV import and web-to-lead."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from core import (Column, cross_site, export_response, gettext as _, has_permission, is_partial_request, KontorError,
                  latest_job, lazy_gettext as _l, load_input, Party, public, redirect_to, render, require,
                  search_parties, session as db, transaction)

from plugins.crm.access import may_see
from plugins.crm.leads import imports, jobs, services, webform
from plugins.crm.leads.models import SOURCE_LABELS, STATUS_LABELS, Lead
from plugins.crm.leads.schemas import OPEN_STATUSES, ConvertSchema, LeadQuerySchema
from plugins.crm.permissions import LEAD_IMPORT, LEAD_READ, LEAD_WRITE, OPPORTUNITY_WRITE
from plugins.crm.web import bp, flashed_back

COLUMNS = [
    Column("name", _l("Name"), sort="name", link=True),
    Column("company_name", _l("Company"), sort="company"),
    Column("status", _l("Status"), sort="status"),
    Column("source", _l("Source")),
    Column("owner_name", _l("Owner")),
    Column("created_at", _l("Created"), sort="created", format="date"),
]
FORM_FIELDS = ("name", "company_name", "email", "phone", "vat_id", "source", "status", "owner_id", "tags", "notes",
               "campaign_id")


def _lead(lead_id: int) -> Lead:
    try:
        return services.get_lead(db, lead_id, user=current_user)
    except KontorError:
        abort(404)


def _list_args() -> dict:
    try:
        return load_input(LeadQuerySchema(), request.args.to_dict())
    except KontorError as exc:
        if {"sort", "after"} & set(exc.as_errors()):
            raise  # a list argument no link of the list writes: an error page (422), not a guess
        return load_input(LeadQuerySchema(), {"q": request.args.get("q", "")[:200]})


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in labels.items()]


def _campaign_options() -> list[tuple[str, str]]:
    try:
        from plugins.crm.campaigns.services import campaign_choices
    except ImportError:
        return []
    return [("", _("None"))] + [(str(pk), name) for pk, name in campaign_choices(db)]


def _form_values(form) -> dict:
    return {key: form.get(key, "") for key in FORM_FIELDS}


def _values_of(lead: Lead) -> dict:
    values = {key: getattr(lead, key) for key in FORM_FIELDS if key != "tags"}
    values["tags"] = ", ".join(lead.tag_names)
    return values


def _form(lead: Lead | None, values: dict, errors: dict, status: int = 200, duplicates=None):
    owners = services.owner_choices(db, user=current_user)
    if services.sees_all_leads(current_user):
        owners = [("", _("Unassigned"))] + owners
    statuses = _choices({k: STATUS_LABELS[k] for k in OPEN_STATUSES}) if lead is None or lead.is_open else []
    html = render("crm/leads/form.html", "crm/leads/_form.html", lead=lead, values=values, errors=errors,
                  sources=_choices(SOURCE_LABELS), statuses=statuses, owners=owners, campaigns=_campaign_options(),
                  duplicates=duplicates or [],
                  title=lead.name if lead else _("New lead"))
    return html, status


def _timeline_url(lead: Lead) -> str | None:
    """The lazily loaded timeline of ``lead``: the box with its note form, else the bare list."""
    for endpoint in ("crm.timeline_panel", "crm.timeline"):
        try:
            return url_for(endpoint, lead_id=lead.id)
        except BuildError:
            continue
    return None


def _detail_context(lead: Lead) -> dict:
    party = db.get(Party, lead.party_id) if lead.party_id else None
    opportunities = services.opportunities_of(db, lead, user=current_user)
    merged_into = db.get(Lead, lead.merged_into_id) if lead.merged_into_id else None
    if merged_into is not None and not may_see(merged_into, "lead", user=current_user):
        merged_into = None
    return {"lead": lead, "party": party, "opportunities": opportunities, "merged_into": merged_into,
            "status_labels": STATUS_LABELS, "source_labels": SOURCE_LABELS,
            "timeline_url": _timeline_url(lead), "can_write": has_permission(LEAD_WRITE),
            "can_convert": has_permission(LEAD_WRITE) and has_permission(OPPORTUNITY_WRITE)}


@bp.get("/leads")
@require(LEAD_READ)
def leads():
    args = _list_args()
    fmt = request.args.get("format")
    if fmt:  # export_response refuses a format it cannot write (422 naming it)
        return _export(args, fmt)
    args["limit"] = current_app.config.get("PAGE_SIZE", 50)
    page = services.list_leads(db, user=current_user, **args)
    page.rows = [_row(lead) for lead in page.rows]
    return render("crm/leads/list.html", "crm/leads/_list.html", page=page, columns=COLUMNS,
                  statuses=_choices(STATUS_LABELS), sources=_choices(SOURCE_LABELS),
                  owners=services.owner_choices(db, user=current_user), tags=services.lead_tags_in_use(db),
                  lead_url=lambda row: url_for("crm.lead", lead_id=row["id"]),
                  can_write=has_permission(LEAD_WRITE), can_import=has_permission(LEAD_IMPORT))


def _row(lead: Lead) -> dict:
    """A lead as the list shows it."""
    return {"id": lead.id, "name": lead.name, "company_name": lead.company_name,
            "status": STATUS_LABELS.get(lead.status, lead.status),
            "source": SOURCE_LABELS.get(lead.source, lead.source),
            "owner_name": lead.owner_name, "created_at": lead.created_at}


def _export(args: dict, fmt: str):
    """Every lead of the filtered list, in the list's order, as a download."""
    args.pop("after"), args.pop("limit")
    columns = [("id", _("Id")), ("name", _("Name")), ("company_name", _("Company")), ("email", _("Email")),
               ("phone", _("Phone")), ("vat_id", _("VAT id")), ("source", _("Source")), ("status", _("Status")),
               ("owner", _("Owner")), ("tags", _("Tags")), ("created_at", _("Created")), ("notes", _("Notes"))]
    return export_response("leads", columns, services.export_rows(db, user=current_user, **args), fmt)


@bp.route("/leads/new", methods=["GET", "POST"])
@require(LEAD_WRITE)
def lead_new():
    if request.method == "GET":
        return _form(None, {"source": request.args.get("source", "other"), "status": "new",
                            "owner_id": current_user.id}, {})
    values = _form_values(request.form)
    decision = request.form.get("decision", "")
    with transaction(on_refusal=lambda exc: _form(None, values, exc.as_errors(), 422)):
        data = services.clean_lead_data(values)
        if not decision:
            duplicates = services.find_duplicates(db, data, user=current_user)
            if duplicates:
                return _form(None, values, {}, 200, duplicates)
        kind, _sep, target = decision.partition(":")
        if kind == "merge" and target.isdigit():
            lead = services.merge_data_into(db, _lead(int(target)), values, user=current_user)
            message = _("The details were merged into %(name)s.", name=lead.name)
        else:
            party_id = int(target) if kind == "link" and target.isdigit() else None
            lead = services.create_lead(db, values, user=current_user, party_id=party_id)
            message = _("%(name)s is saved.", name=lead.name)
    flash(message, "success")
    return redirect_to(url_for("crm.lead", lead_id=lead.id))


@bp.get("/leads/<int:lead_id>")
@require(LEAD_READ)
def lead(lead_id: int):
    return render("crm/leads/detail.html", **_detail_context(_lead(lead_id)))


@bp.get("/leads/<int:lead_id>/fields")
@require(LEAD_READ)
def lead_fields(lead_id: int):
    return render("crm/leads/_fields.html", **_detail_context(_lead(lead_id)))


@bp.route("/leads/<int:lead_id>/edit", methods=["GET", "POST"])
@require(LEAD_WRITE)
def lead_edit(lead_id: int):
    lead = _lead(lead_id)
    if request.method == "GET":
        return _form(lead, _values_of(lead), {})
    values = _form_values(request.form)
    with transaction(on_refusal=lambda exc: _form(_lead(lead_id), values, exc.as_errors(), 422)):
        services.update_lead(db, lead, values, user=current_user, partial=False)
    if is_partial_request():
        return render("crm/leads/_fields.html", **_detail_context(lead))
    flash(_("%(name)s is saved.", name=lead.name), "success")
    return redirect(url_for("crm.lead", lead_id=lead.id), 303)


@bp.route("/leads/<int:lead_id>/qualify", methods=["GET", "POST"])
@require(LEAD_WRITE)
def lead_qualify(lead_id: int):
    lead = _lead(lead_id)
    if not has_permission(OPPORTUNITY_WRITE):  # qualifying opens an opportunity
        abort(403)
    values = request.form.to_dict() if request.method == "POST" else {
        "party_choice": "new", "title": lead.company_name or lead.name}
    values.pop("party_id", None)
    if request.method == "GET":
        return _qualify_page(lead, values, {})
    with transaction(on_refusal=lambda exc: _qualify_page(_lead(lead_id), values, exc.as_errors(), 422)):
        choice = values.get("party_choice", "")
        data = load_input(ConvertSchema(), {**values, "create_party": choice == "new",
                                      "party_id": choice if choice.isdigit() else None})
        opportunity, party = services.convert_lead(db, lead, user=current_user, **data)
    flash(_("%(name)s is qualified: opportunity %(title)s for %(party)s.", name=lead.name,
            title=opportunity.title, party=party.name), "success")
    return redirect_to(url_for("crm.lead", lead_id=lead.id))


def _qualify_page(lead: Lead, values: dict, errors: dict, status: int = 200):
    choice = str(values.get("party_choice", ""))
    selected = db.get(Party, int(choice)) if choice.isdigit() else None
    matches = [d for d in services.find_duplicates(db, lead, user=current_user, exclude_id=lead.id)
               if d.kind == "party"]
    return render("crm/leads/qualify.html", lead=lead, values=values, errors=errors, selected=selected,
                  matches=matches, title=_("Qualify %(name)s", name=lead.name)), status


@bp.get("/leads/party-options")
@require(LEAD_WRITE)
def lead_party_options():
    q = request.args.get("party_q", "").strip()[:200]
    parties = search_parties(db, q, limit=20) if q else []
    return render("crm/leads/_party_options.html", parties=parties, q=q)


@bp.route("/leads/<int:lead_id>/disqualify", methods=["GET", "POST"])
@require(LEAD_WRITE)
def lead_disqualify(lead_id: int):
    lead = _lead(lead_id)
    if request.method == "GET":
        return render("crm/leads/disqualify.html", lead=lead, values={}, errors={},
                      title=_("Disqualify %(name)s", name=lead.name))
    reason = request.form.get("reason", "")
    with transaction(on_refusal=lambda exc: (render("crm/leads/disqualify.html", lead=_lead(lead_id),
                                                    values={"reason": reason}, errors=exc.as_errors(),
                                                    title=_("Disqualify %(name)s", name=lead.name)), 422)):
        services.disqualify_lead(db, lead, reason, user=current_user)
    flash(_("%(name)s is disqualified.", name=lead.name), "success")
    return redirect_to(url_for("crm.lead", lead_id=lead.id))


@bp.post("/leads/<int:lead_id>/reopen")
@require(LEAD_WRITE)
def lead_reopen(lead_id: int):
    lead = _lead(lead_id)
    with transaction(on_refusal=flashed_back(url_for("crm.lead", lead_id=lead_id))):
        services.reopen_lead(db, lead, user=current_user)
    return redirect_to(url_for("crm.lead", lead_id=lead_id))


@bp.route("/leads/<int:lead_id>/merge", methods=["GET", "POST"])
@require(LEAD_WRITE)
def lead_merge(lead_id: int):
    source = _lead(lead_id)
    if request.method == "GET":
        return _merge_page(source, {})
    into = request.form.get("into", "").strip()

    def refused(exc: KontorError):
        errors = exc.as_errors() if exc.status != 404 else {"into": [exc.message]}
        return _merge_page(_lead(lead_id), errors, 422)

    with transaction(on_refusal=refused):
        if not into.isdigit():
            raise KontorError(_("Choose the lead to keep."), field="into", status=422)
        target = services.get_lead(db, int(into), user=current_user)
        services.merge_leads(db, source, target, user=current_user)
    flash(_("%(source)s is merged into %(target)s.", source=source.name, target=target.name), "success")
    return redirect_to(url_for("crm.lead", lead_id=target.id))


def _merge_page(source: Lead, errors: dict, status: int = 200):
    duplicates = [d for d in services.find_duplicates(db, source, user=current_user, exclude_id=source.id)
                  if d.kind == "lead"]
    return render("crm/leads/merge.html", lead=source, duplicates=duplicates, errors=errors,
                  title=_("Merge %(name)s", name=source.name)), status


@bp.route("/leads/import", methods=["GET", "POST"])
@require(LEAD_IMPORT)
def leads_import():
    if request.method == "GET":
        return render("crm/leads/import_upload.html", errors={}, title=_("Import leads"))
    upload = request.files.get("file")
    with transaction(on_refusal=lambda exc: (render("crm/leads/import_upload.html", errors=exc.as_errors(),
                                                    title=_("Import leads")), 422)):
        if upload is None or not upload.filename:
            raise KontorError(_("Choose a CSV file."), field="file")
        content = upload.read()
        imports.read_file(content)
        stored = imports.store_upload(db, content, upload.filename, user=current_user)
    return redirect(url_for("crm.leads_import_map", token=stored.token), 303)


def _upload(token: str):
    try:
        return imports.get_upload(db, token, user=current_user)
    except KontorError:
        abort(404)


def _map_page(upload, mapping: dict, errors: dict, status: int = 200):
    csv_file = imports.read_file(upload.content)
    return render("crm/leads/import_map.html", upload=upload, headers=csv_file.headers,
                  sample=csv_file.rows[:3], mapping=mapping, fields=_choices(imports.FIELDS), errors=errors,
                  title=_("Import leads: columns")), status


@bp.route("/leads/import/<token>/columns", methods=["GET", "POST"])
@require(LEAD_IMPORT)
def leads_import_map(token: str):
    upload = _upload(token)
    if request.method == "GET":
        csv_file = imports.read_file(upload.content)
        return _map_page(upload, imports.upload_mapping(upload) or imports.guess_mapping(csv_file), {})
    mapping = {name: request.form.get(f"map_{name}", "") for name in imports.FIELDS}
    with transaction(on_refusal=lambda exc: _map_page(_upload(token), mapping, {f"map_{exc.field}": [exc.message]},
                                                      422)):
        clean = imports.check_mapping(mapping, imports.read_file(upload.content).headers)
        imports.set_upload_mapping(upload, clean)
    return redirect(url_for("crm.leads_import_preview", token=token), 303)


def _preview(upload, errors: dict, status: int = 200, **values):
    check = imports.check_file(db, upload.content, imports.upload_mapping(upload), user=current_user)
    return render("crm/leads/import_preview.html", upload=upload, check=check, errors=errors,
                  headers=list(imports.upload_mapping(upload).items()), field_labels=imports.FIELDS,
                  values=values, title=_("Import leads: preview")), status


@bp.get("/leads/import/<token>/preview")
@require(LEAD_IMPORT)
def leads_import_preview(token: str):
    upload = _upload(token)
    if upload.plan is not None:  # imported already, or being imported
        return redirect(url_for("crm.leads_import_status", token=token), 303)
    if not imports.upload_mapping(upload):
        return redirect(url_for("crm.leads_import_map", token=token), 303)
    return _preview(upload, {})


@bp.post("/leads/import/<token>/run")
@require(LEAD_IMPORT)
def leads_import_run(token: str):
    upload = _upload(token)
    valid_only = bool(request.form.get("valid_only"))
    skip_duplicates = bool(request.form.get("skip_duplicates"))
    with transaction(on_refusal=lambda exc: _preview(_upload(token), exc.as_errors(), 422, valid_only=valid_only,
                                                     skip_duplicates=skip_duplicates)):
        jobs.import_in_background(db, upload, user=current_user, owner_id=current_user.id, valid_only=valid_only,
                                  skip_duplicates=skip_duplicates)
    return redirect(url_for("crm.leads_import_status", token=token), 303)


@bp.get("/leads/import/<token>/status")
@require(LEAD_IMPORT)
def leads_import_status(token: str):
    upload = _upload(token)
    if upload.plan is None:
        return redirect(url_for("crm.leads_import_preview", token=token), 303)
    return render("crm/leads/import_status.html", "crm/leads/_import_status.html", upload=upload,
                  job=latest_job(db, jobs.record_of(upload)), result=imports.upload_result(upload),
                  problems=imports.upload_problems(upload), field_labels=imports.FIELDS,
                  title=_("Import leads: %(file)s", file=upload.filename))


@bp.post("/web-to-lead")
@public
@cross_site  # posted from the company's own website, which cannot hold our CSRF token
def web_to_lead():
    def refused(exc: KontorError):
        if isinstance(exc, webform.Throttled):
            return render("crm/leads/web_thanks.html", errors={"_schema": [exc.message]}, labels={}), 429
        return render("crm/leads/web_thanks.html", errors=exc.as_errors(), labels=webform.FIELD_LABELS), 422

    form = request.form.to_dict()
    with transaction(on_refusal=refused):
        webform.capture(db, form, address=request.remote_addr or "")
    next_url = webform.return_address(db, form)
    if next_url:
        return redirect(next_url, 303)
    return redirect(url_for("crm.web_to_lead_thanks"), 303)


@bp.get("/web-to-lead/thanks")
@public
def web_to_lead_thanks():
    return render("crm/leads/web_thanks.html", errors={}, labels={})

