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
from core.web.export import export_response
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
    """A submitted party form as the schema reads it (an unticked checkbox is False).

    ``companies`` is there only when the form showed "Visible in" (a group of several companies):
    "all" is every company (an empty list), "some" the companies ticked (at least one).
    """
    values = {key: form.get(key, "") for key in ("kind", "name", "company_id", "email", "phone", "website", "vat_id",
                                                   "tax_id", "street", "postal_code", "city", "country", "notes", "tags")}
    values["active"] = form.get("active") in ("1", "on", "true")
    if form.get("visibility") in ("all", "some"):
        values["visibility"] = form["visibility"]
        values["companies"] = form.getlist("companies") if form["visibility"] == "some" else []
    return values


def _checked_visibility(values: dict) -> None:
    """Refuse "only these companies" with none ticked (it would hide the party everywhere)."""
    if values.get("visibility") == "some" and not values.get("companies"):
        raise InvalidInput(_("Tick the companies the party is visible in, or choose all companies."),
                           field="companies")


def _values_of(party: Party) -> dict:
    values = {key: getattr(party, key) for key in ("kind", "name", "company_id", "email", "phone", "website", "vat_id",
                                                   "tax_id", "street", "postal_code", "city", "country", "notes",
                                                   "active")}
    values["tags"] = ", ".join(party.tag_names)
    values["companies"] = [str(c) for c in party.company_ids]
    values["visibility"] = "some" if party.company_ids else "all"
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
                   group_companies=_group_companies(),
                   countries=[("", "—")] + country_options(str(_locale())),
                   companies=_company_options(values.get("company_id")),
                   title=party.name if party else _("New party"))
    return render("parties/form.html", "parties/_form.html", **context), status


def _group_companies() -> list[tuple[str, str]]:
    """The group's active companies as (id, name), for "Visible in"; shown only for two or more."""
    from core.company.services import list_companies

    return [(str(c.id), c.legal_name) for c in list_companies(db, active_only=True)]


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
        if "format" in request.args:
            return _export(request.args.get("format", ""))
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
            _checked_visibility(values)
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
            _checked_visibility(values)
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

    def _export(fmt: str):
        """Every party the list's search and filters find, as CSV or XLSX."""
        args = load(PartyQuerySchema(), {k: v for k, v in request.args.to_dict().items() if k != "format"})
        stmt = services.parties_query(q=args["q"], kind=args["kind"], tag=args["tag"], country=args["country"],
                                      active=args["active"]).order_by(Party.name_key, Party.id)
        columns = [(c.key, str(c.label)) for c in COLUMNS] + [("vat_id", _("VAT id")), ("kind", _("Kind"))]
        rows = ({key: ", ".join(party.tag_names) if key == "tag_names" else getattr(party, key) for key, _label in columns}
                for party in db.execute(stmt).scalars())
        return export_response("parties", columns, rows, fmt)

    def _merge_page(source: Party, errors: dict, status: int = 200):
        q = request.args.get("q", "").strip()
        found = services.search_parties(db, q, kind=source.kind) if q else []
        return render("parties/merge.html", "parties/_merge_candidates.html", party=source, errors=errors,
                      duplicates=services.find_duplicates(db, source), found=[p for p in found if p.id != source.id],
                      q=q, title=_("Merge %(name)s", name=source.name)), status

    return bp

