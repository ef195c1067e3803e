"""JSON endpoints of the group's companies: ``/api/v1/company`` (the current company) and
``/api/v1/companies`` (the companies the caller may see)."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from core.api.base import API_PREFIX, ApiBlueprint, documented, json_object, json_response, paged
from core.company import admin, services
from core.company.schemas import CompanySchema
from core.db import session as db
from core.security import has_permission, require
from core.web.transaction import transaction


def create_blueprint() -> Blueprint:
    """The ``api_company`` blueprint at /api/v1/company: the company the call works in."""
    bp = Blueprint("api_company", __name__, url_prefix=f"{API_PREFIX}/company")
    schema = CompanySchema()

    @bp.get("")
    @require("core.company.read")
    @documented("The current company's settings (the caller's current company, or the first of ?company=)",
                response=CompanySchema)
    def get_company():
        return json_response(schema.dump(services.get_company(db)))

    @bp.patch("")
    @require("core.company.manage")
    @documented("Change some of the current company's settings", body=CompanySchema, response=CompanySchema)
    def patch_company():
        with transaction():
            company = services.update_company(db, json_object(), partial=True)
        return json_response(schema.dump(company))

    return bp


def companies_blueprint() -> Blueprint:
    """The ``api_companies`` blueprint at /api/v1/companies: the group's companies."""
    bp = ApiBlueprint("companies", __name__)
    schema = CompanySchema()

    def _manager() -> bool:
        return has_permission("core.company.manage")

    @bp.get("")
    @require("core.company.read")
    @documented("List the companies the caller works in (every company of the group for core.company.manage)",
                response=CompanySchema, many=True)
    def list_companies():
        companies = admin.visible_companies(db, current_user, manager=_manager())
        return paged(companies, next_cursor=None, schema=schema)

    @bp.post("")
    @require("core.company.manage")
    @documented("Create a company; every module loads its default data for it, and the caller works in it",
                body=CompanySchema, response=CompanySchema, status=201)
    def create_company():
        with transaction():
            company = services.create_company(db, json_object(), members=[current_user._get_current_object()])
        return json_response(schema.dump(company), 201)

    @bp.get("/<int:company_id>")
    @require("core.company.read")
    @documented("Read a company the caller works in (any company for core.company.manage)", response=CompanySchema)
    def get_company(company_id: int):
        return json_response(schema.dump(admin.visible_company(db, current_user, company_id, manager=_manager())))

    @bp.patch("/<int:company_id>")
    @require("core.company.manage")
    @documented("Change some of a company's settings", body=CompanySchema, response=CompanySchema)
    def patch_company(company_id: int):
        company = admin.visible_company(db, current_user, company_id, manager=True)
        with transaction():
            services.update_company(db, json_object(), partial=True, company=company)
        return json_response(schema.dump(company))

    return bp
