"""The company's own settings, and the values of the settings modules register."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.company.models import Company, SettingValue
from core.company.schemas import CompanySchema
from core.contrib import Setting
from core.errors import KontorError, NotFound
from core.i18n import gettext
from core.parties.schemas import InvalidInput, load

TRUE = ("1", "true", "on", "yes")
FALSE = ("0", "false", "off", "no", "")


def get_company(db: Session) -> Company:
    """The company (one row, created by ``kontor init``)."""
    company = db.get(Company, 1)
    if company is None:
        raise NotFound(gettext("The company is not set up yet: run kontor init."))
    return company


def locked_fields(db: Session) -> dict[str, str]:
    """The company settings modules need kept as they are, each with the reason (the
    ``company_locked_fields`` hook of every enabled module, merged)."""
    from core.app import hooks

    locked: dict[str, str] = {}
    for answer in hooks().company_locked_fields(session=db):
        locked.update({key: str(reason) for key, reason in (answer or {}).items()})
    return locked


def update_company(db: Session, data: dict[str, Any], *, partial: bool = False) -> Company:
    """Validate ``data`` (see :class:`CompanySchema`) and change the company's settings.

    A change to a field a module locks (:func:`locked_fields`) is refused with a 409 naming it.
    """
    company = get_company(db)
    clean = load(CompanySchema(), data, partial=partial)
    if partial:
        clean = {key: value for key, value in clean.items() if key in data}
        month = clean.get("fiscal_year_start_month", company.fiscal_year_start_month)
        day = clean.get("fiscal_year_start_day", company.fiscal_year_start_day)
        load(CompanySchema(), {"fiscal_year_start_month": month, "fiscal_year_start_day": day}, partial=True)
    changed = [key for key, value in clean.items() if getattr(company, key) != value]
    if changed:
        locked = locked_fields(db)
        for key in changed:
            if key in locked:
                raise KontorError(locked[key], field=key, status=409)
    for key, value in clean.items():
        setattr(company, key, value)
    db.flush()
    return company


def currency_and_locale(db: Session) -> tuple[str, str]:
    """The company's base currency and locale in one small query (read on every request)."""
    row = db.execute(select(Company.base_currency, Company.locale).where(Company.id == 1)).first()
    return (row.base_currency, row.locale) if row else ("EUR", "en")


def clean_setting(setting: Setting, raw: Any) -> str:
    """``raw`` as the stored text of ``setting``; raises ValueError with a message when invalid."""
    if setting.type == "secret":
        return "" if raw is None else str(raw)  # a password's spaces are part of it
    text = "" if raw is None else str(raw).strip()
    if setting.type == "integer":
        try:
            return str(int(text))
        except ValueError:
            raise ValueError(gettext("Enter a whole number.")) from None
    if setting.type == "boolean":
        if text.lower() in TRUE:
            return "true"
        if text.lower() in FALSE:
            return "false"
        raise ValueError(gettext("Choose yes or no."))
    if setting.type == "choice" and text not in setting.choices:
        raise ValueError(gettext("Choose one of: %(choices)s.", choices=", ".join(setting.choices)))
    return text


def setting_values(db: Session, settings: Iterable[Setting]) -> dict[str, str]:
    """The stored value of each setting, or its default when none was chosen."""
    settings = list(settings)
    stored = dict(db.execute(select(SettingValue.key, SettingValue.value)
                             .where(SettingValue.key.in_([s.key for s in settings]))).all())
    return {s.key: stored.get(s.key, s.default) for s in settings}


def update_settings(db: Session, settings: Iterable[Setting], data: dict[str, Any]) -> dict[str, str]:
    """Validate and store the values in ``data`` for ``settings``; nothing is stored if any is bad.

    A boolean setting missing from ``data`` (an unticked checkbox) is stored as false. A secret
    setting left empty keeps its value (the form never shows it); its value is redacted in the
    audit log.
    """
    settings = list(settings)
    clean: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for setting in settings:
        if setting.key not in data and setting.type != "boolean":
            continue
        if setting.type == "secret" and not str(data.get(setting.key) or ""):
            continue
        try:
            clean[setting.key] = clean_setting(setting, data.get(setting.key, ""))
        except ValueError as exc:
            errors[setting.key] = [str(exc)]
    if errors:
        raise InvalidInput(errors)
    secret = {setting.key for setting in settings if setting.type == "secret"}
    for key, value in clean.items():
        row = db.get(SettingValue, key)
        if row is None:
            db.add(SettingValue(key=key, value=value, secret=key in secret))
        elif row.value != value:
            row.secret = key in secret
            row.value = value
    db.flush()
    return clean
