"""The administration of users, roles and the permission matrix."""
from __future__ import annotations

from itertools import groupby

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for

from core.auth import managers, services, tokens
from core.auth.models import User
from core.company import admin as company_admin
from core.company import services as company_services
from core.db import session as db
from core.errors import KontorError, NotFound
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.security import require
from core.web.listing import Column, keyset_page
from core.web.shell import is_partial_request, render
from core.web.transaction import transaction

USER_COLUMNS = [
    Column("username", _l("User name"), sort="username", link=True),
    Column("full_name", _l("Full name"), sort="full_name"),
    Column("email", _l("Email")),
    Column("role_names", _l("Roles")),
    Column("active", _l("Active")),
]
SORT_KEYS = {"username": User.username, "full_name": User.full_name}


def _user(user_id: int) -> User:
    try:
        return services.get_user(db, user_id)
    except NotFound:
        abort(404)


def _role(role_id: int):
    try:
        return services.get_role(db, role_id)
    except NotFound:
        abort(404)


def _submitted() -> dict:
    """The posted form's values, with ``roles`` as the list of checked roles, ``companies`` as the
    checked companies and ``company_roles`` as the roles checked under each company."""
    return {**request.form.to_dict(), "roles": request.form.getlist("roles"),
            "companies": request.form.getlist("companies"), "company_roles": _company_roles_submitted()}


def _company_roles_submitted() -> dict[str, list[str]]:
    """``company_roles-<id>`` checkboxes of the form, by company id (as text)."""
    return {key.split("-", 1)[1]: request.form.getlist(key) for key in request.form
            if key.startswith("company_roles-") and key.split("-", 1)[1].isdigit()}


def _companies_shown() -> bool:
    """Whether the form showed the companies (a group of several): else the user's stay as they are."""
    return request.form.get("companies_shown") == "1"


def _role_options() -> list:
    return [(r.name, r.title or r.name) for r in services.all_roles(db)]


def _manager_options(user: User | None) -> list:
    return [("", "—")] + [(str(u.id), u.full_name or u.username) for u in managers.manager_candidates(db)
                          if user is None or u.id != user.id]


def _company_options() -> list:
    return [(str(c.id), c.legal_name) for c in company_services.list_companies(db)]


def _user_form(user: User | None, errors: dict, status: int = 200, **values):
    values.setdefault("companies", [])
    values.setdefault("company_roles", {})
    return render("auth/user_form.html", user=user, errors=errors, values=values, role_options=_role_options(),
                  company_options=_company_options(), manager_options=_manager_options(user), title=_("User")), status


def _user_page(user: User, **extra):
    companies = company_services.list_companies(db, user=user)
    return render("auth/user.html", user=user, tokens=tokens.tokens_of(db, user), token_owner=user,
                  companies=companies, company_roles=company_admin.company_role_names(db, user),
                  manager=db.get(User, user.manager_id) if user.manager_id else None,
                  title=user.username, **extra)


def _memberships(user: User) -> dict:
    """The form's values of the companies ``user`` works in and their roles there."""
    return {"companies": [str(c) for c in company_services.company_ids_of(db, user)],
            "company_roles": {str(k): v for k, v in company_admin.company_role_names(db, user).items()}}


def _flashed(exc: KontorError, url: str):
    """A refused button on a page: the reason flashed above the page it goes back to."""
    flash(exc.message, "error")
    return redirect(url)


