"""Marshmallow schemas of users, roles and API tokens for the JSON API."""
from __future__ import annotations

from marshmallow import fields, validate

from core.api.schema import BoundedList, Schema

#: The most permissions one role lists (every module's permissions fit).
MAX_PERMISSIONS = 1000

from core.config import LANGUAGES

_locale = validate.OneOf(("", *LANGUAGES))


def _companies_of(user) -> list[int]:
    from core.company.services import company_ids_of
    from core.db import session

    return company_ids_of(session, user)


def _company_roles_of(user) -> dict[str, list[str]]:
    from core.company.admin import company_role_names
    from core.db import session

    return {str(company_id): names for company_id, names in company_role_names(session, user).items()}


#: The roles a user holds in one company only, by company id: ``{"2": ["crm_sales"]}``.
def _company_roles_field(**kwargs) -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.Regexp(r"^\d{1,12}$")),
                       values=BoundedList(fields.String()), **kwargs)


class UserSchema(Schema):
    """A user as the API shows it (never a password or its hash), with the companies they work in
    and the roles they hold in one company only."""

    id = fields.Integer(dump_only=True)
    username = fields.String(dump_only=True)
    full_name = fields.String()
    email = fields.String()
    locale = fields.String()
    active = fields.Boolean()
    roles = fields.Function(lambda user: user.role_names)
    companies = fields.Function(_companies_of)
    company_roles = fields.Function(_company_roles_of)
    current_company_id = fields.Integer(dump_only=True, allow_none=True)
    #: who approves for the user where an approval step asks for the requester's manager
    manager_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    last_login_at = fields.DateTime(dump_only=True, allow_none=True)


class UserCreatedSchema(UserSchema):
    """A new user and their generated password, shown this once."""

    password = fields.String(dump_only=True)


class UserCreateSchema(Schema):
    """The body of ``POST /api/v1/users``; a password is generated."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    full_name = fields.String(load_default="", validate=validate.Length(max=200))
    email = fields.Email(load_default="", validate=validate.Length(max=254))
    locale = fields.String(load_default="", validate=_locale)
    roles = BoundedList(fields.String(), load_default=list)
    #: the companies the user works in (ids; the first becomes their current one); default: the default company
    companies = BoundedList(fields.Integer(strict=True), load_default=None)
    company_roles = _company_roles_field(load_default=dict)
    #: the user's manager (a user id), who approves for them where a step asks for the manager
    manager_id = fields.Integer(strict=True, load_default=None, allow_none=True)


class UserPatchSchema(Schema):
    """The body of ``PATCH /api/v1/users/<id>``: any of these fields."""

    full_name = fields.String(validate=validate.Length(max=200))
    email = fields.Email(validate=validate.Length(max=254))
    locale = fields.String(validate=_locale)
    roles = BoundedList(fields.String())
    active = fields.Boolean()
    #: the companies the user works in from now on (ids)
    companies = BoundedList(fields.Integer(strict=True))
    #: the roles per company from now on, ``{company_id: [role names]}``; a company left out keeps none
    company_roles = _company_roles_field()
    #: the user's manager from now on (a user id; null: nobody)
    manager_id = fields.Integer(strict=True, allow_none=True)


class ListQuerySchema(Schema):
    """Paging and search of a list: ``q``, ``after`` (the cursor of the next page), ``limit``."""

    q = fields.String(load_default="")
    after = fields.String(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class RoleSchema(Schema):
    """A role and the permissions it holds."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    title = fields.String()
    description = fields.String()
    module = fields.String(dump_only=True)
    permissions = fields.Function(lambda role: sorted(role.permission_names))


class RoleCreateSchema(Schema):
    """The body of ``POST /api/v1/roles``."""

    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$"))
    title = fields.String(load_default="", validate=validate.Length(max=120))
    description = fields.String(load_default="", validate=validate.Length(max=300))
    permissions = BoundedList(fields.String(), max_items=MAX_PERMISSIONS, load_default=list)


class RolePatchSchema(Schema):
    """The body of ``PATCH /api/v1/roles/<id>``: the role holds exactly ``permissions`` after it."""

    title = fields.String(validate=validate.Length(max=120))
    description = fields.String(validate=validate.Length(max=300))
    permissions = BoundedList(fields.String(), max_items=MAX_PERMISSIONS)
