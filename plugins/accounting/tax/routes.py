"""The pages of taxes and the VAT report."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, request, url_for
from sqlalchemy import select

from core import (
    KontorError, export_response, gettext as _, has_permission, keyset_page, redirect_to, render, require,
    session as db, transaction,
)

from plugins.accounting.currencies.services import parse_day
from plugins.accounting.ledger import roles
from plugins.accounting.ledger.models import Account, Period
from plugins.accounting.permissions import ENTRY_POST, REPORT_READ, TAX_MANAGE
from plugins.accounting.tax import services, vat_report as vat
from plugins.accounting.tax.models import TAX_SCOPES, Tax
from plugins.accounting.web import bp, entry_url


def _form() -> dict:
    return request.form.to_dict()



def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _range(errors: dict) -> tuple[date, date]:
    """The report's range from the query string: by default the current month."""
    today = date.today()
    date_from = _day(request.args.get("date_from"), today.replace(day=1))
    date_to = _day(request.args.get("date_to"), today)
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        raw = request.args.get(name)
        if raw and raw != value.isoformat():
            errors[name] = [_("Enter a date as YYYY-MM-DD.")]
    if date_from > date_to:
        errors["date_to"] = [_("The end date is before the start date.")]
        date_from = date_to.replace(day=1)
    return date_from, date_to


def accounts_options():
    rows = db.execute(select(Account.code, Account.name).where(Account.postable.is_(True), Account.active.is_(True))
                      .order_by(Account.code)).all()
    return [("", "—")] + [(code, f"{code} {name}") for code, name in rows]


def taxes_page(errors=None, form=None, status=200):
    country = services.company_country(db)
    countries = services.countries_with_default_taxes()
    html = render("accounting/tax/taxes.html", taxes=services.list_taxes(db), country=country, countries=countries,
                  country_options=[("", "—")] + [(c, c) for c in countries], errors=errors or {}, form=form or {})
    return html, status


@bp.get("/taxes")
@require(TAX_MANAGE)
def taxes():
    return taxes_page()


@bp.post("/taxes/load-defaults")
@require(TAX_MANAGE)
def taxes_load_defaults():
    form = _form()
    with transaction(on_refusal=lambda exc: taxes_page(exc.as_errors(), form, 422)):
        added = services.load_country_taxes(db, form.get("country", ""))
    flash(_("%(count)s taxes added.", count=len(added)), "success")
    return redirect_to(url_for("accounting.taxes"))


def tax_form(tax: Tax | None, errors=None, form=None, status=200):
    if form is None:
        form = {} if tax is None else {
            "code": tax.code, "name": tax.name, "country": tax.country, "scope": tax.scope, "rate": tax.rate,
            "price_included": tax.price_included, "reverse_charge": tax.reverse_charge,
            "collected_account": _code(tax.collected_account_id), "paid_account": _code(tax.paid_account_id),
            "report_code": tax.report_code, "active": tax.active}
        if tax is None:
            collected, paid = (roles.find_account_for(db, roles.VAT_COLLECTED),
                               roles.find_account_for(db, roles.VAT_DEDUCTIBLE))
            form = {"country": services.company_country(db), "scope": "sale", "active": True,
                    "collected_account": collected.code if collected else "",
                    "paid_account": paid.code if paid else ""}
    html = render("accounting/tax/tax_form.html", tax=tax, form=form, errors=errors or {},
                  scopes=[(s, s) for s in TAX_SCOPES], accounts=accounts_options())
    return html, status


def _code(account_id):
    account = db.get(Account, account_id) if account_id else None
    return account.code if account else ""


def save(tax: Tax | None):
    form = _form()
    data = {name: form.get(name, "") for name in services.TAX_FIELDS}
    for flag in ("price_included", "reverse_charge", "active"):
        data[flag] = flag in form
    with transaction(on_refusal=lambda exc: tax_form(tax, exc.as_errors(), form, 422)):
        saved = services.save_tax(db, data, tax)
    flash(_("Tax %(code)s saved.", code=saved.code), "success")
    return redirect_to(url_for("accounting.taxes"))


@bp.route("/taxes/new", methods=["GET", "POST"])
@require(TAX_MANAGE)
def tax_new():
    return save(None) if request.method == "POST" else tax_form(None)


@bp.route("/taxes/<int:tax_id>", methods=["GET", "POST"])
@require(TAX_MANAGE)
def tax_edit(tax_id):
    tax = services.get_tax(db, tax_id)  # a NotFound is the 404 page
    return save(tax) if request.method == "POST" else tax_form(tax)


# --- VAT report ---

def vat_page(date_from: date, date_to: date, errors: dict, status: int = 200):
    report = vat.vat_report(db, date_from, date_to)
    periods = db.execute(select(Period).where(Period.start_date <= date.today())
                         .order_by(Period.start_date.desc()).limit(12)).scalars().all()
    html = render("accounting/tax/vat_report.html", "accounting/tax/_vat_report.html", report=report, errors=errors,
                  args={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}, periods=periods,
                  settlement=vat.settlement_of(db, date_from, date_to), can_settle=has_permission(ENTRY_POST),
                  entry_url=entry_url)
    return html, status


@bp.get("/reports/vat")
@require(REPORT_READ)
def vat_report():
    errors: dict = {}
    date_from, date_to = _range(errors)
    fmt = request.args.get("format")
    if fmt:  # export_response refuses a format it cannot write (422 naming it)
        columns, rows = vat.export_rows(vat.vat_report(db, date_from, date_to))
        return export_response(f"vat-{date_from}-{date_to}", columns, rows, fmt)
    return vat_page(date_from, date_to, errors, 422 if errors else 200)


@bp.post("/reports/vat/settle")
@require(ENTRY_POST)
def vat_settle():
    form = _form()

    def refused(exc: KontorError):
        today = date.today()
        day_from = _day(form.get("date_from"), today.replace(day=1))
        day_to = max(_day(form.get("date_to"), today), day_from)
        return vat_page(day_from, day_to, exc.as_errors(), 409 if exc.status == 409 else 422)

    with transaction(on_refusal=refused):
        date_from = parse_day(form.get("date_from"), "date_from")
        date_to = parse_day(form.get("date_to"), "date_to")
        entry = vat.settle(db, date_from, date_to)
    flash(_("VAT settled by %(number)s.", number=entry.number), "success")
    return redirect_to(url_for("accounting.vat_report", date_from=date_from.isoformat(), date_to=date_to.isoformat()))


@bp.get("/reports/vat/lines")
@require(REPORT_READ)
def vat_lines():
    errors: dict = {}
    date_from, date_to = _range(errors)
    kind = request.args.get("kind", "tax")
    try:
        tax = services.get_tax(db, int(request.args.get("tax", "0")))
        query = vat.vat_lines_query(tax.id, kind, date_from, date_to)
    except (KontorError, ValueError):
        abort(404)
    page = keyset_page(db, query, sort_keys={"date": vat.Line.date}, id_column=vat.Line.id, sort="date",
                       cursor=request.args.get("after"), size=100,
                       filters={"tax": str(tax.id), "kind": kind, "date_from": date_from.isoformat(),
                                "date_to": date_to.isoformat()})
    return render("accounting/tax/vat_lines.html", tax=tax, kind=kind, page=page, entry_url=entry_url,
                  date_from=date_from, date_to=date_to), 422 if errors else 200
