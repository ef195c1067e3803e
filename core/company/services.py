"""The group's companies, who works in which, and the values of the settings modules register."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.company.models import Company, SettingValue, company_user_roles, company_users
from core.company.schemas import CompanySchema
from core.company.scope import current_company_id, default_company_id, forget_cached_scope, in_company
from core.contrib import Setting
from core.errors import KontorError, NotFound
from core.i18n import gettext
from core.parties.schemas import InvalidInput, load

TRUE = ("1", "true", "on", "yes")
FALSE = ("0", "false", "off", "no", "")


def get_company(db: Session, company_id: int | None = None) -> Company:
    """The company ``company_id``, else the current one (the company of this request, command or job)."""
    company = db.get(Company, company_id or current_company_id(db))
    if company is None:
        raise NotFound(gettext("The company is not set up yet: run kontor init.") if company_id is None
                       else gettext("There is no such company."), field="company")
    return company


def list_companies(db: Session, *, user=None, active_only: bool = False) -> list[Company]:
    """The group's companies by name; with ``user``, only those the user works in."""
    query = select(Company).order_by(Company.legal_name, Company.id)
    if user is not None:
        query = query.where(Company.id.in_(select(company_users.c.company_id)
                                           .where(company_users.c.user_id == user.id)))
    if active_only:
        query = query.where(Company.active.is_(True))
    return list(db.execute(query).scalars())


def company_member_ids(company_id: int):
    """A SELECT of the ids of the users who work in company ``company_id``, for ``User.id.in_(…)``
    (the people a record of that company may be given to)."""
    return select(company_users.c.user_id).where(company_users.c.company_id == company_id)


def company_ids_of(db: Session, user) -> list[int]:
    """The ids of the companies ``user`` works in."""
    return list(db.execute(select(company_users.c.company_id).where(company_users.c.user_id == user.id)
                           .order_by(company_users.c.company_id)).scalars())


def create_company(db: Session, data: dict[str, Any], *, members: Iterable = ()) -> Company:
    """Validate ``data`` (see :class:`CompanySchema`) and add a company to the group.

    Every enabled module then loads its default data for it (a chart and taxes for its country,
    pipeline stages …) through its ``load_default_data`` hook, run in the new company. ``members``
    (users) may work in it from the start.
    """
    from core.app import hooks
    from core.audit.recorder import record_event

    clean = load(CompanySchema(), data)
    company = Company(**clean)
    db.add(company)
    db.flush()
    for user in members:
        add_member(db, company, user)
    with in_company(company.id):
        hooks().load_default_data(session=db)
        db.flush()
    record_event(db, "company.create", module="core", table_name=Company.__tablename__, record_id=str(company.id),
                 changes={"legal_name": [None, company.legal_name]})
    return company


def set_default_company(db: Session, company: Company) -> None:
    """Make ``company`` the default one: the system's company and the one new users work in."""
    for other in db.execute(select(Company).where(Company.is_default.is_(True))).scalars():
        other.is_default = False
    company.is_default = True
    db.flush()
    forget_cached_scope(db)


def add_member(db: Session, company: Company, user) -> None:
    """Let ``user`` work in ``company`` (nothing if they already do)."""
    exists = db.execute(select(company_users.c.user_id).where(company_users.c.company_id == company.id,
                                                               company_users.c.user_id == user.id)).first()
    if not exists:
        db.execute(company_users.insert().values(company_id=company.id, user_id=user.id))
        _audit_membership(db, "company.member_add", company, user)


def remove_member(db: Session, company: Company, user) -> None:
    """Stop ``user`` working in ``company``; their roles granted there go too."""
    db.execute(company_users.delete().where(company_users.c.company_id == company.id,
                                            company_users.c.user_id == user.id))
    db.execute(company_user_roles.delete().where(company_user_roles.c.company_id == company.id,
                                                 company_user_roles.c.user_id == user.id))
    if user.current_company_id == company.id:
        user.current_company_id = None
    _audit_membership(db, "company.member_remove", company, user)


def set_members(db: Session, user, company_ids: Iterable[int]) -> None:
    """Make the companies ``user`` works in exactly ``company_ids`` (each must exist)."""
    wanted = {int(c) for c in company_ids}
    known = set(db.execute(select(Company.id).where(Company.id.in_(wanted))).scalars())
    if wanted - known:
        raise KontorError(gettext("There is no such company."), field="companies", status=422)
    have = set(company_ids_of(db, user))
    for company_id in sorted(wanted - have):
        add_member(db, db.get(Company, company_id), user)
    for company_id in sorted(have - wanted):
        remove_member(db, db.get(Company, company_id), user)
    db.flush()


