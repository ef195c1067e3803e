"""JSON endpoints of the company's settings under /api/v1/company."""
from __future__ import annotations

from flask import Blueprint

from core.api.base import API_PREFIX, documented, json_object, json_response
from core.company import services
from core.company.schemas import CompanySchema
from core.db import session as db
from core.security import require
from core.web.transaction import transaction


def create_blueprint() -> Blueprint:
    """The ``api_company`` blueprint at /api/v1/company."""
    bp = Blueprint("api_company", __name__, url_prefix=f"{API_PREFIX}/company")
    schema = CompanySchema()

    @bp.get("")
    @require("core.company.read")
    @documented("The company's own settings", response=CompanySchema)
    def get_company():
        return json_response(schema.dump(services.get_company(db)))

    @bp.patch("")
    @require("core.company.manage")
    @documented("Change some of the company's settings", body=CompanySchema, response=CompanySchema)
    def patch_company():
        with transaction():
            company = services.update_company(db, json_object(), partial=True)
        return json_response(schema.dump(company))

    return bp
