"""The pages of parties: list, detail, create, edit and merge (thin views over the services)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for

from core.db import session as db
from core.errors import InvalidInput, KontorError, NotFound
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.parties import services
from core.parties.models import Party
from core.parties.schemas import KINDS, PartyQuerySchema, country_options, load
from core.security import require
from core.web.listing import Column
from core.web.shell import is_partial_request, render
from core.web.transaction import redirect_to, transaction

COLUMNS = [
    Column("name", _l("Name"), sort="name", link=True),
    Column("email", _l("Email")),
    Column("phone", _l("Phone")),
    Column("city", _l("City"), sort="city"),
    Column("country", _l("Country")),
    Column("tag_names", _l("Tags")),
    Column("created_on", _l("Created"), sort="created", format="date"),
]


def _party(party_id: int) -> Party:
    try:
        return services.get_party(db, party_id)
    except NotFound:
        abort(404)


def _form_values(form) -> dict:
    """A submitted party form as the schema reads it (an unticked checkbox is False)."""
    values = {key: form.get(key, "") for key in ("kind", "name", "company_id", "email", "phone", "website", "vat_id",
                                                   "tax_id", "street", "postal_code", "city", "country", "notes", "tags")}
    values["active"] = form.get("active") in ("1", "on", "true")
    return values


def _values_of(party: Party) -> dict:
    values = {key: getattr(party, key) for key in ("kind", "name", "company_id", "email", "phone", "website", "vat_id",
                                                   "tax_id", "street", "postal_code", "city", "country", "notes",
                                                   "active")}
    values["tags"] = ", ".join(party.tag_names)
    return values


def _company_options(selected_id, q: str = "") -> list[tuple[str, str]]:
    companies = services.search_parties(db, q, limit=50, kind="company")
    if selected_id:
        chosen = db.get(Party, int(selected_id)) if str(selected_id).isdigit() else None
        if chosen is not None and chosen not in companies:
            companies.insert(0, chosen)
    return [("", "—")] + [(str(c.id), c.name) for c in companies]


def _form(party: Party | None, values: dict, errors: dict, status: int = 200):
    context = dict(party=party, values=values, errors=errors, kinds=[(k, _kind_label(k)) for k in KINDS],
                   countries=[("", "—")] + country_options(str(_locale())),
                   companies=_company_options(values.get("company_id")),
                   title=party.name if party else _("New party"))
    return render("parties/form.html", "parties/_form.html", **context), status


def _kind_label(kind: str) -> str:
    return _("Company") if kind == "company" else _("Person")


def _locale():
    from flask_babel import get_locale

    return get_locale() or "en"


def _detail_context(party: Party) -> dict:
    return dict(
        party=party, kind_label=_kind_label(party.kind),
        people=services.people_of(db, party) if party.kind == "company" else [],
        merged_into=db.get(Party, party.merged_into_id) if party.merged_into_id else None,
        title=party.name,
    )


def create_blueprint() -> Blueprint:
    """The ``parties`` blueprint under ``/parties`` (made anew for every app build)."""
    bp = Blueprint("parties", __name__, url_prefix="/parties")

    @bp.get("")
    @require("core.party.read")
    def party_list():
        try:
            args = load(PartyQuerySchema(), request.args.to_dict())
        except KontorError as exc:
            if {"sort", "after"} & set(exc.as_errors()):
                raise  # a list argument no link of the list writes: an error page (422), not a guess
            args = load(PartyQuerySchema(), {"q": request.args.get("q", "")[:200]})
        args["limit"] = current_app.config["PAGE_SIZE"]
        page = services.list_parties(db, **args)
        return render("parties/list.html", "parties/_list.html", page=page, columns=COLUMNS,
                      kinds=[(k, _kind_label(k)) for k in KINDS], tags=services.all_tags(db),
                      party_url=lambda p: url_for("parties.party_detail", party_id=p.id), title=_("Parties"))

    @bp.route("/new", methods=["GET", "POST"])
    @require("core.party.write")
    def party_create():
        if request.method == "GET":
            values = {"kind": request.args.get("kind", "company"), "active": True,
                      "company_id": request.args.get("company_id", "")}
            return _form(None, values, {})
        values = _form_values(request.form)
        with transaction(on_refusal=lambda exc: _form(None, values, exc.as_errors(), 422)):
            party = services.create_party(db, values)
        flash(_("%(name)s is saved.", name=party.name), "success")
        return redirect_to(url_for("parties.party_detail", party_id=party.id))

    @bp.get("/widget")
    @require("core.party.read")
    def widget():
        return render("parties/_widget.html", **services.overview(db))

    @bp.get("/<int:party_id>")
    @require("core.party.read")
    def party_detail(party_id: int):
        return render("parties/detail.html", **_detail_context(_party(party_id)))

    @bp.route("/<int:party_id>/edit", methods=["GET", "POST"])
    @require("core.party.write")
    def party_edit(party_id: int):
        party = _party(party_id)
        if request.method == "GET":
            return _form(party, _values_of(party), {})
        values = _form_values(request.form)
        with transaction(on_refusal=lambda exc: _form(_party(party_id), values, exc.as_errors(), 422)):
            services.update_party(db, party, values, partial=False)
        if is_partial_request():
            return render("parties/_fields.html", **_detail_context(party))
        flash(_("%(name)s is saved.", name=party.name), "success")
        return redirect(url_for("parties.party_detail", party_id=party.id), 303)

    @bp.get("/<int:party_id>/fields")
    @require("core.party.read")
    def party_fields(party_id: int):
        return render("parties/_fields.html", **_detail_context(_party(party_id)))

    @bp.get("/company-options")
    @require("core.party.read")
    def company_options():
        options = _company_options(request.args.get("company_id", ""), request.args.get("company_q", ""))
        return render("parties/_company_options.html", companies=options,
                      selected=request.args.get("company_id", ""))

    @bp.route("/<int:party_id>/merge", methods=["GET", "POST"])
    @require("core.party.merge")
    def party_merge(party_id: int):
        source = _party(party_id)
        if request.method == "GET":
            return _merge_page(source, {})
        into = request.form.get("into", "")

        def refused(exc: KontorError):
            return _merge_page(_party(party_id), exc.as_errors(), 422 if exc.status == 404 else exc.status)

        with transaction(on_refusal=refused):
            target = services.get_party(db, int(into)) if into.isdigit() else None
            if target is None:
                raise InvalidInput(_("Choose the party to keep."), field="into")
            pm = current_app.extensions["kontor"].pm
            services.merge_parties(db, source, target, on_merging=pm.hook.party_merging)
        flash(_("%(source)s is merged into %(target)s.", source=source.name, target=target.name), "success")
        return redirect(url_for("parties.party_detail", party_id=target.id), 303)

    def _merge_page(source: Party, errors: dict, status: int = 200):
        q = request.args.get("q", "").strip()
        found = services.search_parties(db, q, kind=source.kind) if q else []
        return render("parties/merge.html", "parties/_merge_candidates.html", party=source, errors=errors,
                      duplicates=services.find_duplicates(db, source), found=[p for p in found if p.id != source.id],
                      q=q, title=_("Merge %(name)s", name=source.name)), status

    return bp