def set_company_roles(db: Session, user, company: Company, role_ids: Iterable[int]) -> None:
    """Grant ``user`` exactly the roles ``role_ids`` in ``company`` only (beside their roles in all companies)."""
    db.execute(company_user_roles.delete().where(company_user_roles.c.company_id == company.id,
                                                 company_user_roles.c.user_id == user.id))
    for role_id in sorted({int(r) for r in role_ids}):
        db.execute(company_user_roles.insert().values(company_id=company.id, user_id=user.id, role_id=role_id))
    from core.audit.recorder import record_event

    record_event(db, "company.roles", module="core", table_name="core_company_user_role",
                 record_id=f"{company.id}:{user.id}", changes={"roles": [None, sorted({int(r) for r in role_ids})]})


def company_role_ids(db: Session, user, company_id: int) -> list[int]:
    """The roles ``user`` holds in ``company_id`` only."""
    return list(db.execute(select(company_user_roles.c.role_id).where(
        company_user_roles.c.company_id == company_id, company_user_roles.c.user_id == user.id)).scalars())


def switch_company(db: Session, user, company_id: int) -> Company:
    """Make ``company_id`` ``user``'s current company (remembered); refused unless they work in it."""
    if int(company_id) not in company_ids_of(db, user):
        raise KontorError(gettext("You do not work in that company."), field="company", status=403)
    user.current_company_id = int(company_id)
    db.flush()
    forget_cached_scope(db)
    return db.get(Company, int(company_id))


def _audit_membership(db: Session, action: str, company: Company, user) -> None:
    from core.audit.recorder import record_event

    record_event(db, action, module="core", table_name="core_company_user", record_id=f"{company.id}:{user.id}",
                 changes={"user": [None, user.username], "company": [None, company.legal_name]})


def default_company(db: Session) -> Company:
    """The default company."""
    return db.get(Company, default_company_id(db))


def locked_fields(db: Session) -> dict[str, str]:
    """The company settings modules need kept as they are, each with the reason (the
    ``company_locked_fields`` hook of every enabled module, merged)."""
    from core.app import hooks

    locked: dict[str, str] = {}
    for answer in hooks().company_locked_fields(session=db):
        locked.update({key: str(reason) for key, reason in (answer or {}).items()})
    return locked


def update_company(db: Session, data: dict[str, Any], *, partial: bool = False,
                   company: Company | None = None) -> Company:
    """Validate ``data`` (see :class:`CompanySchema`) and change a company's settings (the current one
    unless ``company`` is given).

    A change to a field a module locks (:func:`locked_fields`) is refused with a 409 naming it.
    """
    company = company or get_company(db)
    clean = load(CompanySchema(), data, partial=partial)
    if partial:
        clean = {key: value for key, value in clean.items() if key in data}
        month = clean.get("fiscal_year_start_month", company.fiscal_year_start_month)
        day = clean.get("fiscal_year_start_day", company.fiscal_year_start_day)
        load(CompanySchema(), {"fiscal_year_start_month": month, "fiscal_year_start_day": day}, partial=True)
    changed = [key for key, value in clean.items() if getattr(company, key) != value]
    if changed:
        with in_company(company.id):
            locked = locked_fields(db)
        for key in changed:
            if key in locked:
                raise KontorError(locked[key], field=key, status=409)
    for key, value in clean.items():
        setattr(company, key, value)
    db.flush()
    return company


def currency_and_locale(db: Session) -> tuple[str, str]:
    """The current company's base currency and locale in one small query (read on every request)."""
    row = db.execute(select(Company.base_currency, Company.locale)
                     .where(Company.id == current_company_id(db))).first()
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


def _setting_company(db: Session, setting: Setting) -> int:
    """Where ``setting``'s value is kept: 0 for the group, else the current company."""
    return current_company_id(db) if setting.scope == "company" else 0


def setting_values(db: Session, settings: Iterable[Setting]) -> dict[str, str]:
    """The stored value of each setting (the current company's, for a per-company setting), or its
    default when none was chosen."""
    settings = list(settings)
    wanted = {(s.key, _setting_company(db, s)) for s in settings}
    rows = db.execute(select(SettingValue.key, SettingValue.company_id, SettingValue.value)
                      .where(SettingValue.key.in_([s.key for s in settings]))).all()
    stored = {row.key: row.value for row in rows if (row.key, row.company_id) in wanted}
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
    where = {setting.key: _setting_company(db, setting) for setting in settings}
    for key, value in clean.items():
        row = db.get(SettingValue, (key, where[key]))
        if row is None:
            db.add(SettingValue(key=key, company_id=where[key], value=value, secret=key in secret))
        elif row.value != value:
            row.secret = key in secret
            row.value = value
    db.flush()
    return clean
