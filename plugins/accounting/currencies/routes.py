"""The pages of currencies, exchange rates and the revaluation (their tabs are the tax pages')."""
from __future__ import annotations

from datetime import date

from flask import flash, request, url_for

from core import (
    Column, InvalidInput, KontorError, gettext as _, has_permission, keyset_page, latest_job, redirect_to, render,
    require,
    session as db, transaction,
)

from plugins.accounting.currencies import jobs, services
from plugins.accounting.currencies.models import ExchangeRate
from plugins.accounting.permissions import CURRENCY_MANAGE, ENTRY_POST
from plugins.accounting.web import bp, entry_url


def _form() -> dict:
    return request.form.to_dict()



# --- currencies ---

def currencies_page(errors=None, form=None, status=200):
    html = render("accounting/currencies/currencies.html", currencies=services.list_currencies(db),
                  base=services.company_currency(db), errors=errors or {}, form=form or {},
                  can_revalue=has_permission(ENTRY_POST), today=date.today(), entry_url=entry_url,
                  revaluation_job=latest_job(db, jobs.RECORD) if has_permission(ENTRY_POST) else None)
    return html, status


@bp.get("/currencies")
@require(CURRENCY_MANAGE)
def currencies():
    return currencies_page()


@bp.post("/currencies")
@require(CURRENCY_MANAGE)
def currency_add():
    form = _form()
    with transaction(on_refusal=lambda exc: currencies_page(exc.as_errors(), form, 422)):
        services.add_currency(db, form.get("code", ""), form.get("name", ""), form.get("digits", "2"))
    return redirect_to(url_for("accounting.currencies"))


@bp.post("/currencies/<code>")
@require(CURRENCY_MANAGE)
def currency_update(code):
    form = _form()
    services.currency_named(db, code)  # an unknown code is the 404 page

    def refused(exc: KontorError):
        errors = {f"{code}-{key}": value for key, value in exc.as_errors().items()}
        return currencies_page({**errors, "_schema": [exc.message]}, form, 422)

    with transaction(on_refusal=refused):
        services.update_currency(db, code, active="active" in form, digits=form.get("digits"))
    flash(_("Currency %(code)s saved.", code=code.upper()), "success")
    return redirect_to(url_for("accounting.currencies"))


# --- exchange rates ---

def rates_page(errors=None, form=None, status=200):
    currency = request.args.get("currency", "").strip().upper()
    q = request.args.get("q", "").strip().upper()
    query = services.rates_query(currency or None)
    if q:
        query = query.where(ExchangeRate.currency.startswith(q))
    columns = [Column("date", _("Date"), sort="date", format="date"), Column("currency", _("Currency"), sort="currency"),
               Column("rate", _("Rate"), format="number")]
    page = keyset_page(db, query, sort_keys={"date": ExchangeRate.date, "currency": ExchangeRate.currency},
                       id_column=ExchangeRate.id, sort=request.args.get("sort", "-date"),
                       cursor=request.args.get("after"), size=50, query=q, filters={"currency": currency} if currency else {})
    options = [("", _("All currencies"))] + [(c.code, c.code) for c in services.list_currencies(db, active_only=True)
                                              if c.code != services.company_currency(db)]
    html = render("accounting/currencies/rates.html", "accounting/currencies/_rates.html", page=page, columns=columns,
                  currency=currency, currency_options=options, errors=errors or {}, form=form or {},
                  base=services.company_currency(db))
    return html, status


@bp.get("/rates")
@require(CURRENCY_MANAGE)
def rates():
    return rates_page()


@bp.post("/rates")
@require(CURRENCY_MANAGE)
def rate_add():
    form = _form()
    with transaction(on_refusal=lambda exc: rates_page(exc.as_errors(), form, 422)):
        services.set_rate(db, form.get("currency", ""), form.get("date", ""), form.get("rate", ""))
    flash(_("Rate saved."), "success")
    return redirect_to(url_for("accounting.rates"))


@bp.route("/rates/import", methods=["GET", "POST"])
@require(CURRENCY_MANAGE)
def rates_import():
    form = _form()
    if request.method == "GET":
        return render("accounting/currencies/rates_import.html", form=form, errors={}, problems=[])

    def refused(exc: KontorError):
        if isinstance(exc, services.RatesRefused):
            errors, problems = {"file": [_("Nothing was imported: fix the rows below.")]}, exc.problems
        else:
            errors, problems = exc.as_errors(), []
        return render("accounting/currencies/rates_import.html", form=form, errors=errors, problems=problems), 422

    upload = request.files.get("file")
    mapping = {name: form.get(f"map_{name}", "") for name in services.RATE_FIELDS}
    with transaction(on_refusal=refused):
        if upload is None or not upload.filename:
            raise InvalidInput(_("Choose a file."), field="file")
        imported = services.import_rates(db, upload.read(), mapping)
    flash(_("%(count)s rates imported.", count=len(imported)), "success")
    return redirect_to(url_for("accounting.rates"))


# --- revaluation ---

@bp.post("/revalue")
@require(ENTRY_POST)
def revalue():
    """Start the revaluation job of the day asked for; the currencies page shows it and its entry."""
    form = _form()

    def refused(exc: KontorError):
        if has_permission(CURRENCY_MANAGE):
            return currencies_page(exc.as_errors(), form, 422)
        flash(exc.message, "error")
        return redirect_to(url_for("accounting.taxes"))

    with transaction(on_refusal=refused):
        job = jobs.start_revaluation(db, services.parse_day(form.get("date", "")))
    if has_permission(CURRENCY_MANAGE):
        return redirect_to(url_for("accounting.currencies") + "#revaluation")
    return redirect_to(url_for("jobs.job_detail", job_id=job.id))


@bp.get("/revaluation")
@require(ENTRY_POST)
def revaluation_progress():
    """The latest revaluation job's state, which the currencies page asks again until it has ended."""
    job = latest_job(db, jobs.RECORD)
    if job is None:
        return "", 204
    return render("accounting/currencies/_revaluation.html", revaluation_job=job, entry_url=entry_url)
