"""The administration of the group's companies beside :mod:`core.company.services`: a company's logo,
the companies a user may see, and what the header's company switcher shows."""
from __future__ import annotations

from typing import IO

from sqlalchemy.orm import Session

from core.company import services
from core.company.models import Company
from core.errors import KontorError, NotFound
from core.i18n import gettext

#: The largest logo a company may have.
MAX_LOGO_BYTES = 512 * 1024

#: The image types a logo may be, told by their first bytes (never by the file's name or declared type).
LOGO_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_logo(data: bytes) -> str | None:
    """The content type of ``data`` when it is a PNG or a JPEG image, else None."""
    for signature, content_type in LOGO_SIGNATURES:
        if data.startswith(signature):
            if content_type == "image/png" and data[12:16] != b"IHDR":
                return None  # a PNG starts with its header chunk
            return content_type
    return None


def read_logo(stream: IO[bytes]) -> bytes:
    """The bytes of an uploaded logo, refused (naming the field ``logo``) when larger than
    :data:`MAX_LOGO_BYTES` or empty. Reads at most one byte more than the limit."""
    data = stream.read(MAX_LOGO_BYTES + 1)
    if not data:
        raise KontorError(gettext("Choose a PNG or JPEG image."), field="logo", status=422)
    if len(data) > MAX_LOGO_BYTES:
        raise KontorError(gettext("The logo may be at most %(size)d KB.", size=MAX_LOGO_BYTES // 1024),
                          field="logo", status=422)
    return data


def set_logo(db: Session, company: Company, data: bytes) -> None:
    """Give ``company`` the logo ``data``: a PNG or JPEG image of at most 512 KB, told by its bytes."""
    if len(data) > MAX_LOGO_BYTES:
        raise KontorError(gettext("The logo may be at most %(size)d KB.", size=MAX_LOGO_BYTES // 1024),
                          field="logo", status=422)
    content_type = sniff_logo(data)
    if content_type is None:
        raise KontorError(gettext("The logo must be a PNG or JPEG image."), field="logo", status=422)
    company.logo = data
    company.logo_type = content_type
    db.flush()


def remove_logo(db: Session, company: Company) -> None:
    """Take ``company``'s logo away."""
    company.logo = None
    company.logo_type = ""
    db.flush()


def may_see(db: Session, user, company: Company, *, manager: bool) -> bool:
    """Whether ``user`` may read ``company``: they work in it, or they manage the group's companies."""
    return manager or company.id in services.company_ids_of(db, user)


def visible_companies(db: Session, user, *, manager: bool) -> list[Company]:
    """The companies ``user`` may read: every company for a manager, else those they work in."""
    return services.list_companies(db) if manager else services.list_companies(db, user=user)


def visible_company(db: Session, user, company_id: int, *, manager: bool) -> Company:
    """The company ``company_id`` when ``user`` may read it; :class:`NotFound` otherwise (a company
    the user does not work in is not told apart from a missing one)."""
    company = db.get(Company, company_id)
    if company is None or not may_see(db, user, company, manager=manager):
        raise NotFound(gettext("There is no such company."), field="company")
    return company


def switcher(db: Session, user) -> tuple[list[Company], Company | None]:
    """What the header shows ``user``: the active companies they work in (with their current one,
    even if inactive) and their current company."""
    from core.company.scope import current_company_id

    if user is None or not getattr(user, "is_authenticated", False):
        return [], None
    current_id = current_company_id(db)
    companies = [c for c in services.list_companies(db, user=user) if c.active or c.id == current_id]
    current = next((c for c in companies if c.id == current_id), None)
    return companies, current


# -- who works in which company (the user admin) --


def parse_company_ids(raw, field: str = "companies") -> list[int]:
    """``raw`` (ids as numbers or digit strings) as a list of company ids; 422 naming ``field`` otherwise."""
    ids: list[int] = []
    for value in raw or ():
        text = str(value).strip()
        if isinstance(value, bool) or not text.isdigit():
            raise KontorError(gettext("Choose companies of the group."), field=field, status=422)
        ids.append(int(text))
    return list(dict.fromkeys(ids))


def set_user_companies(db: Session, user, company_ids, company_roles: dict | None = None) -> None:
    """Make ``user`` work in exactly ``company_ids`` and hold, in each, exactly the extra roles
    ``company_roles`` names (``{company_id: [role names]}``; a company left out keeps none).

    An active user works in at least one company. A role may be granted only in a company the user
    works in. Their current company stays when they still work in it, else it becomes the first.
    """
    from core.auth.services import roles_named

    ids = parse_company_ids(company_ids)
    if not ids and user.active:
        raise KontorError(gettext("Choose at least one company the user works in."), field="companies", status=422)
    roles_by_company: dict[int, list] = {}
    for key, names in (company_roles or {}).items():
        if not str(key).strip().isdigit():
            raise KontorError(gettext("Choose companies of the group."), field="company_roles", status=422)
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise KontorError(gettext("Give each company's roles as a list of role names."), field="company_roles",
                              status=422)
        company_id = int(str(key).strip())
        if names and company_id not in ids:
            raise KontorError(gettext("Roles are granted only in a company the user works in."),
                              field="company_roles", status=422)
        try:
            roles_by_company[company_id] = roles_named(db, names)
        except KontorError as exc:
            raise KontorError(exc.message, field="company_roles", status=422) from None
    services.set_members(db, user, ids)
    for company_id in ids:
        wanted = [role.id for role in roles_by_company.get(company_id, [])]
        if company_id in roles_by_company or services.company_role_ids(db, user, company_id):
            if sorted(wanted) != sorted(services.company_role_ids(db, user, company_id)):
                services.set_company_roles(db, user, db.get(Company, company_id), wanted)
    if user.current_company_id not in ids:
        user.current_company_id = ids[0] if ids else None
    db.flush()


def company_role_names(db: Session, user) -> dict[int, list[str]]:
    """The extra roles ``user`` holds per company: ``{company_id: [role names]}`` (companies with none left out)."""
    from sqlalchemy import select

    from core.auth.models import Role
    from core.company.models import company_user_roles

    rows = db.execute(select(company_user_roles.c.company_id, Role.name)
                      .join(Role, Role.id == company_user_roles.c.role_id)
                      .where(company_user_roles.c.user_id == user.id)
                      .order_by(company_user_roles.c.company_id, Role.name)).all()
    found: dict[int, list[str]] = {}
    for company_id, name in rows:
        found.setdefault(company_id, []).append(name)
    return found
