"""The JSON API of users and roles: ``/api/v1/users`` and ``/api/v1/roles``."""
from __future__ import annotations

from flask import Blueprint

from core.api.base import ApiBlueprint, documented, json_response, load_body, load_query, paged
from core.auth import managers, schemas, services
from core.auth.models import User
from core.company import admin as company_admin
from core.company import services as company_services
from core.db import session as db
from core.security import require
from core.web.listing import keyset_page
from core.web.transaction import transaction



def _user(user_id: int) -> User:
    return services.get_user(db, user_id)


def _role(role_id: int):
    return services.get_role(db, role_id)


def users_blueprint() -> Blueprint:
    """``api_users``: list, create, read and change users."""
    bp = ApiBlueprint("users", __name__)

    @bp.get("")
    @require("core.user.read")
    @documented("List users", query=schemas.ListQuerySchema, response=schemas.UserSchema, many=True)
    def list_users():
        args = load_query(schemas.ListQuerySchema())
        page = keyset_page(db, services.users_query(args["q"]), sort_keys={"id": User.id}, id_column=User.id,
                           sort="id", cursor=args["after"], size=args["limit"], query=args["q"])
        return paged(page.rows, next_cursor=page.next_cursor, schema=schemas.UserSchema())

    @bp.post("")
    @require("core.user.manage")
    @documented("Create a user (the generated password is in the answer, this once)",
                body=schemas.UserCreateSchema, response=schemas.UserCreatedSchema, status=201)
    def create_user():
        data = load_body(schemas.UserCreateSchema())
        company_roles, manager_id = data.pop("company_roles"), data.pop("manager_id")
        with transaction():
            user, password = services.create_user(db, data.pop("username"), **data)
            managers.set_manager(db, user, manager_id)
            if data["companies"] is not None or company_roles:
                companies = data["companies"] if data["companies"] is not None else company_services.company_ids_of(db, user)
                company_admin.set_user_companies(db, user, companies, company_roles)
        body = schemas.UserCreatedSchema().dump(user)
        body["password"] = password
        return json_response(body, 201)

    @bp.get("/<int:user_id>")
    @require("core.user.read")
    @documented("Read a user", response=schemas.UserSchema)
    def get_user(user_id: int):
        return json_response(schemas.UserSchema().dump(_user(user_id)))

    @bp.patch("/<int:user_id>")
    @require("core.user.manage")
    @documented("Change a user (name, email, language, roles, active, the companies they work in and their "
                "roles per company)", body=schemas.UserPatchSchema,
                response=schemas.UserSchema)
    def patch_user(user_id: int):
        user = _user(user_id)
        data = load_body(schemas.UserPatchSchema(), partial=True)
        companies, company_roles = data.pop("companies", None), data.pop("company_roles", None)
        manager_given, manager_id = "manager_id" in data, data.pop("manager_id", None)
        with transaction():
            services.update_user(db, user, **data)
            if manager_given:
                managers.set_manager(db, user, manager_id)
            if companies is not None or company_roles is not None:
                if companies is None:
                    companies = company_services.company_ids_of(db, user)
                if company_roles is None:  # the roles in the companies the user keeps stay
                    company_roles = {str(k): v for k, v in company_admin.company_role_names(db, user).items()
                                     if k in companies}
                company_admin.set_user_companies(db, user, companies, company_roles)
        return json_response(schemas.UserSchema().dump(user))

    return bp


def roles_blueprint() -> Blueprint:
    """``api_roles``: list, create, read and change roles and their permissions."""
    bp = ApiBlueprint("roles", __name__)

    @bp.get("")
    @require("core.role.manage")
    @documented("List roles", response=schemas.RoleSchema, many=True)
    def list_roles():
        return json_response({"items": schemas.RoleSchema(many=True).dump(services.all_roles(db)), "next": None})

    @bp.post("")
    @require("core.role.manage")
    @documented("Create a role", body=schemas.RoleCreateSchema, response=schemas.RoleSchema, status=201)
    def create_role():
        data = load_body(schemas.RoleCreateSchema())
        with transaction():
            role = services.create_role(db, data["name"], data["title"], data["description"], data["permissions"])
        return json_response(schemas.RoleSchema().dump(role), 201)

    @bp.get("/<int:role_id>")
    @require("core.role.manage")
    @documented("Read a role", response=schemas.RoleSchema)
    def get_role(role_id: int):
        return json_response(schemas.RoleSchema().dump(_role(role_id)))

    @bp.patch("/<int:role_id>")
    @require("core.role.manage")
    @documented("Change a role; ``permissions`` replaces the set it holds", body=schemas.RolePatchSchema,
                response=schemas.RoleSchema)
    def patch_role(role_id: int):
        role = _role(role_id)
        data = load_body(schemas.RolePatchSchema(), partial=True)
        with transaction():
            services.update_role(db, role, **data)
        return json_response(schemas.RoleSchema().dump(role))

    return bp
