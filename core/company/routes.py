"""The settings pages: the current company's settings, the group's companies, the module settings,
a company's logo and the header's company switcher."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, make_response, redirect, request, url_for
from flask_login import current_user

from core.company import admin, services
from core.company.models import Company
from core.company.schemas import base_currency_codes
from core.company.scope import in_company
from core.config import LANGUAGES
from core.db import session as db
from core.errors import KontorError, NotFound
from core.i18n import gettext as _
from core.i18n import language_name
from core.parties.schemas import country_options
from core.security import has_permission, require, signed_in
from core.web.shell import render
from core.web.transaction import transaction

COMPANY_FIELDS = ("legal_name", "base_currency", "country", "locale", "fiscal_year_start_month",
                  "fiscal_year_start_day", "vat_id", "street", "postal_code", "city", "email", "phone",
                  "bank_name", "iban", "bic")


def _values_of(company: Company) -> dict:
    return {key: getattr(company, key) for key in COMPANY_FIELDS}


def _submitted() -> dict:
    return {key: request.form.get(key, "") for key in COMPANY_FIELDS}


def _currency_options(locale: str) -> list[tuple[str, str]]:
    from babel import Locale

    names = Locale.parse(locale).currencies
    return [(code, f"{code} · {names.get(code, code)}") for code in base_currency_codes()]


def _month_options(locale: str) -> list[tuple[int, str]]:
    from babel import Locale

    months = Locale.parse(locale).months["stand-alone"]["wide"]
    return [(number, months[number]) for number in range(1, 13)]


def _form_choices() -> dict:
    from flask_babel import get_locale

    locale = str(get_locale() or "en")
    return dict(countries=[("", "—")] + country_options(locale), currencies=_currency_options(locale),
                languages=[(code, language_name(code)) for code in LANGUAGES], months=_month_options(locale))


def _locked(company: Company | None) -> dict[str, str]:
    """The fields modules lock for ``company`` (none for a company not made yet)."""
    if company is None:
        return {}
    with in_company(company.id):
        return services.locked_fields(db)


def _with_locked(company: Company | None, values: dict, locked: dict) -> dict:
    """A locked field shows what is stored, never a refused change."""
    if not locked or company is None:
        return values
    return {**values, **{key: getattr(company, key) for key in locked if key in values}}


def _company_page(values: dict, errors: dict, status: int = 200):
    """The current company's settings page."""
    company = services.get_company(db)
    locked = _locked(company)
    return render("company/settings.html", "company/_form.html", values=_with_locked(company, values, locked),
                  errors=errors, locked=locked, company=company,
                  form_action=url_for("company.company_settings"), title=_("Company settings"),
                  **_form_choices()), status


def _company_form(company: Company | None, values: dict, errors: dict, status: int = 200):
    """The form of a new company, or of any company of the group."""
    locked = _locked(company)
    action = url_for("company.company_edit", company_id=company.id) if company else url_for("company.company_create")
    title = _("Edit %(name)s", name=company.legal_name) if company else _("New company")
    return render("company/form.html", "company/_form.html", values=_with_locked(company, values, locked),
                  errors=errors, locked=locked, company=company, form_action=action, title=title,
                  **_form_choices()), status


def _module_settings_page(values: dict, errors: dict, status: int = 200):
    settings = current_app.extensions["kontor"].settings
    return render("company/module_settings.html", "company/_module_settings_form.html", settings=settings,
                  values=values, errors=errors, title=_("Module settings")), status


