"""The settings pages: the company's own settings and the settings modules register."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from core.company import services
from core.company.models import Company
from core.company.schemas import base_currency_codes
from core.config import LANGUAGES
from core.db import session as db
from core.i18n import gettext as _
from core.i18n import language_name
from core.parties.schemas import country_options
from core.security import require
from core.web.shell import render
from core.web.transaction import transaction

COMPANY_FIELDS = ("legal_name", "base_currency", "country", "locale", "fiscal_year_start_month",
                  "fiscal_year_start_day", "vat_id", "street", "postal_code", "city", "email", "phone")


def _values_of(company: Company) -> dict:
    return {key: getattr(company, key) for key in COMPANY_FIELDS}


def _currency_options(locale: str) -> list[tuple[str, str]]:
    from babel import Locale

    names = Locale.parse(locale).currencies
    return [(code, f"{code} · {names.get(code, code)}") for code in base_currency_codes()]


def _month_options(locale: str) -> list[tuple[int, str]]:
    from babel import Locale

    months = Locale.parse(locale).months["stand-alone"]["wide"]
    return [(number, months[number]) for number in range(1, 13)]


def _company_page(values: dict, errors: dict, status: int = 200):
    from flask_babel import get_locale

    locale = str(get_locale() or "en")
    locked = services.locked_fields(db)
    if locked:  # a locked field shows what is stored, never a refused change
        company = services.get_company(db)
        values = {**values, **{key: getattr(company, key) for key in locked if key in values}}
    return render("company/settings.html", "company/_form.html", values=values, errors=errors, locked=locked,
                  countries=[("", "—")] + country_options(locale), currencies=_currency_options(locale),
                  languages=[(code, language_name(code)) for code in LANGUAGES], months=_month_options(locale),
                  title=_("Company settings")), status


def _module_settings_page(values: dict, errors: dict, status: int = 200):
    settings = current_app.extensions["kontor"].settings
    return render("company/module_settings.html", "company/_module_settings_form.html", settings=settings,
                  values=values, errors=errors, title=_("Module settings")), status


def load_company_defaults() -> None:
    """``before_app_request``: the company's currency and locale, for money formatting."""
    if request.endpoint == "static" or (request.endpoint or "").endswith(".static"):
        return
    if not current_app.extensions["kontor"].initialised:
        return  # before ``kontor init`` there is no company to read
    g.company_currency, g.company_locale = services.currency_and_locale(db)


def create_blueprint() -> Blueprint:
    """The ``company`` blueprint under ``/settings`` (made anew for every app build)."""
    bp = Blueprint("company", __name__, url_prefix="/settings")
    bp.before_app_request(load_company_defaults)

    @bp.route("/company", methods=["GET", "POST"])
    @require("core.company.manage")
    def company_settings():
        if request.method == "GET":
            return _company_page(_values_of(services.get_company(db)), {})
        values = {key: request.form.get(key, "") for key in COMPANY_FIELDS}
        with transaction(on_refusal=lambda exc: _company_page(values, exc.as_errors(), 422)):
            services.update_company(db, values)
        flash(_("The company settings are saved."), "success")
        return redirect(url_for("company.company_settings"), 303)

    @bp.route("/modules", methods=["GET", "POST"])
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
