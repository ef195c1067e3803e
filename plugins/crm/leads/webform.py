"""Web-to-lead: a company website's contact form posting leads straight into the CRM.

The endpoint is public, so it is guarded three ways: a honeypot field that people never see (a
filled one is accepted silently and creates nothing), a limit of submissions per client address
per hour kept in the database (so it holds across workers and hosts), and it only ever creates
leads.

Each company of the group has its own form: the form carries the company's key (the hidden
``token`` field, the setting ``crm.web_to_lead_token``), and the lead lands in that company, with
that company's owner, return addresses and limit. A post with an unknown key is refused naming the
field. An instance of one company also takes a form without a key (the forms made before there
were several companies); once the group has several, every form names its company.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import (gettext as _, in_company, KontorError, lazy_gettext as _l, list_companies, Setting, setting_values,
                  update_settings, utcnow)

from plugins.crm.leads import services
from plugins.crm.leads.models import Lead, WebLeadSubmission

OWNER = "crm.web_to_lead_owner"
REDIRECTS = "crm.web_to_lead_redirects"
LIMIT = "crm.web_to_lead_limit"
TOKEN = "crm.web_to_lead_token"

SETTINGS = [
    Setting(TOKEN, _l("Web-to-lead form key"), default="", scope="company",
            help=_l("The company's key, sent by the website's form in its hidden token field: "
                    "leads land in the company whose key the form sends.")),
    Setting(OWNER, _l("Web-to-lead owner"), default="", scope="company",
            help=_l("User name of the salesperson who gets leads from the website form; "
                    "empty leaves them unassigned.")),
    Setting(REDIRECTS, _l("Web-to-lead return addresses"), default="", scope="company",
            help=_l("Addresses the form may send visitors back to (the next field), separated by spaces or commas. "
                    "An address without a path allows every page of that site.")),
    Setting(LIMIT, _l("Web-to-lead submissions per hour"), default="10", type="integer", scope="company",
            help=_l("How many leads one client address may send per hour.")),
]

#: The hidden field a person leaves empty and a form-filling robot does not.
HONEYPOT = "website"
#: The hidden field that carries the company's key.
TOKEN_FIELD = "token"
WINDOW = timedelta(hours=1)

#: Form field → lead field.
FORM_FIELDS = {"name": "name", "company": "company_name", "email": "email", "phone": "phone", "message": "notes"}
#: How the visitor's form names the lead's fields, for error messages.
FIELD_LABELS = {"name": _l("Name"), "company_name": _l("Company"), "email": _l("Email"), "phone": _l("Phone"),
                "notes": _l("Message"), TOKEN_FIELD: _l("Form key")}


class Throttled(KontorError):
    """Too many submissions from one address."""

    status = 429


def settings_of(db: Session) -> dict[str, str]:
    """The web-to-lead settings' values for the current company."""
    return setting_values(db, SETTINGS)


def ensure_token(db: Session) -> str:
    """The current company's form key, made (random) when it has none yet."""
    token = settings_of(db)[TOKEN].strip()
    if not token:
        token = secrets.token_urlsafe(18)
        update_settings(db, [s for s in SETTINGS if s.key == TOKEN], {TOKEN: token})
    return token


def company_of_form(db: Session, token: str | None) -> int:
    """The id of the company whose form sent ``token``; a :class:`KontorError` naming the field otherwise.

    Without a key, only an instance of a single company knows where the lead goes.
    """
    token = (token or "").strip()
    companies = list_companies(db, active_only=True)
    if not token:
        if len(companies) == 1:
            return companies[0].id
        raise KontorError(_("This form does not say which company it is for."), field=TOKEN_FIELD, status=422)
    found = []
    for company in companies:
        with in_company(company.id):
            key = settings_of(db)[TOKEN].strip()
        if key and hmac.compare_digest(key.encode(), token.encode()):
            found.append(company.id)
    if len(found) != 1:
        raise KontorError(_("This form is not connected to a company."), field=TOKEN_FIELD, status=422)
    return found[0]


def return_address(db: Session, form: dict[str, str]) -> str:
    """The ``next`` address of a post if the form's company allows it, else ""."""
    next_url = form.get("next", "")
    if not next_url:
        return ""
    try:
        company_id = company_of_form(db, form.get(TOKEN_FIELD))
    except KontorError:
        return ""
    with in_company(company_id):
        return next_url if allowed_next(next_url, settings_of(db)[REDIRECTS]) else ""


def allowed_next(url: str, allowed: str) -> bool:
    """Whether ``url`` is one of the ``allowed`` return addresses (an origin allows its whole site)."""
    target = urlsplit(url or "")
    if target.scheme not in ("http", "https") or not target.netloc:
        return False
    for entry in allowed.replace(",", " ").split():
        permitted = urlsplit(entry)
        if (permitted.scheme, permitted.netloc.lower()) != (target.scheme, target.netloc.lower()):
            continue
        if permitted.path in ("", "/") or (permitted.path, permitted.query) == (target.path, target.query):
            return True
    return False


def _throttle(db: Session, address: str, limit: int) -> None:
    since = utcnow() - WINDOW
    db.execute(delete(WebLeadSubmission).where(WebLeadSubmission.address == address,
                                               WebLeadSubmission.created_at < since))
    count = db.execute(select(func.count()).select_from(WebLeadSubmission)
                       .where(WebLeadSubmission.address == address, WebLeadSubmission.created_at >= since)).scalar_one()
    if count >= limit:
        raise Throttled(_("Too many submissions from your address; try again later."))
    db.add(WebLeadSubmission(address=address[:64]))
    db.flush()


def capture(db: Session, form: dict[str, str], *, address: str) -> Lead | None:
    """Turn a web form post into a new lead (source "website") of the company whose key the form
    sends; None when the honeypot was filled.

    Raises :class:`Throttled` past the per-address limit, or an error naming the field on bad input
    (``token`` for a form that names no company of this Kontor).
    """
    if (form.get(HONEYPOT) or "").strip():
        return None
    company_id = company_of_form(db, form.get(TOKEN_FIELD))
    with in_company(company_id):
        values = settings_of(db)
        _throttle(db, address or "unknown", max(int(values[LIMIT] or 0), 0))
        data = {lead_field: form.get(name, "") for name, lead_field in FORM_FIELDS.items()}
        data["source"] = "website"
        owner = services.user_by_name(db, values[OWNER]) if values[OWNER].strip() else None
        if owner is not None and company_id not in {c.id for c in list_companies(db, user=owner)}:
            owner = None  # a salesperson of another company of the group: the lead waits unassigned
        data["owner_id"] = owner.id if owner else None
        return services.create_lead(db, data, user=None)
