"""Administration → Lookup tables and Rule kinds, and the "Try it" panel of every rule editor."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, request, url_for

from core.db import session as db
from core.errors import KontorError
from core.i18n import gettext as _
from core.rules import services
from core.rules.permissions import MANAGE
from core.rules.registry import rule_kinds
from core.rules.trying import kind_to_try, try_rule
from core.security import has_permission, require, signed_in
from core.web.shell import is_partial_request, render
from core.web.transaction import redirect_to, transaction

bp = Blueprint("rules", __name__)

ROW_FIELDS = ("key", "value", "valid_from", "valid_until")


def _table_form() -> dict:
    return {name: request.form.get(name, "") for name in ("name", "title", "key_type", "match")}


# -- lookup tables --


@bp.get("/settings/lookup-tables")
@require(MANAGE)
def table_list():
    return render("rules/lookup_tables.html", tables=services.list_tables(db), title=_("Lookup tables"))


def _key_types():
    return [("text", _("Text")), ("number", _("Number"))]


def _matches():
    return [("exact", _("Exact: the row whose key is the value")),
            ("bracket", _("Bracket: the row with the greatest key not above the value"))]


@bp.route("/settings/lookup-tables/new", methods=["GET", "POST"])
@require(MANAGE)
def table_create():
    if request.method == "GET":
        return _page_for_new({"key_type": "text", "match": "exact"}, {})
    values = _table_form()
    with transaction(on_refusal=lambda exc: _page_for_new(values, exc.as_errors(), 422)):
        table = services.create_table(db, name=values["name"], title=values["title"], key_type=values["key_type"],
                                      match=values["match"])
    flash(_("The lookup table %(name)s is created; add its rows.", name=table.name), "success")
    return redirect_to(url_for("rules.table_edit", table_id=table.id))


def _page_for_new(values: dict, errors: dict, status: int = 200):
    return render("rules/lookup_table.html", table=None, values=values, errors=errors, key_types=_key_types(),
                  matches=_matches(), row_values={}, row_errors={}, title=_("New lookup table")), status


@bp.route("/settings/lookup-tables/<int:table_id>", methods=["GET", "POST"])
@require(MANAGE)
def table_edit(table_id: int):
    table = services.get_table(db, table_id)
    current = {"name": table.name, "title": table.title, "key_type": table.key_type, "match": table.match}
    if request.method == "GET":
        return _rows(table)
    values = {**current, **{k: v for k, v in _table_form().items() if k != "name"}}
    with transaction(on_refusal=lambda exc: _full_page(table, values, exc.as_errors(), 422)):
        services.update_table(db, table, title=values["title"], key_type=values["key_type"], match=values["match"])
    flash(_("The lookup table is saved."), "success")
    return redirect_to(url_for("rules.table_edit", table_id=table.id))


def _full_page(table, values, errors, status):
    return render("rules/lookup_table.html", table=table, values=values, errors=errors, key_types=_key_types(),
                  matches=_matches(), row_values={}, row_errors={}, title=table.title), status


@bp.post("/settings/lookup-tables/<int:table_id>/delete")
@require(MANAGE)
def table_delete(table_id: int):
    with transaction():
        table = services.get_table(db, table_id)
        name = table.name
        services.delete_table(db, table)
    flash(_("The lookup table %(name)s is deleted.", name=name), "success")
    return redirect_to(url_for("rules.table_list"))


def _rows(table, row_values: dict | None = None, row_errors: dict | None = None, status: int = 200):
    """The rows section (one route, two renderings: the htmx swap or the whole page)."""
    current = {"name": table.name, "title": table.title, "key_type": table.key_type, "match": table.match}
    return render("rules/lookup_table.html", "rules/_lookup_rows.html", table=table, values=current, errors={},
                  key_types=_key_types(), matches=_matches(), row_values=row_values or {},
                  row_errors=row_errors or {}, title=table.title), status


def _row_form() -> dict:
    return {name: request.form.get(name, "") for name in ROW_FIELDS}


@bp.post("/settings/lookup-tables/<int:table_id>/rows")
@require(MANAGE)
def row_add(table_id: int):
    table = services.get_table(db, table_id)
    values = _row_form()
    with transaction(on_refusal=lambda exc: _rows(table, {"new": values}, {"new": exc.as_errors()}, 422)):
        services.add_row(db, table, **values)
    return _after_row(table)


@bp.post("/settings/lookup-tables/<int:table_id>/rows/<int:row_id>")
@require(MANAGE)
def row_update(table_id: int, row_id: int):
    table = services.get_table(db, table_id)
    values = _row_form()
    with transaction(on_refusal=lambda exc: _rows(table, {row_id: values}, {row_id: exc.as_errors()}, 422)):
        services.update_row(db, table, services.get_row(db, table, row_id), **values)
    return _after_row(table)


@bp.post("/settings/lookup-tables/<int:table_id>/rows/<int:row_id>/delete")
@require(MANAGE)
def row_delete(table_id: int, row_id: int):
    table = services.get_table(db, table_id)
    with transaction():
        services.delete_row(db, services.get_row(db, table, row_id))
    return _after_row(table)


def _after_row(table):
    if is_partial_request():
        db.refresh(table)
        return _rows(table)
    return redirect_to(url_for("rules.table_edit", table_id=table.id))


@bp.get("/settings/lookup-tables/<int:table_id>/rows.csv")
@require(MANAGE)
def rows_export(table_id: int):
    table = services.get_table(db, table_id)
    return Response(services.export_rows(table), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{table.name}.csv"'})


@bp.post("/settings/lookup-tables/<int:table_id>/import")
@require(MANAGE)
def rows_import(table_id: int):
    table = services.get_table(db, table_id)
    upload = request.files.get("file")
    data = upload.read() if upload is not None else b""

    def refused(exc: KontorError):
        return _full_page(table, {"name": table.name, "title": table.title, "key_type": table.key_type,
                                  "match": table.match}, {"file": exc.as_errors().get("file", [exc.message])}, 422)

    with transaction(on_refusal=refused):
        if not data:
            raise KontorError(_("Choose a CSV file with the columns key, value, valid_from, valid_until."),
                              field="file")
        count = services.import_rows(db, table, data)
    flash(_("The table now holds the %(count)d rows of the file.", count=count), "success")
    return redirect_to(url_for("rules.table_edit", table_id=table.id))


# -- rule kinds and trying rules --


@bp.get("/settings/rule-kinds")
@require(MANAGE)
def kind_list():
    kinds = sorted(rule_kinds().values(), key=lambda k: str(k.title))
    return render("rules/rule_kinds.html", kinds=kinds, title=_("Rule kinds"))


@bp.get("/settings/rule-kinds/<name>")
@require(MANAGE)
def kind_tester(name: str):
    kind = rule_kinds().get(name)
    if kind is None or not has_permission(kind.permission):
        abort(404)
    return render("rules/rule_kind.html", kind=kind, text=request.args.get("rule", ""), rule_error="",
                  title=str(kind.title))


@bp.post("/rules/try")
@signed_in  # the permission is the kind's own: checked before anything else is read
def try_it():
    """The "Try it" panel: the result and its trace, or the error beside the rule or the value."""
    kind_name, _sep, field = request.form.get("rule_try", "").partition("|")
    kind = kind_to_try(kind_name)
    field = field or "rule"
    text = request.form.get(field, "")
    values = {v.name: request.form.get(f"try-{field}-{v.name}", "") for v in kind.variables}
    try:
        explanation, error = try_rule(db, kind, text, values, field=field, on=request.form.get(f"try-{field}-on")), None
    except KontorError as exc:
        if exc.status == 403:
            raise
        explanation, error = None, exc
    db.rollback()  # trying changes nothing
    at_rule = error is not None and error.field == field
    context = dict(kind=kind, text=text, try_field=field, try_values=values, try_on=request.form.get(f"try-{field}-on", ""),
                   try_explanation=explanation, try_error=error, rule_error=error.message if at_rule else "",
                   try_errors={error.field: error.message} if error is not None and not at_rule else {},
                   title=str(kind.title))
    status = 422 if error is not None else 200
    if is_partial_request():
        return render("rules/_try_result.html", **context), status
    return render("rules/rule_kind.html", **context), status