def _any_company(company_id: int) -> Company:
    company = db.get(Company, company_id)
    if company is None:
        abort(404)
    return company


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site (``/…``, not ``//host`` nor a scheme), else None."""
    target = (target or "").strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def load_company_defaults() -> None:
    """``before_app_request``: the company's currency and locale, for money formatting."""
    if request.endpoint == "static" or (request.endpoint or "").endswith(".static"):
        return
    if not current_app.extensions["kontor"].initialised:
        return  # before ``kontor init`` there is no company to read
    g.company_currency, g.company_locale = services.currency_and_locale(db)


def create_blueprint() -> Blueprint:
    """The ``company`` blueprint: ``/settings/…`` pages and ``/company/switch`` (made anew for every app build)."""
    bp = Blueprint("company", __name__)
    bp.before_app_request(load_company_defaults)

    @bp.route("/settings/company", methods=["GET", "POST"])
    @require("core.company.manage")
    def company_settings():
        if request.method == "GET":
            return _company_page(_values_of(services.get_company(db)), {})
        values = _submitted()
        with transaction(on_refusal=lambda exc: _company_page(values, exc.as_errors(), 422)):
            services.update_company(db, values)
        flash(_("The company settings are saved."), "success")
        return redirect(url_for("company.company_settings"), 303)

    @bp.get("/settings/companies")
    @require("core.company.manage")
    def company_list():
        return render("company/list.html", companies=services.list_companies(db),
                      current_id=services.get_company(db).id, title=_("Companies"))

    @bp.route("/settings/companies/new", methods=["GET", "POST"])
    @require("core.company.manage")
    def company_create():
        if request.method == "GET":
            current = services.get_company(db)
            values = {key: "" for key in COMPANY_FIELDS}
            values.update(base_currency=current.base_currency, locale=current.locale,
                          fiscal_year_start_month=1, fiscal_year_start_day=1)
            return _company_form(None, values, {})
        values = _submitted()
        with transaction(on_refusal=lambda exc: _company_form(None, values, exc.as_errors(), 422)):
            me = current_user._get_current_object()
            company = services.create_company(db, values, members=[me])
        flash(_("%(name)s is created, with every module's default data. You work in it.",
                name=company.legal_name), "success")
        return redirect(url_for("company.company_edit", company_id=company.id), 303)

    @bp.route("/settings/companies/<int:company_id>/edit", methods=["GET", "POST"])
    @require("core.company.manage")
    def company_edit(company_id: int):
        company = _any_company(company_id)
        if request.method == "GET":
            return _company_form(company, _values_of(company), {})
        values = _submitted()
        with transaction(on_refusal=lambda exc: _company_form(_any_company(company_id), values,
                                                              exc.as_errors(), 422)):
            services.update_company(db, values, company=company)
        flash(_("%(name)s is saved.", name=company.legal_name), "success")
        return redirect(url_for("company.company_edit", company_id=company.id), 303)

    @bp.post("/settings/companies/<int:company_id>/default")
    @require("core.company.manage")
    def company_make_default(company_id: int):
        company = _any_company(company_id)
        with transaction():
            services.set_default_company(db, company)
        flash(_("%(name)s is now the default company.", name=company.legal_name), "success")
        return redirect(url_for("company.company_list"), 303)

    def _back_to(company: Company) -> str:
        if safe_next(request.form.get("next")) == url_for("company.company_settings"):
            return url_for("company.company_settings")
        return url_for("company.company_edit", company_id=company.id)

    def _logo_refused(company_id: int):
        def answer(exc: KontorError):
            flash(exc.message, "error")
            return redirect(_back_to(_any_company(company_id)), 303)

        return answer

    @bp.post("/settings/companies/<int:company_id>/logo")
    @require("core.company.manage")
    def company_logo_upload(company_id: int):
        company = _any_company(company_id)
        upload = request.files.get("logo")
        with transaction(on_refusal=_logo_refused(company_id)):
            if upload is None:
                raise KontorError(_("Choose a PNG or JPEG image."), field="logo", status=422)
            admin.set_logo(db, company, admin.read_logo(upload.stream))
        flash(_("The logo is saved."), "success")
        return redirect(_back_to(company), 303)

    @bp.post("/settings/companies/<int:company_id>/logo/remove")
    @require("core.company.manage")
    def company_logo_remove(company_id: int):
        company = _any_company(company_id)
        with transaction():
            admin.remove_logo(db, company)
        flash(_("The logo is removed."), "success")
        return redirect(_back_to(company), 303)

    @bp.get("/company/<int:company_id>/logo")
    @require("core.company.read")
    def company_logo(company_id: int):
        try:
            company = admin.visible_company(db, current_user, company_id,
                                            manager=has_permission("core.company.manage"))
        except NotFound:
            abort(404)
        if not company.has_logo or not company.logo:
            abort(404)
        response = make_response(bytes(company.logo))
        response.headers["Content-Type"] = company.logo_type
        extension = "png" if company.logo_type == "image/png" else "jpg"
        response.headers["Content-Disposition"] = f'inline; filename="logo-{company.id}.{extension}"'
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-cache"
        return response

    @bp.post("/company/switch")
    @signed_in
    def switch_company():
        raw = request.form.get("company", "").strip()
        with transaction():
            if not raw.isdigit():
                raise KontorError(_("You do not work in that company."), field="company", status=403)
            company = services.switch_company(db, current_user._get_current_object(), int(raw))
        flash(_("You now work in %(name)s.", name=company.legal_name), "success")
        return redirect(safe_next(request.form.get("next")) or url_for("web.dashboard"), 303)

    @bp.route("/settings/modules", methods=["GET", "POST"])
    @require("core.company.manage")
    def module_settings():
        settings = current_app.extensions["kontor"].settings
        if request.method == "GET":
            return _module_settings_page(services.setting_values(db, settings), {})
        values = request.form.to_dict()
        with transaction(on_refusal=lambda exc: _module_settings_page(
                {**services.setting_values(db, settings), **values}, exc.as_errors(), 422)):
            services.update_settings(db, settings, values)
        flash(_("The settings are saved."), "success")
        return redirect(url_for("company.module_settings"), 303)

    return bp