def create_blueprint() -> Blueprint:
    """The ``users`` blueprint under ``/admin``: users, roles and the permission matrix."""
    bp = Blueprint("users", __name__, url_prefix="/admin")

    @bp.get("/users")
    @require("core.user.read")
    def user_list():
        query = request.args.get("q", "")
        page = keyset_page(
            db, services.users_query(query), sort_keys=SORT_KEYS, id_column=User.id,
            sort=request.args.get("sort", "username"), cursor=request.args.get("after"),
            size=current_app.config["PAGE_SIZE"], query=query,
        )
        return render("auth/users.html", "auth/_user_list.html", page=page, columns=USER_COLUMNS,
                      title=_("Users"))

    @bp.route("/users/new", methods=["GET", "POST"])
    @require("core.user.manage")
    def user_create():
        if request.method == "GET":
            default = company_services.default_company(db)
            return _user_form(None, {}, roles=[], companies=[str(default.id)] if default else [])
        form = request.form
        with transaction(on_refusal=lambda exc: _user_form(None, exc.as_errors(), 422, **_submitted())):
            shown = _companies_shown()
            companies = company_admin.parse_company_ids(form.getlist("companies")) if shown else None
            user, password = services.create_user(
                db, form.get("username", ""), full_name=form.get("full_name", ""), email=form.get("email", ""),
                locale=form.get("locale", ""), roles=form.getlist("roles"), companies=companies,
            )
            if shown:
                company_admin.set_user_companies(db, user, companies, _company_roles_submitted())
            managers.set_manager(db, user, managers.parse_manager_id(form.get("manager_id")))
        return _user_page(user, new_password=password), 201

    @bp.get("/users/<int:user_id>")
    @require("core.user.read")
    def user_detail(user_id: int):
        return _user_page(_user(user_id))

    @bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
    @require("core.user.manage")
    def user_edit(user_id: int):
        user = _user(user_id)
        if request.method == "GET":
            return _user_form(user, {}, full_name=user.full_name, email=user.email,
                              locale=user.locale, roles=[r.name for r in user.roles],
                              manager_id=str(user.manager_id or ""), **_memberships(user))
        form = request.form
        with transaction(on_refusal=lambda exc: _user_form(_user(user_id), exc.as_errors(), 422, **_submitted())):
            services.update_user(db, user, full_name=form.get("full_name", ""), email=form.get("email", ""),
                                 locale=form.get("locale", ""), roles=form.getlist("roles"))
            if _companies_shown():
                company_admin.set_user_companies(db, user, form.getlist("companies"), _company_roles_submitted())
            managers.set_manager(db, user, managers.parse_manager_id(form.get("manager_id")))
        flash(_("The user %(name)s is saved.", name=user.username), "success")
        return redirect(url_for("users.user_detail", user_id=user.id))

    def _set_active(user_id: int, active: bool):
        user = _user(user_id)
        with transaction(on_refusal=lambda exc: _flashed(exc, url_for("users.user_detail", user_id=user_id))):
            services.set_active(db, user, active)
        message = _("%(name)s can sign in again.", name=user.username) if active else \
            _("%(name)s is deactivated: their sessions and tokens stopped working.", name=user.username)
        flash(message, "success")
        return redirect(url_for("users.user_detail", user_id=user.id))

    @bp.post("/users/<int:user_id>/deactivate")
    @require("core.user.manage")
    def user_deactivate(user_id: int):
        return _set_active(user_id, False)

    @bp.post("/users/<int:user_id>/reactivate")
    @require("core.user.manage")
    def user_reactivate(user_id: int):
        return _set_active(user_id, True)

    @bp.post("/users/<int:user_id>/reset-password")
    @require("core.user.manage")
    def user_reset_password(user_id: int):
        user = _user(user_id)
        with transaction():
            password = services.reset_password(db, user)
        # shown on this response only; never stored in the session or a flash message
        return _user_page(user, new_password=password)

    @bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
    @require("core.user.manage")
    def revoke_token(user_id: int, token_id: int):
        user = _user(user_id)
        with transaction():  # another user's or a missing token: the 404 page
            token = tokens.token_of(db, user, token_id)
            tokens.revoke_token(db, token)
        flash(_("The token %(name)s is revoked.", name=token.name), "success")
        return redirect(url_for("users.user_detail", user_id=user.id))

    @bp.get("/roles")
    @require("core.role.manage")
    def role_list():
        return render("auth/roles.html", roles=services.all_roles(db), title=_("Roles"))

    def _role_form(role, errors, status=200, **values):
        return render("auth/role_form.html", role=role, errors=errors, values=values, title=_("Role")), status

    @bp.route("/roles/new", methods=["GET", "POST"])
    @require("core.role.manage")
    def role_create():
        if request.method == "GET":
            return _role_form(None, {})
        form = request.form
        with transaction(on_refusal=lambda exc: _role_form(None, exc.as_errors(), 422, **form.to_dict())):
            role = services.create_role(db, form.get("name", ""), form.get("title", ""), form.get("description", ""))
        flash(_("The role %(name)s is created. Grant it permissions in the matrix.", name=role.name), "success")
        return redirect(url_for("users.permission_matrix"))

    @bp.route("/roles/<int:role_id>/edit", methods=["GET", "POST"])
    @require("core.role.manage")
    def role_edit(role_id: int):
        role = _role(role_id)
        if request.method == "GET":
            return _role_form(role, {}, title=role.title, description=role.description)
        form = request.form
        with transaction(on_refusal=lambda exc: _role_form(_role(role_id), exc.as_errors(), 422, **form.to_dict())):
            services.update_role(db, role, title=form.get("title", ""), description=form.get("description", ""))
        flash(_("The role %(name)s is saved.", name=role.name), "success")
        return redirect(url_for("users.role_list"))

    @bp.post("/roles/<int:role_id>/delete")
    @require("core.role.manage")
    def role_delete(role_id: int):
        role = _role(role_id)
        with transaction(on_refusal=lambda exc: _flashed(exc, url_for("users.role_list"))):
            services.delete_role(db, role)
        flash(_("The role %(name)s is deleted.", name=role.name), "success")
        return redirect(url_for("users.role_list"))

    def _matrix_context() -> dict:
        permissions = services.all_permissions(db)
        return {
            "roles": services.all_roles(db),
            "modules": [(module, list(perms)) for module, perms in groupby(permissions, key=lambda p: p.module)],
            "admin_role": services.ADMIN_ROLE,
        }

    @bp.route("/permissions", methods=["GET", "POST"])
    @require("core.role.manage")
    def permission_matrix():
        if request.method == "POST":
            checked = set(request.form.getlist("grant"))

            def refused(exc: KontorError):
                return render("auth/permissions.html", errors=exc.as_errors(), title=_("Permissions"),
                              **_matrix_context()), 422

            with transaction(on_refusal=refused):
                for role in services.all_roles(db):
                    if role.name == services.ADMIN_ROLE:
                        continue
                    wanted = {cell.split(":", 1)[1] for cell in checked if cell.split(":", 1)[0] == str(role.id)}
                    services.set_role_permissions(db, role, wanted)
            flash(_("The permissions are saved."), "success")
            return redirect(url_for("users.permission_matrix"))
        return render("auth/permissions.html", errors={}, title=_("Permissions"), **_matrix_context())

    @bp.post("/permissions/toggle")
    @require("core.role.manage")
    def permission_toggle():
        role = _role(request.form.get("role", type=int) or 0)
        permission = request.form.get("permission", "")
        granted = f"{role.id}:{permission}" in request.form.getlist("grant")

        def refused(exc: KontorError):
            if not is_partial_request():
                return _flashed(exc, url_for("users.permission_matrix"))
            return render("auth/_matrix_cell.html", role=role, permission=permission,
                          admin_role=services.ADMIN_ROLE, error=exc.message), 422

        with transaction(on_refusal=refused):
            (services.grant if granted else services.revoke)(db, role, permission)
        if not is_partial_request():
            return redirect(url_for("users.permission_matrix"))
        return render("auth/_matrix_cell.html", role=role, permission=permission, admin_role=services.ADMIN_ROLE)

    return bp

