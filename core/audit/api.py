"""The audit log's JSON API: ``/api/v1/audit`` (search) and ``/api/v1/audit/verify``."""
from __future__ import annotations

from flask import Blueprint

from core.api.base import ApiBlueprint, documented, json_response, load_query, paged
from core.audit import services
from core.audit.schemas import AuditQuerySchema, AuditRecordSchema, VerifySchema
from core.db import session as db
from core.security import require


def create_blueprint() -> Blueprint:
    """``api_audit``: search the log with filters and cursor paging; verify the hash chain."""
    bp = ApiBlueprint("audit", __name__)

    @bp.get("")
    @require("core.audit.read")
    @documented("Search the audit log, newest first (filters: user, module, table, record_id, action, "
                "date_from, date_to; paging: after, limit)",
                query=AuditQuerySchema, response=AuditRecordSchema, many=True)
    def list_audit():
        args = load_query(AuditQuerySchema())
        page = services.list_records(db, args["filters"], after=args["after"], limit=args["limit"])
        return paged(page.rows, next_cursor=page.next_cursor, schema=AuditRecordSchema())

    @bp.get("/verify")
    @require("core.audit.read")
    @documented("Verify the audit log's hash chain", response=VerifySchema)
    def verify_audit():
        result = services.verify_chain(db)
        return json_response(VerifySchema().dump(result))

    return bp
