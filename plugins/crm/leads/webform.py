"""Web-to-lead: a company website's contact form posting leads straight into the CRM.

The endpoint is public, so it is guarded three ways: a honeypot field that people never see (a
filled one is accepted silently and creates nothing), a limit of submissions per client address
per hour kept in the database (so it holds across workers and hosts), and it only ever creates
leads.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import gettext as _, KontorError, lazy_gettext as _l, Setting, setting_values, utcnow

from plugins.crm.leads import services
from plugins.crm.leads.models import Lead, WebLeadSubmission

OWNER = "crm.web_to_lead_owner"
REDIRECTS = "crm.web_to_lead_redirects"
LIMIT = "crm.web_to_lead_limit"

SETTINGS = [
    Setting(OWNER, _l("Web-to-lead owner"), default="",
            help=_l("User name of the salesperson who gets leads from the website form; "
                    "empty leaves them unassigned.")),
    Setting(REDIRECTS, _l("Web-to-lead return addresses"), default="",
            help=_l("Addresses the form may send visitors back to (the next field), separated by spaces or commas. "
                    "An address without a path allows every page of that site.")),
    Setting(LIMIT, _l("Web-to-lead submissions per hour"), default="10", type="integer",
            help=_l("How many leads one client address may send per hour.")),
]

#: The hidden field a person leaves empty and a form-filling robot does not.
HONEYPOT = "website"
WINDOW = timedelta(hours=1)

#: Form field → lead field.
FORM_FIELDS = {"name": "name", "company": "company_name", "email": "email", "phone": "phone", "message": "notes"}
#: How the visitor's form names the lead's fields, for error messages.
FIELD_LABELS = {"name": _l("Name"), "company_name": _l("Company"), "email": _l("Email"), "phone": _l("Phone"),
                "notes": _l("Message")}


class Throttled(KontorError):
    """Too many submissions from one address."""

    status = 429


def settings_of(db: Session) -> dict[str, str]:
    """The web-to-lead settings' current values."""
    return setting_values(db, SETTINGS)


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
    """Turn a web form post into a new lead (source "website"); None when the honeypot was filled.

    Raises :class:`Throttled` past the per-address limit, or an error naming the field on bad input.
    """
    if (form.get(HONEYPOT) or "").strip():
        return None
    values = settings_of(db)
    _throttle(db, address or "unknown", max(int(values[LIMIT] or 0), 0))
    data = {lead_field: form.get(name, "") for name, lead_field in FORM_FIELDS.items()}
    data["source"] = "website"
    owner = services.user_by_name(db, values[OWNER]) if values[OWNER].strip() else None
    data["owner_id"] = owner.id if owner else None
    return services.create_lead(db, data, user=None)
